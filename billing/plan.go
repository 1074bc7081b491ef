// Package billing is Carnet's side of Stripe: checkout, the installment plan
// a pack is paid by, and what each confirmed, failed or returned payment does
// to the pack it belongs to.
package billing

import (
	"time"

	"carnet/packs"
)

// Due is one expected payment.
type Due struct {
	Seq    int
	DueAt  time.Time
	Amount int64
}

// StripeCalendar is the calendar Stripe counts a subscription's months in:
// from its billing-cycle anchor (a Unix time), in UTC, whatever the coach's
// time zone. The coach's zone only decides how the date is shown.
const StripeCalendar = "UTC"

// InstallmentDue is when Stripe debits installment seq of a plan anchored
// at anchor: seq-1 months later by packs.AddMonths, Carnet's one meaning of
// "a month later" (counted from the anchor, the day kept or clamped to the
// month's last: 31 January, 28 or 29 February, 31 March, 30 April).
func InstallmentDue(anchor time.Time, seq int) time.Time {
	return packs.AddMonths(anchor, seq-1, StripeCalendar)
}

// SplitInstallments divides total into n monthly payments from first on;
// the cents that do not divide go on the first payment.
func SplitInstallments(total int64, n int, first time.Time) []Due {
	base := total / int64(n)
	out := make([]Due, n)
	for i := range out {
		out[i] = Due{Seq: i + 1, DueAt: InstallmentDue(first, i+1), Amount: base}
	}
	out[0].Amount += total - base*int64(n)
	return out
}
