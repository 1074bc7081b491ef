package billing

import (
	"cmp"
	"slices"
	"time"
)

// Installment is one expected payment of a plan as the invoice rule sees it.
type Installment struct {
	ID      int64     `db:"id"`
	Seq     int       `db:"seq"`
	DueAt   time.Time `db:"due_at"`
	Status  string    `db:"status"`
	Invoice *string   `db:"stripe_invoice_id"`
}

// InvoiceReport is what an invoice event says about one installment.
type InvoiceReport struct {
	Invoice string    // Stripe's invoice id
	Created time.Time // the invoice's own date
	Failed  bool      // payment_failed rather than paid
	// PaidBeforeEnd: the plan was ended by a lost dispute after this
	// invoice was paid, so an installment the end cancelled still counts.
	PaidBeforeEnd bool
}

// PaidBeforeEnd tells whether a payment at at came before the plan's end by
// a lost dispute (lostAt, nil when there is none), whichever of the two
// Carnet hears of first.
func PaidBeforeEnd(at time.Time, lostAt *time.Time) bool {
	return lostAt != nil && at.Before(*lostAt)
}

// InstallmentFor picks the installment an invoice report is about: the one
// already carrying this invoice, else the open one due nearest the
// invoice's date. Invoices arrive in any order and retried, so the month-3
// invoice must not settle installment 1, and a retry lands where the first
// attempt did. A paid report may settle a failed installment (the retry
// that succeeded) and, paid before the plan ended, one the end cancelled;
// a failed report never touches a paid or cancelled one.
//
// It returns false when no installment fits: the payment pays nothing the
// plan expects (the reconciler calls it a charge after the end).
func InstallmentFor(list []Installment, r InvoiceReport) (Installment, bool) {
	own := func(i Installment) bool { return i.Invoice != nil && *i.Invoice == r.Invoice }
	fits := func(i Installment) bool {
		if r.Failed {
			return i.Status != "paid" && i.Status != "cancelled" && (own(i) || (i.Invoice == nil && i.Status == "due"))
		}
		if i.Status == "cancelled" && !r.PaidBeforeEnd {
			return false
		}
		return own(i) || (i.Invoice == nil && (i.Status == "due" || i.Status == "failed" || i.Status == "cancelled"))
	}
	distance := func(i Installment) time.Duration {
		d := i.DueAt.Sub(r.Created)
		if d < 0 {
			return -d
		}
		return d
	}
	var cands []Installment
	for _, i := range list {
		if fits(i) {
			cands = append(cands, i)
		}
	}
	if len(cands) == 0 {
		return Installment{}, false
	}
	return slices.MinFunc(cands, func(a, b Installment) int {
		if own(a) != own(b) {
			return boolFirst(own(a))
		}
		if ca, cb := a.Status == "cancelled", b.Status == "cancelled"; ca != cb {
			return -boolFirst(ca)
		}
		return cmp.Or(cmp.Compare(distance(a), distance(b)), cmp.Compare(a.Seq, b.Seq))
	}), true
}

// boolFirst orders true before false.
func boolFirst(b bool) int {
	if b {
		return -1
	}
	return 1
}
