package billing

import (
	"context"

	"github.com/riverqueue/river"
)

// ScheduleArgs binds an installment pack's subscription to exactly its
// number of debits, so that Stripe stops by itself after the last one.
type ScheduleArgs struct {
	PackID int64 `json:"pack_id"`
}

// Kind names the job in River's table.
func (ScheduleArgs) Kind() string { return "billing.schedule" }

// ScheduleWorker runs ScheduleArgs jobs.
type ScheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	Billing *Service
}

// Work creates the subscription schedule once and ends it after N iterations.
func (w *ScheduleWorker) Work(ctx context.Context, job *river.Job[ScheduleArgs]) error {
	return w.Billing.BindSchedule(ctx, job.Args.PackID)
}
