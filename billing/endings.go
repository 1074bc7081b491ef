package billing

import (
	"context"

	"github.com/riverqueue/river"
)

// Ending a relationship: packs decides what becomes of each pack under the
// charter; billing gives back the money of a refunded pack's unused part
// (through Stripe for what Stripe collected, by the coach's hand for what
// was paid by hand), stops installment plans and tells the client.

// RefundDue is what goes back of a pack when the relationship ends: what
// the client paid beyond what the service given so far has earned.
func RefundDue(paid, earned int64) int64 { return max(0, paid-earned) }

// Allocate takes due from payments, in the order given, each at most what
// it has left; what they cannot cover is returned as the rest.
func Allocate(due int64, left []int64) (take []int64, rest int64) {
	take = make([]int64, len(left))
	for i, l := range left {
		take[i] = min(max(l, 0), due)
		due -= take[i]
	}
	return take, due
}

// paidMoney is a payment of a pack and what is left of it to give back.
type paidMoney struct {
	ID     int64  `db:"id"`
	Kind   string `db:"kind"`
	Left   int64  `db:"left"`
	Stripe bool   `db:"stripe"`
}

// EndRefundArgs refunds the unused part of an ended pack through Stripe.
type EndRefundArgs struct {
	PackID int64 `json:"pack_id"`
}

// Kind names the job in River's table.
func (EndRefundArgs) Kind() string { return "billing.end_refund" }

// EndRefundWorker runs EndRefundArgs jobs.
type EndRefundWorker struct {
	river.WorkerDefaults[EndRefundArgs]
	Billing *Service
}

// Work makes the pack's claimed refunds.
func (w *EndRefundWorker) Work(ctx context.Context, job *river.Job[EndRefundArgs]) error {
	return w.Billing.RefundEnding(ctx, job.Args.PackID)
}
