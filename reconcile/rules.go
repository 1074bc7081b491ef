package reconcile

import (
	"fmt"
	"time"

	"carnet/billing"
	"carnet/packs"
)

// Anomaly kinds (DESIGN's table).
const (
	KindAtOnce         = "installments_at_once"
	KindDuplicate      = "duplicate_charge"
	KindAmount         = "amount_mismatch"
	KindUnmatched      = "unmatched_payment"
	KindFailed         = "failed_installment"
	KindMissed         = "missed_installment"
	KindRefundDispute  = "refund_or_dispute"
	KindChargeAfterEnd = "charge_after_end"
)

// EarlyTolerance is how long before its due date an installment may be
// collected before it counts as collected ahead of the plan.
const EarlyTolerance = 3 * 24 * time.Hour

// Expected is one installment of a plan.
type Expected struct {
	ID       int64     `db:"id"`
	Seq      int       `db:"seq"`
	DueAt    time.Time `db:"due_at"`
	Amount   int64     `db:"amount"`
	Currency string    `db:"currency"`
	Status   string    `db:"status"`
}

// Observed is one payment Stripe reported for the pack.
type Observed struct {
	ID            int64     `db:"id"`
	Kind          string    `db:"kind"`
	Status        string    `db:"status"`
	Amount        int64     `db:"amount"`
	Currency      string    `db:"currency"`
	InstallmentID *int64    `db:"installment_id"`
	ObjectID      *string   `db:"stripe_object_id"`
	Charge        *string   `db:"stripe_charge_id"`
	Intent        *string   `db:"stripe_payment_intent_id"`
	At            time.Time `db:"occurred_at"`
}

// Plan is everything the rules look at for one pack.
type Plan struct {
	PackID       int64
	Plan         string // upfront, installments, manual
	Status       packs.Status
	Remaining    int
	WrittenOff   int // sessions the pack's end took back (a full refund, a lost dispute)
	GraceDays    int
	Installments []Expected
	Payments     []Observed
}

// Finding is one disagreement between the plan and what Stripe did.
type Finding struct {
	Kind     string
	Cause    string   // one anomaly per cause
	Excess   int64    // money collected beyond the plan, refundable
	Refunds  []Refund // how to give the excess back, payment by payment
	Evidence map[string]any
	first    int64 // the payment that names the cause, when several do
}

// Refund is part of an excess, to give back from one payment.
type Refund struct {
	PaymentID int64 `json:"payment_id"`
	Amount    int64 `json:"amount"`
}

func excess(paymentID, amount int64) (int64, []Refund) {
	return amount, []Refund{{PaymentID: paymentID, Amount: amount}}
}

func (p Plan) installment(id int64) (Expected, bool) {
	for _, e := range p.Installments {
		if e.ID == id {
			return e, true
		}
	}
	return Expected{}, false
}

func evidenceOf(o Observed) map[string]any {
	ev := map[string]any{"payment_id": o.ID, "amount": o.Amount, "currency": o.Currency, "at": o.At}
	if o.ObjectID != nil {
		ev["stripe_id"] = *o.ObjectID
	}
	return ev
}

// Detect compares a pack's plan with its payments at now. It is a pure
// function: the same plan and payments always give the same findings.
//
// Causes are keyed by the payment that shows them (the first one, for
// installments collected at once), so that a new extra charge after an
// anomaly was settled is a new anomaly, never folded into the closed one.
func Detect(p Plan, now time.Time) []Finding {
	var out []Finding
	var atOnce Finding
	seen := map[int64]Observed{}
	// What Carnet gave back of each charge (its 'remedy' refunds of an
	// excess) no longer counts against the plan; and Stripe reports all of
	// a charge's refunds in one row, Carnet's included, so only what goes
	// beyond them is someone else's refund.
	remedies := map[string]int64{}
	for _, o := range p.Payments {
		if o.Kind == "refund" && o.Status == "remedy" && o.Charge != nil {
			remedies[*o.Charge] += o.Amount
		}
	}
	for _, o := range p.Payments {
		if o.Kind == "refund" && o.Status == "remedy" {
			continue
		}
		if (o.Kind == "charge" || o.Kind == "refund") && o.Charge != nil {
			if o.Amount -= remedies[*o.Charge]; o.Amount <= 0 {
				continue
			}
		}
		switch {
		case o.Kind == "refund" || o.Kind == "dispute":
			// Sessions the client still had when the money went back: the
			// ones left, or the ones the pack's end wrote off.
			if p.Remaining > 0 || p.WrittenOff > 0 || (o.Kind == "dispute" && !DisputeDecided(o.Status)) {
				out = append(out, Finding{Kind: KindRefundDispute, Cause: fmt.Sprintf("%s:payment:%d", o.Kind, o.ID),
					Evidence: map[string]any{"payment": evidenceOf(o), "sessions_left": p.Remaining, "written_off": p.WrittenOff,
						"what": o.Kind, "status": o.Status}})
			}
			continue
		case o.Kind != "charge" || o.Status != "succeeded":
			continue
		}
		if o.InstallmentID == nil {
			// A charge that pays nothing the plan expects: the plan was over.
			f := Finding{Kind: KindChargeAfterEnd, Cause: fmt.Sprintf("after_end:payment:%d", o.ID),
				Evidence: map[string]any{"payment": evidenceOf(o), "pack_status": p.Status}}
			f.Excess, f.Refunds = excess(o.ID, o.Amount)
			out = append(out, f)
			continue
		}
		e, ok := p.installment(*o.InstallmentID)
		if !ok {
			continue
		}
		if first, dup := seen[e.ID]; dup {
			f := Finding{Kind: KindDuplicate, Cause: fmt.Sprintf("duplicate:payment:%d", o.ID),
				Evidence: map[string]any{"installment": e.Seq, "first": evidenceOf(first), "second": evidenceOf(o)}}
			f.Excess, f.Refunds = excess(o.ID, o.Amount)
			out = append(out, f)
			continue
		}
		seen[e.ID] = o
		switch {
		case p.Plan == billing.PlanInstallments && o.Currency == e.Currency && o.Amount >= 2*e.Amount:
			// One payment covering more than one installment.
			ev := evidenceOf(o)
			ev["installment"], ev["expected"] = e.Seq, e.Amount
			atOnce.add(o.ID, o.Amount-e.Amount, ev)
		case o.Amount != e.Amount || o.Currency != e.Currency:
			f := Finding{Kind: KindAmount, Cause: fmt.Sprintf("amount:payment:%d", o.ID),
				Evidence: map[string]any{"payment": evidenceOf(o), "expected_amount": e.Amount, "expected_currency": e.Currency, "installment": e.Seq}}
			if o.Currency == e.Currency && o.Amount > e.Amount {
				f.Excess, f.Refunds = excess(o.ID, o.Amount-e.Amount)
			}
			out = append(out, f)
		case p.Plan == billing.PlanInstallments && o.At.Before(e.DueAt.Add(-EarlyTolerance)):
			// Installments collected ahead of the plan, typically all in one night.
			ev := evidenceOf(o)
			ev["installment"], ev["due_at"] = e.Seq, e.DueAt
			atOnce.add(o.ID, o.Amount, ev)
		}
	}
	if atOnce.Excess > 0 {
		atOnce.Kind = KindAtOnce
		atOnce.Evidence["tolerance_days"] = int(EarlyTolerance.Hours() / 24)
		out = append(out, atOnce)
	}
	grace := time.Duration(p.GraceDays) * 24 * time.Hour
	for _, e := range p.Installments {
		switch {
		case e.Status == "failed":
			out = append(out, Finding{Kind: KindFailed, Cause: fmt.Sprintf("failed:installment:%d", e.ID),
				Evidence: map[string]any{"installment": e.Seq, "due_at": e.DueAt, "amount": e.Amount, "currency": e.Currency}})
		case e.Status == "due" && p.Status != packs.StatusPending && p.Status != packs.StatusCancelled && !now.Before(e.DueAt.Add(grace)):
			out = append(out, Finding{Kind: KindMissed, Cause: fmt.Sprintf("missed:installment:%d", e.ID),
				Evidence: map[string]any{"installment": e.Seq, "due_at": e.DueAt, "grace_days": p.GraceDays, "amount": e.Amount, "currency": e.Currency}})
		}
	}
	return out
}

// add joins one payment to the installments collected at once; the cause
// is the lowest payment id among them, which a later charge cannot change.
func (f *Finding) add(paymentID, amount int64, evidence map[string]any) {
	if f.Evidence == nil {
		f.Evidence = map[string]any{}
	}
	list, _ := f.Evidence["collected"].([]map[string]any)
	f.Evidence["collected"] = append(list, evidence)
	f.Excess += amount
	f.Refunds = append(f.Refunds, Refund{PaymentID: paymentID, Amount: amount})
	if f.Cause == "" || paymentID < f.first {
		f.Cause, f.first = fmt.Sprintf("at_once:payment:%d", paymentID), paymentID
	}
}

// DisputeDecided tells a dispute the bank has ruled on: nothing more can
// be done about it, so its anomaly closes.
func DisputeDecided(status string) bool { return status == "lost" || status == "won" }

// SelfResolving kinds close by themselves once the plan agrees again.
var SelfResolving = map[string]bool{KindFailed: true, KindMissed: true}

// Ending is how money going back ends a pack: why, and as of when.
type Ending struct {
	Reason string // the ledger's words for the sessions written off
	At     time.Time
}

// Ends decides whether refunds and disputes end the pack. An installment
// plan ends when a dispute on one of its debits is lost (the client
// repudiated the plan), as of the first loss. An upfront pack ends when
// refunds by someone other than Carnet and lost disputes give back all the
// client paid and Carnet kept: a duplicate given back by hand or by a
// dispute leaves it paid. Stripe reports a charge's refunds, Carnet's
// 'remedy' refunds of an excess included, in one cumulative row, so
// Carnet's remedies are subtracted. Only money linked to the pack counts:
// nothing happens before both a charge and its reversal are known,
// whatever their order.
func Ends(p Plan) (Ending, bool) {
	var kept, outside, remedies int64
	var lostAt, lastAt *time.Time
	same := func(a, b *string) bool { return a != nil && b != nil && *a == *b }
	ofCharge := func(d Observed) bool {
		for _, c := range p.Payments {
			if c.Kind == "charge" && c.Status == "succeeded" && (same(c.Charge, d.Charge) || same(c.Intent, d.Intent)) {
				return true
			}
		}
		return false
	}
	later := func(at time.Time) {
		if lastAt == nil || at.After(*lastAt) {
			lastAt = &at
		}
	}
	for _, o := range p.Payments {
		switch {
		case o.Kind == "charge" && o.Status == "succeeded":
			kept += o.Amount
		case o.Kind == "refund" && o.Status == "remedy":
			remedies += o.Amount
		case o.Kind == "refund":
			outside += o.Amount
			later(o.At)
		case o.Kind == "dispute" && o.Status == "lost" && ofCharge(o):
			outside += o.Amount
			later(o.At)
			if lostAt == nil || o.At.Before(*lostAt) {
				at := o.At
				lostAt = &at
			}
		}
	}
	kept, outside = kept-remedies, outside-remedies
	switch {
	case p.Plan == billing.PlanInstallments && lostAt != nil:
		return Ending{Reason: "dispute lost", At: *lostAt}, true
	case p.Plan == billing.PlanInstallments || kept <= 0 || outside < kept || lastAt == nil:
		return Ending{}, false
	case lostAt != nil:
		return Ending{Reason: "dispute lost", At: *lastAt}, true
	}
	return Ending{Reason: "payment refunded in full", At: *lastAt}, true
}
