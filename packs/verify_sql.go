package packs

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// invariants are the ledger's promises, each a query returning the rows
// that break it.
var invariants = []struct{ rule, query string }{
	{"pack balance differs from its ledger", `SELECT format('pack %s (coach %s): remaining %s, ledger says %s',
		p.id, p.coach_id, p.sessions_remaining, coalesce(sum(e.delta), 0))
		FROM packs p LEFT JOIN ledger_entries e ON e.pack_id = p.id
		GROUP BY p.id HAVING p.sessions_remaining <> coalesce(sum(e.delta), 0)`},
	// What the reports' trigger reads instead of summing the ledger (00046).
	{"pack's running sum differs from its ledger", `SELECT format('pack %s: running sum %s, ledger says %s',
		pack_id, coalesce(s.delta_sum, 0), coalesce(l.total, 0))
		FROM (SELECT pack_id, sum(delta) AS total FROM ledger_entries WHERE pack_id IS NOT NULL GROUP BY pack_id) l
		FULL JOIN pack_ledger_sums s USING (pack_id) WHERE coalesce(s.delta_sum, 0) <> coalesce(l.total, 0)`},
	// What the reports' outcome trigger orders a client's bookings by (00047).
	{"booking's session start differs from its session's", `SELECT format('booking %s: start %s, session %s starts %s',
		b.id, b.session_starts_at, s.id, s.starts_at)
		FROM bookings b JOIN sessions s ON s.id = b.session_id WHERE b.session_starts_at IS DISTINCT FROM s.starts_at`},
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
		FROM packs WHERE status IN ` + StatusSQL(StatusExhausted) + ` AND sessions_remaining > 0`},
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
