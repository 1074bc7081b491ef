package billing

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stripe/stripe-go/v76"

	"carnet/internal/db"
	"carnet/notify"
	"carnet/packs"
)

// findPack locks the pack named by any of the references, in this order:
// the Stripe object id we stored, then the pack id we put in metadata.
func findPack(ctx context.Context, tx *sqlx.Tx, column, stripeID string, meta map[string]string) (*packRef, error) {
	var refs []packRef
	if stripeID != "" {
		if err := tx.SelectContext(ctx, &refs, `SELECT id, coach_id, client_id, plan, status, stripe_subscription_id
			FROM packs WHERE `+column+` = $1 FOR UPDATE`, stripeID); err != nil {
			return nil, err
		}
	}
	if id, err := strconv.ParseInt(meta["carnet_pack_id"], 10, 64); len(refs) == 0 && err == nil {
		if err := tx.SelectContext(ctx, &refs, `SELECT id, coach_id, client_id, plan, status, stripe_subscription_id
			FROM packs WHERE id = $1 FOR UPDATE`, id); err != nil {
			return nil, err
		}
	}
	if len(refs) == 0 {
		return nil, nil
	}
	touch(ctx, refs[0].ID)
	return &refs[0], nil
}

// linkPack is findPack for an effect that links the pack to what Stripe
// says (set: each column and its new value, with arguments from $3): one
// statement finds the pack, locks it and links it, where a lock, an update
// and a read again were three round trips, and returns what activating it
// needs (packs.ActivationCols). A pack already linked so is not written
// again (the second event of a checkout finds it so). Column values are
// unique, so the pack found is findPack's. When unless (an SQL condition
// over the same arguments, checked in the same statement) holds, nothing is
// found or locked, and skipped is true.
func linkPack(ctx context.Context, tx *sqlx.Tx, column, stripeID string, meta map[string]string, unless string,
	set [][2]string, args ...any) (p *packRef, skipped bool, err error) {
	var metaID *int64
	if id, err := strconv.ParseInt(meta["carnet_pack_id"], 10, 64); err == nil {
		metaID = &id
	}
	var assign, cols, values []string
	for _, cv := range set {
		assign = append(assign, cv[0]+" = "+cv[1])
		cols, values = append(cols, cv[0]), append(values, cv[1])
	}
	var refs []struct {
		Skipped bool `db:"skipped"`
		packRef
	}
	// The row the lock returns is the one the update starts from (a
	// concurrent change waited for is re-read by both), and linking changes
	// none of the columns returned.
	if err := tx.SelectContext(ctx, &refs, `WITH skip AS (SELECT `+unless+` AS skip),
	found AS (SELECT id, coach_id, client_id, plan, status, stripe_subscription_id, `+packs.ActivationCols+` FROM packs
		WHERE NOT (SELECT skip FROM skip) AND id = coalesce((SELECT id FROM packs WHERE `+column+` = nullif($1, '') LIMIT 1), $2)
		FOR NO KEY UPDATE),
	linked AS (UPDATE packs SET `+strings.Join(assign, ", ")+` WHERE id = (SELECT id FROM found)
		AND (`+strings.Join(cols, ", ")+`) IS DISTINCT FROM (`+strings.Join(values, ", ")+`))
	SELECT false AS skipped, * FROM found
	UNION ALL SELECT true, 0, 0, 0, '', '', NULL, '', NULL, NULL, NULL, NULL FROM skip WHERE skip`, append([]any{stripeID, metaID}, args...)...); err != nil {
		return nil, false, err
	}
	if len(refs) == 0 || refs[0].Skipped {
		return nil, len(refs) == 1, nil
	}
	touch(ctx, refs[0].ID)
	return &refs[0].packRef, false, nil
}

// recordPayment writes what Stripe reports in one statement (data-modifying
// CTEs, a round trip each saved while the pack is locked): an upfront
// payment's single installment marked paid (payFirst), the payment row, and
// for a pack's successful charge the refunds and disputes that came first
// given to its pack (see linkReversals). The three touch different rows.
func (s *Service) recordPayment(ctx context.Context, tx *sqlx.Tx, p payment) error {
	var coachID, packID *int64
	if p.Pack != nil {
		coachID, packID = &p.Pack.CoachID, &p.Pack.ID
	}
	if len(p.Currency) != 3 || p.ObjectID == "" {
		// Not money we can account for: the event itself is kept (and an
		// upfront pack's installment is paid all the same).
		if p.payFirst && packID != nil {
			_, err := tx.ExecContext(ctx, payFirstSQL("$1", "$2"), *packID, p.At)
			return err
		}
		return nil
	}
	reversals := p.Pack != nil && p.Kind == "charge" && p.Status == "succeeded"
	var row struct {
		ID     int64   `db:"id"`
		Method *string `db:"method"`
	}
	// An installment already paid is not written again (the checkout's
	// second event); the payment names it all the same.
	// The installment's id is read from the statement's snapshot: the update
	// beside it changes its status, never its id.
	err := tx.GetContext(ctx, &row, `WITH inst AS (`+payFirstSQL("$2", "$12")+` AND $16),
	reversals AS (`+reversalsSQL("$2", "$1", "$8", "$9", "$10")+` AND $17)
	INSERT INTO payments (coach_id, pack_id, installment_id, kind, status, amount, currency,
		stripe_charge_id, stripe_payment_intent_id, stripe_invoice_id, stripe_object_id, occurred_at, stripe_customer_id,
		stripe_subscription_id, method)
		VALUES ($1, $2, coalesce((SELECT id FROM installments WHERE $16 AND pack_id = $2 AND seq = 1), $3), $4, $5, $6, $7, nullif($8, ''), nullif($9, ''), nullif($10, ''), $11, $12,
			nullif($13, ''), nullif($14, ''), nullif($15, ''))
		ON CONFLICT (stripe_object_id) DO UPDATE SET amount = greatest(payments.amount, excluded.amount),
			-- A dispute's outcome stays (as does a remedy row of a release
			-- before 00011); an older, smaller report of the same refund
			-- does not undo a newer one.
			-- nor does a report that found no pack (two deliveries racing)
			-- undo one that did.
			status = CASE WHEN payments.status IN ('remedy', 'won', 'lost', 'warning_closed') OR excluded.amount < payments.amount
				OR (excluded.status = 'unmatched' AND payments.pack_id IS NOT NULL)
				THEN payments.status ELSE excluded.status END,
			stripe_customer_id = coalesce(payments.stripe_customer_id, excluded.stripe_customer_id),
			stripe_charge_id = coalesce(payments.stripe_charge_id, excluded.stripe_charge_id),
			stripe_subscription_id = coalesce(payments.stripe_subscription_id, excluded.stripe_subscription_id),
			method = coalesce(payments.method, excluded.method),
			-- A payment recorded before its pack was known takes its pack
			-- and installment when a later fact names them.
			installment_id = coalesce(payments.installment_id, excluded.installment_id),
			pack_id = coalesce(payments.pack_id, excluded.pack_id), coach_id = coalesce(payments.coach_id, excluded.coach_id)
		RETURNING id, method`,
		coachID, packID, p.InstallmentID, p.Kind, p.Status, p.Amount, strings.ToUpper(string(p.Currency)),
		p.Charge, p.Intent, p.Invoice, p.ObjectID, p.At, p.Customer, p.Subscription, p.Method, p.payFirst && packID != nil, reversals)
	touchPayment(ctx, p.ObjectID)
	if err != nil {
		return err
	}
	if p.Kind == "charge" && p.Status == "succeeded" && row.Method == nil && (p.Charge != "" || p.Intent != "") && s.Jobs != nil {
		// The events did not say how it was paid: Stripe's charge will.
		if err := s.enqueueOnce(ctx, tx, PaymentMethodArgs{PaymentID: row.ID}); err != nil {
			return err
		}
	}
	if !reversals {
		return nil
	}
	return s.endIfReversed(ctx, tx, p.Pack)
}

// linkReversals gives a charge's refunds and disputes that came first, when
// nothing told us their pack, to the charge's pack, where they take effect.
func (s *Service) linkReversals(ctx context.Context, tx *sqlx.Tx, p *packRef, charge, intent, invoice string) error {
	if _, err := tx.ExecContext(ctx, reversalsSQL("$1", "$2", "$3", "$4", "$5"), p.ID, p.CoachID, charge, intent, invoice); err != nil {
		return err
	}
	return s.endIfReversed(ctx, tx, p)
}

// reversalsSQL gives the refunds and disputes recorded with no pack that name
// a charge, its intent or its invoice (placeholders; an empty id names
// nothing) to the charge's pack and coach. It ends on its condition, for a
// caller to add one.
func reversalsSQL(pack, coach, charge, intent, invoice string) string {
	return `UPDATE payments SET pack_id = ` + pack + `, coach_id = ` + coach + ` WHERE pack_id IS NULL
		AND kind IN ('refund', 'dispute') AND (stripe_charge_id = nullif(` + charge + `, '')
			OR stripe_payment_intent_id = nullif(` + intent + `, '') OR stripe_invoice_id = nullif(` + invoice + `, ''))`
}

// payFirstSQL marks an upfront pack's single installment paid at at (both
// placeholders), unless it already is. It ends on its condition, for a caller
// to add one.
func payFirstSQL(pack, at string) string {
	return `UPDATE installments SET status = 'paid', paid_at = coalesce(paid_at, ` + at + `)
		WHERE pack_id = ` + pack + ` AND seq = 1 AND (status <> 'paid' OR paid_at IS NULL)`
}

// endIfReversed asks the reconciler's rule whether the pack's money has
// gone back (see EndIfReversed on Service).
func (s *Service) endIfReversed(ctx context.Context, tx *sqlx.Tx, p *packRef) error {
	if s.EndIfReversed == nil {
		return nil
	}
	return s.EndIfReversed(ctx, tx, p.ID)
}

// EndReversed ends a pack whose money went back, as the reconciler's rule
// (Ends) decided: its sessions are written off and an installment plan is
// told to stop at Stripe.
func (s *Service) EndReversed(ctx context.Context, tx *sqlx.Tx, packID int64, plan, reason string, at time.Time) error {
	if err := packs.EndRefunded(ctx, tx, packID, reason, at); err != nil {
		return err
	}
	if plan != PlanInstallments || s.Jobs == nil {
		return nil
	}
	return s.enqueueOnce(ctx, tx, StopPlanArgs{PackID: packID})
}

// CheckoutCompleted links the session's subscription or payment to the pack
// and, when the money is there (card), activates it. A SEPA checkout
// completes unpaid: the pack waits for async_payment_succeeded.
func (s *Service) CheckoutCompleted(ctx context.Context, tx *sqlx.Tx, cs *stripe.CheckoutSession, at time.Time) error {
	if cs.Subscription != nil {
		if err := lockSubscription(ctx, tx, cs.Subscription.ID); err != nil {
			return err
		}
	}
	intent := ""
	if cs.PaymentIntent != nil {
		intent = cs.PaymentIntent.ID
	}
	var consent *time.Time // Stripe's record of the terms the client accepted
	if cs.Consent != nil && cs.Consent.TermsOfService == stripe.CheckoutSessionConsentTermsOfServiceAccepted {
		consent = &at
	}
	p, _, err := linkPack(ctx, tx, "stripe_checkout_session_id", cs.ID, cs.Metadata, "false", [][2]string{
		{"stripe_checkout_session_id", "coalesce(stripe_checkout_session_id, $3)"},
		{"stripe_payment_intent_id", "coalesce(stripe_payment_intent_id, nullif($4, ''))"},
		{"terms_accepted_at", "coalesce(terms_accepted_at, $5)"}}, cs.ID, intent, consent)
	if err != nil {
		return err
	}
	paid := cs.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid
	method := PaidWith("", cs.PaymentMethodTypes)
	if cs.PaymentIntent != nil {
		method = cmp.Or(intentMethod(cs.PaymentIntent), method)
	}
	if p == nil {
		if !paid {
			return nil
		}
		return s.recordPayment(ctx, tx, payment{Kind: "charge", Status: "unmatched", Amount: cs.AmountTotal,
			Currency: cs.Currency, Intent: intent, ObjectID: cmp.Or(intent, cs.ID), Customer: customerID(cs.Customer),
			Method: method, At: at})
	}
	sub := ""
	if cs.Subscription != nil {
		sub = cs.Subscription.ID
	}
	if sub != "" {
		if err := s.linkSubscription(ctx, tx, p.ID, sub, 0); err != nil {
			return err
		}
	}
	if !paid {
		return nil
	}
	return s.confirm(ctx, tx, p, cs.Mode == stripe.CheckoutSessionModePayment, cs.AmountTotal, cs.Currency, "", intent, cmp.Or(intent, cs.ID), method, at)
}

// confirm activates a pack whose first payment is in; an upfront payment also
// settles its single installment.
func (s *Service) confirm(ctx context.Context, tx *sqlx.Tx, p *packRef, upfront bool, amount int64, cur stripe.Currency, charge, intent, objectID, method string, at time.Time) error {
	// A pack's status never goes back to pending: one the lock found past
	// it is not read again to be found active. p is linkPack's: it read
	// what the activation needs with the lock.
	if p.Status == packs.StatusPending {
		if _, _, err := packs.ActivateLocked(ctx, tx, p.CoachID, p.ID, p.Activation, at); err != nil {
			return err
		}
	}
	if !upfront {
		return nil
	}
	return s.recordPayment(ctx, tx, payment{Pack: p, payFirst: true, Kind: "charge", Status: "succeeded",
		Amount: amount, Currency: cur, Charge: charge, Intent: intent, ObjectID: objectID, Method: method, At: at})
}

// CheckoutAsyncSucceeded is a SEPA debit confirmed days after checkout.
func (s *Service) CheckoutAsyncSucceeded(ctx context.Context, tx *sqlx.Tx, cs *stripe.CheckoutSession, at time.Time) error {
	cs.PaymentStatus = stripe.CheckoutSessionPaymentStatusPaid
	return s.CheckoutCompleted(ctx, tx, cs, at)
}

// CheckoutAsyncFailed is a SEPA debit returned: the pack never starts.
func (s *Service) CheckoutAsyncFailed(ctx context.Context, tx *sqlx.Tx, cs *stripe.CheckoutSession, at time.Time) error {
	p, err := findPack(ctx, tx, "stripe_checkout_session_id", cs.ID, cs.Metadata)
	if err != nil || p == nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE installments SET status = 'failed' WHERE pack_id = $1 AND seq = 1
		AND status = 'due'`, p.ID); err != nil {
		return err
	}
	intent := ""
	if cs.PaymentIntent != nil {
		intent = cs.PaymentIntent.ID
	}
	// Keyed like payment_intent.payment_failed's row: one returned debit, one row.
	if err := s.recordPayment(ctx, tx, payment{Pack: p, Kind: "charge", Status: "failed", Amount: cs.AmountTotal,
		Currency: cs.Currency, Intent: intent, ObjectID: cmp.Or(intent, cs.ID) + ":failed", At: at}); err != nil {
		return err
	}
	return packs.CancelPending(ctx, tx, p.ID, at)
}

// CheckoutExpired cancels the pack the client never paid for.
func (s *Service) CheckoutExpired(ctx context.Context, tx *sqlx.Tx, cs *stripe.CheckoutSession, at time.Time) error {
	p, err := findPack(ctx, tx, "stripe_checkout_session_id", cs.ID, cs.Metadata)
	if err != nil || p == nil {
		return err
	}
	return abandon(ctx, tx, p.ID, at)
}

// abandon cancels a pack nobody paid for, and the payments it expected; a
// pack already paid stays as it is.
func abandon(ctx context.Context, tx *sqlx.Tx, packID int64, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE installments SET status = 'cancelled' WHERE pack_id = $1 AND status = 'due'
		AND NOT EXISTS (SELECT 1 FROM packs WHERE id = $1 AND status NOT IN `+packs.StatusSQL(packs.StatusPending)+`)`, packID); err != nil {
		return err
	}
	return packs.CancelPending(ctx, tx, packID, at)
}

// invoicePack finds an installment invoice's pack through the subscription
// id we stored, else the metadata Stripe copied from the subscription.
func (s *Service) invoicePack(ctx context.Context, tx *sqlx.Tx, inv *stripe.Invoice) (*packRef, error) {
	sub := ""
	if inv.Subscription != nil {
		sub = inv.Subscription.ID
	}
	var meta map[string]string
	if inv.SubscriptionDetails != nil {
		meta = inv.SubscriptionDetails.Metadata
	}
	if err := lockSubscription(ctx, tx, sub); err != nil {
		return nil, err
	}
	p, err := findPack(ctx, tx, "stripe_subscription_id", sub, meta)
	if err == nil && p != nil && sub != "" && p.Subscription == nil {
		err = s.linkSubscription(ctx, tx, p.ID, sub, 0)
	}
	return p, err
}

// lockSubscription orders, in the database, the events about one
// subscription that may find no pack yet: an invoice recorded without its
// pack is committed before the transaction that links the subscription
// reads what waits for it, or finds the pack linked. It is taken before any
// pack's row lock, always, so two events never wait on each other.
func lockSubscription(ctx context.Context, tx *sqlx.Tx, sub string) error {
	if sub == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('carnet.subscription'), hashtext($1))`, sub)
	return err
}

// linkSubscription stores the subscription behind an installment pack and
// has it bound to its number of debits, whichever event brings it first.
// Its invoices reported before (paid or failed, recorded with no pack) are
// applied now, in this transaction, as if they came after: the pack gets
// its installments paid, and their unmatched anomalies close. anchor, when
// known (Stripe's billing_cycle_anchor), dates the plan as Stripe debits it.
// Callers hold lockSubscription(sub).
func (s *Service) linkSubscription(ctx context.Context, tx *sqlx.Tx, packID int64, sub string, anchor int64) error {
	var linked []string
	if err := tx.SelectContext(ctx, &linked, `UPDATE packs SET stripe_subscription_id = coalesce(stripe_subscription_id, $2)
		WHERE id = $1 RETURNING stripe_subscription_id`, packID, sub); err != nil {
		return err
	}
	if len(linked) == 0 || linked[0] != sub {
		return nil // the pack has another subscription: this one is not its
	}
	if anchor != 0 {
		if err := reanchor(ctx, tx, packID, time.Unix(anchor, 0).UTC()); err != nil {
			return err
		}
	}
	if s.Jobs != nil {
		if err := s.enqueueSchedule(ctx, tx, packID); err != nil {
			return err
		}
	}
	var early []struct {
		Status   string    `db:"status"`
		Amount   int64     `db:"amount"`
		Currency string    `db:"currency"`
		Charge   *string   `db:"stripe_charge_id"`
		Intent   *string   `db:"stripe_payment_intent_id"`
		Invoice  string    `db:"stripe_invoice_id"`
		Customer *string   `db:"stripe_customer_id"`
		At       time.Time `db:"occurred_at"`
	}
	if err := tx.SelectContext(ctx, &early, `SELECT status, amount, currency, stripe_charge_id, stripe_payment_intent_id,
		stripe_invoice_id, stripe_customer_id, occurred_at FROM payments
		WHERE stripe_subscription_id = $1 AND pack_id IS NULL AND kind = 'charge' AND stripe_invoice_id IS NOT NULL
			AND status IN ('unmatched', 'failed')
		ORDER BY occurred_at, id`, sub); err != nil {
		return err
	}
	for _, e := range early {
		inv := &stripe.Invoice{ID: e.Invoice, Subscription: &stripe.Subscription{ID: sub}, AmountPaid: e.Amount, AmountDue: e.Amount,
			Currency: stripe.Currency(strings.ToLower(e.Currency)), Created: e.At.Unix()}
		if e.Customer != nil {
			inv.Customer = &stripe.Customer{ID: *e.Customer}
		}
		if e.Charge != nil {
			inv.Charge = &stripe.Charge{ID: *e.Charge}
		}
		if e.Intent != nil {
			inv.PaymentIntent = &stripe.PaymentIntent{ID: *e.Intent}
		}
		var err error
		if e.Status == "failed" {
			err = s.InvoicePaymentFailed(ctx, tx, inv, e.At)
		} else {
			err = s.InvoicePaid(ctx, tx, inv, e.At)
		}
		if err != nil {
			return fmt.Errorf("link invoice %s to pack %d: %w", e.Invoice, packID, err)
		}
	}
	return nil
}

// reanchor dates a plan's installments from the subscription's own
// billing-cycle anchor: Stripe counts its months from when the client
// subscribed, which may be days after Carnet opened the checkout.
func reanchor(ctx context.Context, tx *sqlx.Tx, packID int64, anchor time.Time) error {
	var seqs []int
	if err := tx.SelectContext(ctx, &seqs, `SELECT seq FROM installments WHERE pack_id = $1 ORDER BY seq`, packID); err != nil {
		return err
	}
	for _, seq := range seqs {
		if _, err := tx.ExecContext(ctx, `UPDATE installments SET due_at = $3 WHERE pack_id = $1 AND seq = $2 AND due_at <> $3`,
			packID, seq, InstallmentDue(anchor, seq)); err != nil {
			return err
		}
	}
	return nil
}

// InvoicePaid marks the installment this invoice pays; the first one also
// activates the pack (a SEPA plan may confirm this way first).
func (s *Service) InvoicePaid(ctx context.Context, tx *sqlx.Tx, inv *stripe.Invoice, at time.Time) error {
	p, err := s.invoicePack(ctx, tx, inv)
	if err != nil {
		return err
	}
	charge, intent := "", ""
	if inv.Charge != nil {
		charge = inv.Charge.ID
	}
	if inv.PaymentIntent != nil {
		intent = inv.PaymentIntent.ID
	}
	pay := payment{Pack: p, Kind: "charge", Status: "succeeded", Amount: inv.AmountPaid, Currency: inv.Currency,
		Charge: charge, Intent: intent, Invoice: inv.ID, ObjectID: inv.ID, Customer: customerID(inv.Customer),
		Method: cmp.Or(chargeMethod(inv.Charge), intentMethod(inv.PaymentIntent)), At: at}
	if inv.Subscription != nil {
		pay.Subscription = inv.Subscription.ID
	}
	if p == nil {
		pay.Status = "unmatched"
		return s.recordPayment(ctx, tx, pay)
	}
	var known bool
	if err := tx.GetContext(ctx, &known, `SELECT EXISTS (SELECT 1 FROM payments WHERE stripe_object_id = $1
		AND pack_id IS NOT NULL)`, inv.ID); err != nil || known {
		return err // settled once: a later report of it changes nothing (its installment may be due again)
	}
	if intent == "" && charge == "" {
		// A newer API version's invoice names no payment: take the one its
		// PaymentIntent left waiting, if it came first.
		var unpaired []struct {
			Charge *string `db:"stripe_charge_id"`
			Intent *string `db:"stripe_payment_intent_id"`
			Object string  `db:"stripe_object_id"`
		}
		if err := tx.SelectContext(ctx, &unpaired, `UPDATE payments SET status = 'paired'
			WHERE id = (SELECT id FROM payments WHERE kind = 'charge' AND status = 'unpaired' AND pack_id IS NULL
				AND stripe_customer_id = $1 AND amount = $2 AND currency = upper($3)
				AND occurred_at BETWEEN $4::timestamptz - $5::interval AND $4::timestamptz + $5::interval
				ORDER BY abs(extract(epoch FROM occurred_at - $4::timestamptz)), id LIMIT 1 FOR UPDATE)
			RETURNING stripe_charge_id, stripe_payment_intent_id, stripe_object_id`, customerID(inv.Customer), inv.AmountPaid,
			string(inv.Currency), at, PairWindow.String()); err != nil {
			return err
		}
		if len(unpaired) == 1 {
			touchPayment(ctx, unpaired[0].Object) // its unmatched anomaly, if any, closes
			pay.Charge, pay.Intent = deref(unpaired[0].Charge), deref(unpaired[0].Intent)
		}
	}
	if _, _, err := packs.ActivatePack(ctx, tx, p.CoachID, p.ID, at); err != nil {
		return err
	}
	lostAt, err := lostDisputeAt(ctx, tx, p.ID)
	if err != nil {
		return err
	}
	i, ok, err := settleInstallment(ctx, tx, p.ID, InvoiceReport{Invoice: inv.ID, Created: unixTime(inv.Created, at),
		PaidBeforeEnd: PaidBeforeEnd(at, lostAt)}, at)
	if err != nil {
		return err
	}
	if ok {
		pay.InstallmentID = &i.ID
	}
	if err := s.recordPayment(ctx, tx, pay); err != nil {
		return err
	}
	TouchedOf(ctx).Drop() // the pack may leave overdue below: the plan read by the reversal check is not the end
	var failed bool
	if err := tx.GetContext(ctx, &failed, `SELECT EXISTS (SELECT 1 FROM installments WHERE pack_id = $1 AND status = 'failed')`, p.ID); err != nil || failed {
		return err
	}
	return packs.ClearOverdue(ctx, tx, p.ID, at)
}

// InvoicePaymentFailed marks the installment failed and the pack overdue; a
// later success for the same invoice wins over it, whatever the order.
func (s *Service) InvoicePaymentFailed(ctx context.Context, tx *sqlx.Tx, inv *stripe.Invoice, at time.Time) error {
	p, err := s.invoicePack(ctx, tx, inv)
	if err != nil {
		return err
	}
	if p == nil {
		// Kept with its subscription, so that linking the subscription to
		// its pack applies it; a failed debit belongs to nobody until then.
		if inv.Subscription == nil || inv.Subscription.ID == "" {
			return nil
		}
		return s.recordPayment(ctx, tx, payment{Kind: "charge", Status: "failed", Amount: inv.AmountDue, Currency: inv.Currency,
			Invoice: inv.ID, Subscription: inv.Subscription.ID, ObjectID: inv.ID + ":failed", Customer: customerID(inv.Customer), At: at})
	}
	var paid bool
	if err := tx.GetContext(ctx, &paid, `SELECT EXISTS (SELECT 1 FROM installments WHERE stripe_invoice_id = $1
		AND status = 'paid')`, inv.ID); err != nil || paid {
		return err
	}
	failed := payment{Pack: p, Kind: "charge", Status: "failed", Amount: inv.AmountDue,
		Currency: inv.Currency, Invoice: inv.ID, ObjectID: inv.ID + ":failed", At: at}
	if packs.Ended(p.Status) {
		// The plan is over (Stripe is being told to stop): nothing is due.
		return s.recordPayment(ctx, tx, failed)
	}
	if _, _, err := settleInstallment(ctx, tx, p.ID, InvoiceReport{Invoice: inv.ID, Created: unixTime(inv.Created, at),
		Failed: true}, at); err != nil {
		return err
	}
	if err := s.recordPayment(ctx, tx, failed); err != nil {
		return err
	}
	var i struct {
		DueAt time.Time `db:"due_at"`
		Grace int       `db:"grace"`
	}
	if err := tx.GetContext(ctx, &i, `SELECT i.due_at, coalesce(cv.grace_days, 7) AS grace FROM installments i
		JOIN packs p ON p.id = i.pack_id LEFT JOIN charter_versions cv ON cv.id = p.charter_version_id
		WHERE i.stripe_invoice_id = $1`, inv.ID); db.NoRows(err) {
		return packs.MarkOverdue(ctx, tx, p.ID, at) // no installment left to fail: nothing to tell
	} else if err != nil {
		return err
	}
	// Overdue as of the due date (one rule with a debit never attempted):
	// the grace days run from it, as the client's message says.
	since := i.DueAt
	if at.Before(since) {
		since = at // collected ahead of its date, and declined
	}
	if err := packs.MarkOverdue(ctx, tx, p.ID, since); err != nil {
		return err
	}
	return packs.NotifyClient(ctx, tx, p.ID, notify.InstallmentFailed, "invoice:"+inv.ID+":failed",
		map[string]any{"AmountMinor": inv.AmountDue, "DueAt": i.DueAt, "GraceDays": i.Grace,
			"UsableAt": since.AddDate(0, 0, i.Grace)})
}

// PaymentIntentSucceeded confirms an upfront payment (installment intents are
// handled through their invoices). A payment we did not start is recorded
// as unmatched. Since API version 2025-03-31.basil an installment's
// PaymentIntent no longer names its invoice (invoiceUnknown): it is paired
// with a paid invoice of the same customer and amount, or waits PairWindow
// for one ('unpaired') before it counts as unmatched.
func (s *Service) PaymentIntentSucceeded(ctx context.Context, tx *sqlx.Tx, pi *stripe.PaymentIntent, invoiceUnknown bool, at time.Time) error {
	if pi.Invoice != nil || pi.Metadata["carnet_booking_id"] != "" {
		return nil // an installment (see its invoice) or a fee (ChargeFee records it)
	}
	method := intentMethod(pi)
	// Unless it is an installment its invoice already recorded.
	p, known, err := linkPack(ctx, tx, "stripe_payment_intent_id", pi.ID, pi.Metadata,
		`EXISTS (SELECT 1 FROM payments WHERE stripe_payment_intent_id = $3 AND kind = 'charge' AND pack_id IS NOT NULL
			AND stripe_invoice_id IS NOT NULL)`, [][2]string{{"stripe_payment_intent_id", "coalesce(stripe_payment_intent_id, $3)"}}, pi.ID)
	if err != nil || known {
		if err == nil {
			err = setMethod(ctx, tx, "", pi.ID, method) // what its invoice did not say
		}
		return err
	}
	charge := ""
	if pi.LatestCharge != nil {
		charge = pi.LatestCharge.ID
	}
	if p == nil && invoiceUnknown {
		var paired []struct {
			PackID int64  `db:"pack_id"`
			Object string `db:"stripe_object_id"`
		}
		if err := tx.SelectContext(ctx, &paired, `UPDATE payments SET stripe_payment_intent_id = $1,
			stripe_charge_id = coalesce(stripe_charge_id, nullif($2, ''))
			WHERE id = (SELECT id FROM payments WHERE kind = 'charge' AND status = 'succeeded' AND pack_id IS NOT NULL
				AND stripe_invoice_id IS NOT NULL AND stripe_payment_intent_id IS NULL AND stripe_customer_id = $3
				AND amount = $4 AND currency = upper($5) AND occurred_at BETWEEN $6::timestamptz - $7::interval AND $6::timestamptz + $7::interval
				ORDER BY abs(extract(epoch FROM occurred_at - $6::timestamptz)), id LIMIT 1 FOR UPDATE)
			RETURNING pack_id, stripe_object_id`, pi.ID, charge, customerID(pi.Customer), pi.AmountReceived, string(pi.Currency), at,
			PairWindow.String()); err != nil {
			return err
		}
		if len(paired) == 1 {
			touchPayment(ctx, paired[0].Object)
			if p, err = findPack(ctx, tx, "id", strconv.FormatInt(paired[0].PackID, 10), nil); err != nil || p == nil {
				return err
			}
			return s.linkReversals(ctx, tx, p, charge, pi.ID, "")
		}
	}
	if p == nil {
		status := "unmatched"
		if invoiceUnknown {
			status = "unpaired"
		}
		return s.recordPayment(ctx, tx, payment{Kind: "charge", Status: status, Amount: pi.AmountReceived,
			Currency: pi.Currency, Charge: charge, Intent: pi.ID, ObjectID: pi.ID, Customer: customerID(pi.Customer),
			Method: method, At: at})
	}
	return s.confirm(ctx, tx, p, true, pi.AmountReceived, pi.Currency, charge, pi.ID, pi.ID, method, at)
}

// PaymentIntentFailed records a declined upfront payment; Checkout lets the
// client try again, and an expired checkout cancels the pack.
func (s *Service) PaymentIntentFailed(ctx context.Context, tx *sqlx.Tx, pi *stripe.PaymentIntent, at time.Time) error {
	if pi.Invoice != nil {
		return nil
	}
	p, err := findPack(ctx, tx, "stripe_payment_intent_id", pi.ID, pi.Metadata)
	if err != nil {
		return err
	}
	return s.recordPayment(ctx, tx, payment{Pack: p, Kind: "charge", Status: "failed", Amount: pi.Amount,
		Currency: pi.Currency, Intent: pi.ID, ObjectID: pi.ID + ":failed", At: at})
}

// chargePack finds the pack a charge paid for: through the payment rows we
// recorded (a refund or dispute carries the charge, not our metadata), else
// the PaymentIntent we stored on the pack, else the pack id Stripe copied
// from the PaymentIntent to its charge. None of them yet: the payment will
// link the reversal when it comes.
func chargePack(ctx context.Context, tx *sqlx.Tx, charge, intent, invoice string, meta map[string]string) (*packRef, error) {
	var ids []int64
	if err := tx.SelectContext(ctx, &ids, `SELECT pack_id FROM payments WHERE kind = 'charge' AND pack_id IS NOT NULL
		AND (stripe_charge_id = nullif($1, '') OR stripe_payment_intent_id = nullif($2, '') OR stripe_invoice_id = nullif($3, ''))
		LIMIT 1`, charge, intent, invoice); err != nil {
		return nil, err
	}
	if len(ids) == 1 {
		return findPack(ctx, tx, "id", strconv.FormatInt(ids[0], 10), nil)
	}
	return findPack(ctx, tx, "stripe_payment_intent_id", intent, meta)
}

// ChargeRefunded records money given back. A full refund of an upfront pack
// ends it and writes off its sessions; a partial one, or one installment's
// refund, is recorded for the coach and the reconciler to judge.
func (s *Service) ChargeRefunded(ctx context.Context, tx *sqlx.Tx, ch *stripe.Charge, at time.Time) error {
	intent, invoice := "", ""
	if ch.PaymentIntent != nil {
		intent = ch.PaymentIntent.ID
	}
	if ch.Invoice != nil {
		invoice = ch.Invoice.ID
	}
	p, err := chargePack(ctx, tx, ch.ID, intent, invoice, ch.Metadata)
	if err != nil {
		return err
	}
	// The charge itself says how it was paid: the payment learns it if its own event did not.
	if err := setMethod(ctx, tx, ch.ID, intent, PaidWith(chargeMethod(ch))); err != nil {
		return err
	}
	status := "refunded"
	if !ch.Refunded {
		status = "partially_refunded"
	}
	if err := s.recordPayment(ctx, tx, payment{Pack: p, Kind: "refund", Status: status, Amount: ch.AmountRefunded,
		Currency: ch.Currency, Charge: ch.ID, Intent: intent, Invoice: invoice, ObjectID: "refund:" + ch.ID, At: at}); err != nil || p == nil {
		return err
	}
	return s.endIfReversed(ctx, tx, p)
}

// DisputeChanged records a dispute as it opens and closes; a lost dispute
// ends the pack like a full refund.
func (s *Service) DisputeChanged(ctx context.Context, tx *sqlx.Tx, d *stripe.Dispute, at time.Time) error {
	charge, intent := "", ""
	if d.Charge != nil {
		charge = d.Charge.ID
	}
	if d.PaymentIntent != nil {
		intent = d.PaymentIntent.ID
	}
	p, err := chargePack(ctx, tx, charge, intent, "", nil)
	if err != nil {
		return err
	}
	if err := s.recordPayment(ctx, tx, payment{Pack: p, Kind: "dispute", Status: string(d.Status), Amount: d.Amount,
		Currency: d.Currency, Charge: charge, Intent: intent, ObjectID: "dispute:" + d.ID, At: at}); err != nil || p == nil {
		return err
	}
	return s.endIfReversed(ctx, tx, p)
}

// SubscriptionChanged links a subscription to its pack (its update can come
// before the checkout event); a deleted one expects no more installments.
func (s *Service) SubscriptionChanged(ctx context.Context, tx *sqlx.Tx, sub *stripe.Subscription, deleted bool, at time.Time) error {
	if err := lockSubscription(ctx, tx, sub.ID); err != nil {
		return err
	}
	p, err := findPack(ctx, tx, "stripe_subscription_id", sub.ID, sub.Metadata)
	if err != nil || p == nil {
		return err
	}
	if err := s.linkSubscription(ctx, tx, p.ID, sub.ID, sub.BillingCycleAnchor); err != nil {
		return err
	}
	if !deleted {
		return nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE installments SET status = 'cancelled' WHERE pack_id = $1 AND status = 'due'`, p.ID)
	return err
}

// setMethod records how a charge was paid, by its charge or PaymentIntent id,
// on the payment rows that did not know it.
func setMethod(ctx context.Context, tx *sqlx.Tx, charge, intent, method string) error {
	if method == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE payments SET method = $3 WHERE kind = 'charge' AND method IS NULL
		AND (stripe_charge_id = nullif($1, '') OR stripe_payment_intent_id = nullif($2, ''))`, charge, intent, method)
	return err
}
