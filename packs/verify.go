package packs

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/db"
)

// Problem is one row that breaks a ledger invariant.
type Problem struct {
	Rule string
	Row  string
}

func (p Problem) String() string { return p.Rule + ": " + p.Row }

// invariants are the ledger's promises, each a query returning the rows
// that break it.
var invariants = []struct{ rule, query string }{
	{"pack balance differs from its ledger", `SELECT format('pack %s (coach %s): remaining %s, ledger says %s',
		p.id, p.coach_id, p.sessions_remaining, coalesce(sum(e.delta), 0))
		FROM packs p LEFT JOIN ledger_entries e ON e.pack_id = p.id
		GROUP BY p.id HAVING p.sessions_remaining <> coalesce(sum(e.delta), 0)`},
	{"negative balance", `SELECT format('pack %s (coach %s): remaining %s', id, coach_id, sessions_remaining)
		FROM packs WHERE sessions_remaining < 0`},
	{"booking charged more than once", `SELECT format('booking %s: %s charges', booking_id, count(*))
		FROM ledger_entries WHERE kind IN ('attended', 'no_show', 'late_cancel') AND booking_id IS NOT NULL
		GROUP BY booking_id HAVING count(*) > 1`},
	{"booking waived more than once", `SELECT format('booking %s: %s waivers', booking_id, count(*))
		FROM ledger_entries WHERE kind = 'waiver' GROUP BY booking_id HAVING count(*) > 1`},
	{"ledger entry crosses tenants", `SELECT format('entry %s: coach %s, pack of coach %s', e.id, e.coach_id, p.coach_id)
		FROM ledger_entries e JOIN packs p ON p.id = e.pack_id WHERE p.coach_id <> e.coach_id OR p.client_id <> e.client_id`},
	{"exhausted pack with sessions", `SELECT format('pack %s: exhausted with %s left', id, sessions_remaining)
		FROM packs WHERE status = 'exhausted' AND sessions_remaining > 0`},
	// Exactly once: unique indexes refuse these; the rules name them where
	// an index is missing (a restored or hand-edited database).
	{"request applied more than once", `SELECT format('request %s: %s row %s written %s times', request_ref, t, request_seq, n)
		FROM (SELECT 'ledger' AS t, request_ref, request_seq, count(*) AS n FROM ledger_entries
		        WHERE request_ref IS NOT NULL GROUP BY request_ref, request_seq
		      UNION ALL SELECT 'payment', request_ref, request_seq, count(*) FROM payments
		        WHERE request_ref IS NOT NULL GROUP BY request_ref, request_seq
		      UNION ALL SELECT 'notification', request_ref, request_seq, count(*) FROM notifications
		        WHERE request_ref IS NOT NULL GROUP BY request_ref, request_seq) x WHERE n > 1`},
	// A request's effects commit with its answer: within the 24 hours a key
	// lives, an effect whose request stored no answer was committed apart.
	{"request effect without its answer", `SELECT format('%s %s: request %s has no stored answer', t, id, request_ref)
		FROM (SELECT 'payment' AS t, id, request_ref, created_at FROM payments WHERE request_ref IS NOT NULL
		      UNION ALL SELECT 'notification', id, request_ref, created_at FROM notifications WHERE request_ref IS NOT NULL) x
		WHERE created_at > now() - interval '23 hours' AND NOT EXISTS (SELECT 1 FROM idempotency_keys k
			WHERE k.request_ref = x.request_ref AND k.status IS NOT NULL)`},
}

// Verify checks every invariant on a live database and names each offending row.
func Verify(ctx context.Context, d *sqlx.DB) ([]Problem, error) {
	var problems []Problem
	for _, inv := range invariants {
		var rows []string
		if err := d.SelectContext(ctx, &rows, inv.query); err != nil {
			return nil, fmt.Errorf("%s: %w", inv.rule, err)
		}
		for _, r := range rows {
			problems = append(problems, Problem{Rule: inv.rule, Row: r})
		}
	}
	return problems, nil
}

// ExpiryGrace is how long after its validity ends a pack is written off. A
// pack stops paying for sessions that start after valid_until at once; the
// grace only lets a coach still mark sessions held before the end.
const ExpiryGrace = 72 * time.Hour

// ExpireDue moves every pack whose validity ended more than ExpiryGrace ago
// to expired, writing off its remaining sessions as an expiry entry. Safe to
// run from many processes at once: each pack is taken under a row lock and
// skipped if another process holds it, and only still-live packs are touched.
func ExpireDue(ctx context.Context, d *sqlx.DB, now time.Time) (int, error) {
	n := 0
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		var due []Pack
		if err := tx.SelectContext(ctx, &due, `SELECT `+packCols+` FROM packs WHERE status = ANY($2)
			AND valid_until <= $1 ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED`, now.Add(-ExpiryGrace),
			pq.Array(MovableTo(StatusExpired))); err != nil {
			return err
		}
		for _, p := range due {
			if p.SessionsRemaining > 0 {
				if err := addEntry(ctx, tx, entry{CoachID: p.CoachID, ClientID: p.ClientID, PackID: p.ID,
					Kind: "expiry", Delta: -p.SessionsRemaining, Reason: "validity ended", At: now}); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE packs SET status = $3, sessions_remaining = 0,
				updated_at = $2 WHERE id = $1 AND status = ANY($4)`, p.ID, now, StatusExpired,
				pq.Array(MovableTo(StatusExpired))); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
