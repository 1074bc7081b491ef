package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/riverqueue/river"

	"carnet/billing"
	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/notify"
	"carnet/packs"
)

// List returns a coach's anomalies, newest first; Limit+1 rows at most, so
// the caller can tell whether there are more.
func (r *Reconciler) List(ctx context.Context, coachID int64, f AnomalyFilter) ([]Anomaly, error) {
	if !anomalyStates[f.State] {
		return nil, errs.Field("state", "must be open, resolved or dismissed")
	}
	after := f.After
	if after == 0 {
		after = 1<<63 - 1
	}
	rows := []Anomaly{}
	err := db.Q(ctx, r.DB).SelectContext(ctx, &rows, `SELECT `+anomalyCols+` FROM anomalies WHERE coach_id = $1 AND id < $2
		AND ($3 = '' OR state = $3) AND ($4 = '' OR kind = $4) AND ($5 = 0 OR client_id = $5)
		ORDER BY id DESC LIMIT $6`, coachID, after, f.State, f.Kind, f.ClientID, f.Limit+1)
	return rows, err
}

// Get returns one of a coach's anomalies with its details.
func (r *Reconciler) Get(ctx context.Context, coachID, id int64) (Detail, error) {
	q := db.Q(ctx, r.DB)
	a, err := r.get(ctx, q, coachID, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Anomaly: a}
	if a.PackID != nil && strings.HasPrefix(a.Cause, "dispute:") {
		if d.Charter, d.Attendance, err = disputeEvidence(ctx, r.DB, coachID, *a.PackID); err != nil {
			return d, err
		}
		// A pack bought before agreements existed, or by the coach's own checkout, has none.
		signed, err := packs.SignedAgreement(ctx, q, coachID, 0, *a.PackID)
		switch {
		case err == nil:
			d.Agreement = &signed
		case errs.CodeOf(err) != errs.NotFound:
			return d, err
		}
	}
	if a.State == StateOpen && a.RefundingAt == nil {
		// The automatic refund is a River job scheduled when the anomaly opened.
		var at []time.Time
		if err := q.SelectContext(ctx, &at, `SELECT scheduled_at FROM river_job WHERE kind = $1
			AND args->>'anomaly_id' = $2 AND state IN ('scheduled', 'available', 'retryable', 'pending')
			ORDER BY scheduled_at LIMIT 1`, RefundArgs{}.Kind(), a.ID); err != nil {
			return d, err
		}
		if len(at) == 1 {
			d.AutoRefund = &at[0]
		}
	}
	return d, nil
}

// Decide is the coach closing an open anomaly (resolved or dismissed), with
// a note saying why; a pending automatic refund then stops.
func (r *Reconciler) Decide(ctx context.Context, coachID, id int64, state, note string) (Anomaly, error) {
	if state != StateResolved && state != StateDismissed {
		return Anomaly{}, errs.Field("state", "must be resolved or dismissed")
	}
	if note = strings.TrimSpace(note); note == "" || len(note) > 500 {
		return Anomaly{}, errs.Field("note", "say why (at most 500 characters)")
	}
	err := db.InTx(ctx, r.DB, func(tx *sqlx.Tx) error {
		a, err := r.get(ctx, tx, coachID, id)
		if err != nil {
			return err
		}
		if a.State != StateOpen {
			return errs.New(errs.Conflict, "anomaly %d is already %s", id, a.State)
		}
		return r.close(ctx, tx, a, state, "coach", note, r.Now().UTC(), true)
	})
	if err != nil {
		return Anomaly{}, err
	}
	// Within an API request's transaction, the answer reads its own change.
	return r.get(ctx, db.Q(ctx, r.DB), coachID, id)
}

// anomalyCols is what this binary reads of an anomaly (never `*`: see db.Columns).
var anomalyCols = db.Columns[Anomaly]("")

// partyColumns are the coach's language and time zone, for every query that loads a party.
const partyColumns = "coach_locale(co.id) AS coach_locale, co.timezone AS coach_tz"

// loadPlan reads a pack's plan and party in one statement: the installments
// and payments come as JSON arrays whose keys are Expected's and Observed's
// field names (one round trip, not three, while the pack is locked), with
// whether the pack has an open anomaly.
func loadPlan(ctx context.Context, tx *sqlx.Tx, packID int64) (loaded, error) {
	var p Plan
	var row struct {
		AnyOpen      bool         `db:"any_open"`
		Plan         string       `db:"plan"`
		Status       packs.Status `db:"status"`
		Remaining    int          `db:"sessions_remaining"`
		Grace        int          `db:"grace_days"`
		Written      int          `db:"written_off"`
		Installments []byte       `db:"installments"`
		Payments     []byte       `db:"payments"`
		party
	}
	err := tx.GetContext(ctx, &row, `SELECT p.plan, p.status, p.sessions_remaining, coalesce(cv.grace_days, 7) AS grace_days,
		(SELECT coalesce(-sum(delta), 0) FROM ledger_entries WHERE pack_id = p.id AND kind = 'refund_reversal') AS written_off,
		(SELECT json_agg(json_build_object('ID', id, 'Seq', seq, 'DueAt', due_at, 'Amount', amount, 'Currency', currency,
			'Status', status) ORDER BY seq) FROM installments WHERE pack_id = p.id) AS installments,
		(SELECT json_agg(json_build_object('ID', id, 'Kind', kind, 'Status', status, 'Amount', amount, 'Currency', currency,
			'InstallmentID', installment_id, 'ObjectID', stripe_object_id, 'Charge', stripe_charge_id,
			'Intent', stripe_payment_intent_id, 'At', occurred_at) ORDER BY occurred_at, id) FROM payments WHERE pack_id = p.id) AS payments,
		EXISTS (SELECT 1 FROM anomalies WHERE pack_id = p.id AND state = 'open') AS any_open,
		p.coach_id, p.client_id, co.email AS coach_email, co.name AS coach_name, c.email AS client_email,
		c.name AS client_name, c.locale, o.name AS offer, p.currency, coalesce(cv.auto_refund_excess, false) AS auto_refund,
		`+partyColumns+`
		FROM packs p JOIN coaches co ON co.id = p.coach_id JOIN clients c ON c.id = p.client_id
		JOIN offers o ON o.id = p.offer_id LEFT JOIN charter_versions cv ON cv.id = p.charter_version_id
		WHERE p.id = $1`, packID)
	if err != nil {
		return loaded{}, err
	}
	p = Plan{PackID: packID, Plan: row.Plan, Status: row.Status, Remaining: row.Remaining, WrittenOff: row.Written, GraceDays: row.Grace}
	// No rows: NULL, and the list stays nil as a query's would.
	for _, l := range []struct {
		src []byte
		dst any
	}{{row.Installments, &p.Installments}, {row.Payments, &p.Payments}} {
		if l.src != nil {
			if err := json.Unmarshal(l.src, l.dst); err != nil {
				return loaded{}, fmt.Errorf("pack %d plan: %w", packID, err)
			}
		}
	}
	return loaded{plan: p, who: row.party, anyOpen: row.AnyOpen}, nil
}

// EndIfReversed ends the pack when its refunds and disputes say so (Ends).
// Billing runs it, through the wiring, where it records a refund, a dispute
// or the charge they reverse, so that the rest of the event sees the pack
// as it now is; the caller holds the pack's row lock.
func (r *Reconciler) EndIfReversed(ctx context.Context, tx *sqlx.Tx, packID int64) error {
	l, err := loadPlan(ctx, tx, packID)
	if err != nil {
		return err
	}
	end, ok := Ends(l.plan)
	if !ok {
		// Within an event this is the pack as the effect leaves it: the
		// event's check (CheckLocked) takes it instead of reading it again.
		billing.TouchedOf(ctx).Keep(packID, l)
		return nil
	}
	return r.Billing.EndReversed(ctx, tx, packID, l.plan.Plan, end.Reason, end.At)
}

// loaded is a plan and its party, as loadPlan read them. anyOpen: the pack
// had an open anomaly; only CheckLocked opens one with a pack, under the
// pack's lock, so without one and nothing found there is nothing to close.
type loaded struct {
	plan    Plan
	who     party
	anyOpen bool
}

// OpenUnmatched opens an anomaly for each payment that belongs to no pack
// (see openUnmatched), in the caller's transaction.
func (r *Reconciler) OpenUnmatched(ctx context.Context, tx *sqlx.Tx) error {
	return openUnmatched(ctx, tx, baseURL(r.Billing), r.Now().UTC(), nil)
}

// OpenUnmatchedOf is OpenUnmatched for the payments one event wrote (by
// their Stripe object ids): only they can have become unmatched, paired or
// linked by it, so its cost does not grow with every payment ever received.
// A payment unpaired past its window is the sweep's (CheckDue).
func (r *Reconciler) OpenUnmatchedOf(ctx context.Context, tx *sqlx.Tx, objectIDs []string) error {
	if len(objectIDs) == 0 {
		return nil
	}
	return openUnmatched(ctx, tx, baseURL(r.Billing), r.Now().UTC(), objectIDs)
}

// CheckDue runs the rules on every live plan with an installment past due,
// which is how a missed installment is found with no webhook at all, each
// pack in its own transaction; then opens what is unmatched.
func (r *Reconciler) CheckDue(ctx context.Context) error {
	var ids []int64
	if err := r.DB.SelectContext(ctx, &ids, `SELECT DISTINCT i.pack_id FROM installments i JOIN packs p ON p.id = i.pack_id
		WHERE i.status IN ('due', 'failed') AND i.due_at <= $1 AND p.status NOT IN `+packs.StatusSQL(packs.StatusPending, packs.StatusCancelled), r.Now().UTC()); err != nil {
		return err
	}
	for _, id := range ids {
		if err := db.InTx(ctx, r.DB, func(tx *sqlx.Tx) error { return r.CheckPack(ctx, tx, id) }); err != nil {
			return err
		}
	}
	// A payment left unpaired past its window is unmatched even if no
	// event comes after it.
	return db.InTx(ctx, r.DB, func(tx *sqlx.Tx) error { return r.OpenUnmatched(ctx, tx) })
}

// CheckPack runs the rules on one pack inside the caller's transaction:
// opens what is new (once per cause), and closes what has put itself right.
func (r *Reconciler) CheckPack(ctx context.Context, tx *sqlx.Tx, packID int64) error {
	// The pack's lock orders this check after any event being applied to
	// it (the sweep runs its own transactions).
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM packs WHERE id = $1 FOR UPDATE`, packID); err != nil {
		return err
	}
	return r.CheckLocked(ctx, tx, packID)
}

// CheckLocked is CheckPack for a caller that already holds the pack's row
// lock in tx (an event's effects lock each pack they touch), so the pack is
// locked once per event. The plan the event's reversal check kept is used
// instead of reading it again.
func (r *Reconciler) CheckLocked(ctx context.Context, tx *sqlx.Tx, packID int64) error {
	now := r.Now().UTC()
	kept, _ := billing.TouchedOf(ctx).Kept(packID)
	l, ok := kept.(loaded)
	if !ok {
		var err error
		if l, err = loadPlan(ctx, tx, packID); err != nil {
			return err
		}
	}
	plan, who := l.plan, l.who
	findings := Detect(plan, now)
	if len(findings) == 0 && !l.anyOpen {
		return nil // nothing to open, nothing open to close
	}
	found := map[string]bool{}
	for _, f := range findings {
		found[f.Cause] = true
		if due, ok := f.Evidence["due_at"].(time.Time); ok && f.Kind == KindMissed {
			// One rule for overdue: an installment unpaid past its due date,
			// declined or never attempted, makes the pack overdue as of that
			// date; its sessions pause once the grace days are over.
			if err := packs.MarkOverdue(ctx, tx, packID, due); err != nil {
				return err
			}
		}
		if err := r.open(ctx, tx, &who, plan.Plan, plan.Status, packID, f, now); err != nil {
			return err
		}
	}
	var open []Anomaly
	if err := tx.SelectContext(ctx, &open, `SELECT `+anomalyCols+` FROM anomalies WHERE pack_id = $1 AND state = 'open' FOR UPDATE`, packID); err != nil {
		return err
	}
	for _, a := range open {
		if a.Kind == KindRefundDispute {
			// A dispute the bank ruled on is over (its evidence, updated
			// above, says how); the pack's end already told the client.
			var ev struct{ What, Status string }
			_ = json.Unmarshal(a.Evidence, &ev)
			if ev.What == "dispute" && DisputeDecided(ev.Status) {
				if err := r.close(ctx, tx, a, StateResolved, "carnet", "the dispute was "+ev.Status, now, false); err != nil {
					return err
				}
			}
			continue
		}
		if SelfResolving[a.Kind] && !found[a.Cause] {
			// A plan that ended expects nothing more: the client, who was
			// told when it ended, is not told all is back to normal.
			why, tell := "the payment came in", true
			if packs.Ended(plan.Status) {
				why, tell = "the plan ended", false
			}
			if err := r.close(ctx, tx, a, StateResolved, "carnet", why, now, tell); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *Reconciler) open(ctx context.Context, tx *sqlx.Tx, who *party, plan string, status packs.Status, packID int64, f Finding, now time.Time) error {
	evidence, _ := json.Marshal(f.Evidence)
	refunds, _ := json.Marshal(f.Refunds)
	// One anomaly per cause: a known one that is still open takes the newest
	// evidence (a third charge joins the night's two); a closed one stays closed.
	var rows []struct {
		ID       int64 `db:"id"`
		Inserted bool  `db:"inserted"`
	}
	if err := tx.SelectContext(ctx, &rows, `INSERT INTO anomalies (coach_id, pack_id, client_id, kind, cause_key, evidence,
		excess_amount, currency, refunds, opened_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
		ON CONFLICT (cause_key) DO UPDATE SET evidence = excluded.evidence, excess_amount = excluded.excess_amount,
			refunds = excluded.refunds, updated_at = excluded.updated_at
			WHERE anomalies.state = 'open' AND anomalies.refunding_at IS NULL
		RETURNING id, (xmax = 0) AS inserted`,
		who.CoachID, packID, who.ClientID, f.Kind, f.Cause, evidence, f.Excess, who.Currency, refunds, now); err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil // closed, or its refund under way: what was told stands
	}
	id := rows[0].ID
	msgs := anomalyMessages(baseURL(r.Billing), who, plan, status, id, f)
	if !rows[0].Inserted {
		// Known and still open: its facts may have grown (a third charge
		// joins the night's two). What is not sent yet says them now; what
		// was sent is followed by an update.
		for _, m := range msgs {
			if err := notify.Revise(ctx, tx, m, fmt.Sprintf("anomaly:%d:updated:%s:", id, m.To), now); err != nil {
				return err
			}
		}
		return nil
	}
	// Installments collected at once come in bursts: the messages wait as
	// long as the refund does, and state the burst as it ended.
	var hold time.Time
	if f.Kind == KindAtOnce {
		hold = now.Add(RefundSettle)
	}
	for _, m := range msgs {
		m.NotBefore = hold
		if err := notify.Enqueue(ctx, tx, m); err != nil {
			return err
		}
	}
	if f.Excess > 0 && who.AutoRefund && r.Billing != nil && r.Billing.Jobs != nil {
		_, err := r.Billing.Jobs.InsertTx(ctx, tx.Tx, RefundArgs{AnomalyID: id}, &river.InsertOpts{
			ScheduledAt: now.Add(RefundSettle), UniqueOpts: river.UniqueOpts{ByArgs: true}})
		return err
	}
	return nil
}

// close ends an anomaly and, when resolved and tell, tells the client that
// all is back to normal.
func (r *Reconciler) close(ctx context.Context, tx *sqlx.Tx, a Anomaly, state, by, why string, now time.Time, tell bool) error {
	if _, err := tx.ExecContext(ctx, `UPDATE anomalies SET state = $2, resolved_by = $3, resolution = $4,
		closed_at = $5, updated_at = $5 WHERE id = $1 AND state = 'open'`, a.ID, state, by, why, now); err != nil {
		return err
	}
	if state != StateResolved || !tell || a.PackID == nil {
		return nil
	}
	var who party
	if err := tx.GetContext(ctx, &who, `SELECT p.coach_id, p.client_id, c.email AS client_email, c.name AS client_name,
		c.locale, co.name AS coach_name, co.email AS coach_email, o.name AS offer, p.currency, false AS auto_refund,
		`+partyColumns+`
		FROM packs p JOIN clients c ON c.id = p.client_id JOIN coaches co ON co.id = p.coach_id
		JOIN offers o ON o.id = p.offer_id WHERE p.id = $1`, *a.PackID); err != nil {
		return err
	}
	return notify.Enqueue(ctx, tx, notify.Message{CoachID: who.CoachID, ClientID: &who.ClientID,
		Cause: fmt.Sprintf("anomaly:%d:resolved:client", a.ID), Template: notify.AnomalyResolved, Locale: who.Locale,
		To: who.ClientEmail, Data: map[string]any{"ClientName": who.ClientName, "CoachName": who.CoachName,
			"OfferName": who.Offer, "Kind": a.Kind, "Resolution": why}})
}

// openUnmatched raises an anomaly for each payment that belongs to no pack
// (an unpaired one once it has waited billing.PairWindow for its invoice).
// A payment by a known Stripe customer is shown and told to that client's
// coach, who decides; the client is not written to about money that may
// not even be theirs to explain.
func openUnmatched(ctx context.Context, tx *sqlx.Tx, base string, now time.Time, objectIDs []string) error {
	// Scoped to some payments (an event's), each statement starts from them
	// through the payments' and the anomalies' unique keys; unscoped (the
	// sweep), from every open unmatched anomaly and every unlinked payment.
	// Two texts rather than one with an optional filter, so that each keeps
	// its own plan once prepared.
	scope, linked, args := "", "p.id = (a.evidence->>'payment_id')::bigint", []any{KindUnmatched, now}
	if objectIDs != nil {
		scope = " AND p.stripe_object_id = ANY($3)"
		linked = "a.cause_key = 'unmatched:' || p.stripe_object_id AND " + linked + scope
		args = append(args, pq.Array(objectIDs))
	}
	// One statement, so an event's check is one round trip: the two
	// closings and the opening are data-modifying CTEs. A payment its
	// invoice claimed after all (a delivery late by more than the window)
	// was never unmatched; nor was one that found its pack once Carnet knew
	// the pack (an invoice paid before its checkout completed), unless
	// paired (the first closing's: the CTEs see one snapshot, so the second
	// leaves it out); one being refunded stays as it is. The opening reads
	// who is told of each: a payment by no known client is listed for
	// whoever runs Carnet. It is disjoint from the closings (it only
	// inserts, for payments without an anomaly).
	var opened []struct {
		ID       int64           `db:"id"`
		Evidence json.RawMessage `db:"evidence"`
		Excess   int64           `db:"excess_amount"`
		party
	}
	window := "$" + fmt.Sprint(len(args)+1)
	if err := tx.SelectContext(ctx, &opened, `WITH paired AS (UPDATE anomalies a SET state = 'resolved', resolved_by = 'carnet',
		resolution = 'paired with its invoice', closed_at = $2, updated_at = $2
		FROM payments p WHERE a.kind = $1 AND a.state = 'open' AND `+linked+`
			AND p.status = 'paired' RETURNING a.id),
	linked AS (UPDATE anomalies a SET state = 'resolved', resolved_by = 'carnet',
		resolution = 'linked to its pack', coach_id = k.coach_id, pack_id = k.id, client_id = k.client_id,
		closed_at = $2, updated_at = $2
		FROM payments p JOIN packs k ON k.id = p.pack_id WHERE a.kind = $1 AND a.state = 'open' AND a.refunding_at IS NULL
			AND `+linked+` AND p.status <> 'paired' RETURNING a.id),
	opened AS (INSERT INTO anomalies (coach_id, client_id, kind, cause_key,
		evidence, excess_amount, currency, refunds, opened_at, updated_at)
		SELECT c.coach_id, c.id, $1, 'unmatched:' || p.stripe_object_id,
			jsonb_build_object('payment_id', p.id, 'stripe_id', p.stripe_object_id, 'amount', p.amount,
				'currency', p.currency, 'at', p.occurred_at, 'customer', p.stripe_customer_id),
			p.amount, p.currency, jsonb_build_array(jsonb_build_object('payment_id', p.id, 'amount', p.amount)), $2, $2
		FROM payments p LEFT JOIN clients c ON c.stripe_customer_id = p.stripe_customer_id
		WHERE (p.status = 'unmatched' OR (p.status = 'unpaired' AND p.occurred_at <= `+window+`)) AND p.pack_id IS NULL`+scope+`
			AND NOT EXISTS (SELECT 1 FROM anomalies a WHERE a.cause_key = 'unmatched:' || p.stripe_object_id)
		ON CONFLICT (cause_key) DO NOTHING
		RETURNING id, client_id, evidence, excess_amount, currency)
		SELECT o.id, o.evidence, o.excess_amount, o.currency, c.coach_id, c.id AS client_id, co.email AS coach_email,
			co.name AS coach_name, c.email AS client_email, c.name AS client_name, c.locale, '' AS offer,
			false AS auto_refund, `+partyColumns+`
		FROM opened o JOIN clients c ON c.id = o.client_id JOIN coaches co ON co.id = c.coach_id
		ORDER BY o.id`, append(args, now.Add(-billing.PairWindow))...); err != nil {
		return err
	}
	for _, a := range opened {
		n := news{ID: a.ID, Kind: KindUnmatched, Evidence: a.Evidence, Excess: a.Excess, WhatWeDo: "unmatched"}
		if err := notify.Enqueue(ctx, tx, coachNews(base, &a.party, n)); err != nil {
			return err
		}
	}
	return nil
}

// RefundExcess gives an open anomaly's excess back through Stripe, once,
// then resolves it. coachID 0 means any coach (the job); otherwise the
// anomaly must be that coach's. The refunds are claimed first, in one
// transaction that freezes the anomaly's plan and records Carnet's remedy;
// only then is Stripe called, one refund per payment, each keyed by the
// anomaly and the payment, so a retry refunds only what is left. Callers
// take turns per anomaly (the coach's request, its retry on another
// process, the automatic job): the next one finds the refund recorded and
// returns it, and Stripe is called once.
func (r *Reconciler) RefundExcess(ctx context.Context, coachID, id int64, by string) (Anomaly, error) {
	release, err := db.Exclusive(ctx, r.DB, "anomaly refund", id)
	if err != nil {
		return Anomaly{}, err
	}
	defer release()
	// The claims and records commit on their own, whatever becomes of the
	// request this runs in: a charge.refunded arriving before the request
	// ends must find Carnet's remedy.
	ctx = db.Detach(ctx)
	a, err := r.get(ctx, r.DB, coachID, id)
	if err != nil {
		return a, err
	}
	var plan []Refund
	if err := json.Unmarshal(a.Refunds, &plan); err != nil {
		return a, fmt.Errorf("anomaly %d refunds: %w", id, err)
	}
	switch {
	case a.State != StateOpen && a.RefundID != nil:
		return a, nil // already refunded: a retry
	case a.State != StateOpen:
		return a, errs.New(errs.Conflict, "anomaly %d is %s", id, a.State)
	case a.Excess <= 0 || len(plan) == 0:
		return a, errs.New(errs.Conflict, "anomaly %d has no excess to refund", id)
	}
	if a.RefundingAt == nil {
		for _, rf := range plan {
			if err := r.Billing.ResolveCharge(ctx, rf.PaymentID); err != nil {
				return a, err
			}
		}
		if err := db.InTx(ctx, r.DB, func(tx *sqlx.Tx) error { return r.ClaimRefunds(ctx, tx, id) }); err != nil {
			return r.refundedMeanwhile(ctx, coachID, a, err)
		}
	}
	var claims []struct {
		PaymentID int64     `db:"payment_id"`
		Amount    int64     `db:"amount"`
		ClaimedAt time.Time `db:"claimed_at"`
	}
	if err := r.DB.SelectContext(ctx, &claims, `SELECT payment_id, amount, claimed_at FROM anomaly_refunds
		WHERE anomaly_id = $1 AND done_at IS NULL ORDER BY payment_id`, id); err != nil {
		return a, err
	}
	for _, c := range claims {
		refundID, err := r.Billing.RefundExcess(ctx, c.PaymentID, c.Amount, refundCause(id, c.PaymentID), c.ClaimedAt)
		if errs.CodeOf(err) == errs.Conflict {
			// Stripe refused: this money was not given back, so the claim
			// and its remedy row go, and the anomaly stays open.
			return a, errors.Join(err, db.InTx(ctx, r.DB, func(tx *sqlx.Tx) error { return r.releaseClaim(ctx, tx, id, c.PaymentID) }))
		}
		if err != nil {
			return a, err
		}
		err = db.InTx(ctx, r.DB, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE anomaly_refunds SET stripe_refund_id = $3, done_at = $4
				WHERE anomaly_id = $1 AND payment_id = $2`, id, c.PaymentID, refundID, r.Now().UTC()); err != nil || a.Kind != KindAtOnce {
				return err
			}
			return r.Billing.ReopenInstallment(ctx, tx, c.PaymentID, c.Amount)
		})
		if err != nil {
			return a, err
		}
	}
	err = db.InTx(ctx, r.DB, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE anomalies SET stripe_refund_id = (SELECT stripe_refund_id FROM anomaly_refunds
			WHERE anomaly_id = $1 ORDER BY done_at DESC, payment_id DESC LIMIT 1) WHERE id = $1`, id); err != nil {
			return err
		}
		return r.close(ctx, tx, a, StateResolved, by, "excess refunded", r.Now().UTC(), true)
	})
	if err != nil {
		return r.refundedMeanwhile(ctx, coachID, a, err)
	}
	return r.get(ctx, r.DB, coachID, id)
}

// refundedMeanwhile answers a try that lost the race to a concurrent one
// (the coach's click and the automatic job): when that one refunded and
// resolved the anomaly, this try is a retry of it and succeeds the same.
func (r *Reconciler) refundedMeanwhile(ctx context.Context, coachID int64, a Anomaly, err error) (Anomaly, error) {
	if errs.CodeOf(err) == errs.Conflict {
		if now, gerr := r.get(ctx, r.DB, coachID, a.ID); gerr == nil && now.State != StateOpen && now.RefundID != nil {
			return now, nil
		}
	}
	return a, err
}

// releaseClaim gives up a refund Stripe refused and unfreezes the anomaly,
// so that the next try claims what is still to refund (the claims done
// stay done) instead of closing it as refunded.
func (r *Reconciler) releaseClaim(ctx context.Context, tx *sqlx.Tx, id, paymentID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM anomaly_refunds WHERE anomaly_id = $1 AND payment_id = $2`, id, paymentID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM payments WHERE kind = 'refund' AND status = 'remedy'
		AND stripe_object_id = 'remedy:' || $1`, refundCause(id, paymentID)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE anomalies SET refunding_at = NULL WHERE id = $1`, id)
	return err
}

// ClaimRefunds freezes an open anomaly's refund plan and claims each
// payment's part, never more than what the payment has left after the
// refunds other anomalies claimed from it.
func (r *Reconciler) ClaimRefunds(ctx context.Context, tx *sqlx.Tx, id int64) error {
	var a struct {
		State       string          `db:"state"`
		RefundingAt *time.Time      `db:"refunding_at"`
		Refunds     json.RawMessage `db:"refunds"`
	}
	if err := tx.GetContext(ctx, &a, `SELECT state, refunding_at, refunds FROM anomalies WHERE id = $1 FOR UPDATE`, id); err != nil {
		return err
	}
	switch {
	case a.State != StateOpen:
		return errs.New(errs.Conflict, "anomaly %d is %s", id, a.State)
	case a.RefundingAt != nil:
		return nil // claimed by an earlier try
	}
	now := r.Now().UTC()
	if _, err := tx.ExecContext(ctx, `UPDATE anomalies SET refunding_at = $2 WHERE id = $1`, id, now); err != nil {
		return err
	}
	var plan []Refund
	if err := json.Unmarshal(a.Refunds, &plan); err != nil {
		return fmt.Errorf("anomaly %d refunds: %w", id, err)
	}
	for _, rf := range plan {
		left, err := r.Billing.PaymentLeft(ctx, tx, rf.PaymentID)
		if err != nil {
			return err
		}
		if amount := min(rf.Amount, left); amount > 0 {
			res, err := tx.ExecContext(ctx, `INSERT INTO anomaly_refunds (anomaly_id, payment_id, amount, claimed_at)
				VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, id, rf.PaymentID, amount, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // claimed by an earlier try
			}
			if err := r.Billing.ClaimRemedy(ctx, tx, rf.PaymentID, amount, refundCause(id, rf.PaymentID)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *Reconciler) get(ctx context.Context, q sqlx.QueryerContext, coachID, id int64) (Anomaly, error) {
	var a Anomaly
	err := sqlx.GetContext(ctx, q, &a, `SELECT `+anomalyCols+` FROM anomalies WHERE id = $1 AND ($2 = 0 OR coach_id = $2)`, id, coachID)
	if db.NoRows(err) {
		return a, errs.NotFoundf("no anomaly %d", id)
	}
	return a, err
}

// disputeEvidence is what a coach sends Stripe to contest a dispute: the
// charter version accepted at checkout and every session the pack paid for.
func disputeEvidence(ctx context.Context, d *sqlx.DB, coachID, packID int64) (any, any, error) {
	var charter []map[string]any
	var attendance []map[string]any
	rows, err := d.QueryxContext(ctx, `SELECT cv.version, cv.notice_hours, cv.late_cancel_action, cv.no_show_action,
		cv.created_at AS published_at, coalesce(p.terms_accepted_at, p.activated_at) AS accepted_at,
		p.terms_accepted_at IS NOT NULL AS terms_consent_at_checkout
		FROM packs p JOIN charter_versions cv ON cv.id = p.charter_version_id WHERE p.id = $1 AND p.coach_id = $2`, packID, coachID)
	if err != nil {
		return nil, nil, err
	}
	charter, err = scanMaps(rows)
	if err != nil {
		return nil, nil, err
	}
	rows, err = d.QueryxContext(ctx, `SELECT s.starts_at, s.duration_minutes, b.outcome, b.outcome_at, b.announced_at, e.kind AS ledger, e.delta,
		b.client_confirmed_at
		FROM ledger_entries e JOIN bookings b ON b.id = e.booking_id JOIN sessions s ON s.id = b.session_id
		WHERE e.pack_id = $1 AND e.coach_id = $2 ORDER BY s.starts_at`, packID, coachID)
	if err != nil {
		return nil, nil, err
	}
	attendance, err = scanMaps(rows)
	var ch any
	if len(charter) == 1 {
		ch = charter[0]
	}
	if attendance == nil {
		attendance = []map[string]any{}
	}
	return ch, attendance, err
}

func scanMaps(rows *sqlx.Rows) ([]map[string]any, error) {
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		m := map[string]any{}
		if err := rows.MapScan(m); err != nil {
			return nil, err
		}
		for k, v := range m {
			if b, ok := v.([]byte); ok {
				m[k] = string(b)
			}
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
