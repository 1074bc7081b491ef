package billing

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
)

// FeeArgs charges the fee a booking owes (a late cancellation or a no-show
// under a fee charter) to the client's saved payment method, off session.
type FeeArgs struct {
	BookingID int64 `json:"booking_id"`
}

// Kind names the job in River's table.
func (FeeArgs) Kind() string { return "billing.fee" }

// EnqueueFee is what packs calls, in the outcome's transaction, when a
// booking comes to owe a fee.
func (s *Service) EnqueueFee(ctx context.Context, tx *sqlx.Tx, bookingID int64) error {
	return s.enqueueOnce(ctx, tx, FeeArgs{BookingID: bookingID})
}

// FeeWorker runs FeeArgs jobs.
type FeeWorker struct {
	river.WorkerDefaults[FeeArgs]
	Billing *Service
}

// Work charges the fee.
func (w *FeeWorker) Work(ctx context.Context, job *river.Job[FeeArgs]) error {
	return w.Billing.ChargeFee(ctx, job.Args.BookingID)
}
