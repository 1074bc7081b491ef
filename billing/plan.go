// Package billing is Carnet's side of Stripe: checkout, the installment plan
// a pack is paid by, and what each confirmed, failed or returned payment does
// to the pack it belongs to.
package billing

import "time"

// Due is one expected payment.
type Due struct {
	Seq    int
	DueAt  time.Time
	Amount int64
}

// SplitInstallments divides total into n monthly payments from first on;
// the cents that do not divide go on the first payment.
func SplitInstallments(total int64, n int, first time.Time) []Due {
	base := total / int64(n)
	out := make([]Due, n)
	for i := range out {
		out[i] = Due{Seq: i + 1, DueAt: first.AddDate(0, i, 0), Amount: base}
	}
	out[0].Amount += total - base*int64(n)
	return out
}
