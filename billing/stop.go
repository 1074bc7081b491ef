package billing

import (
	"context"

	"github.com/riverqueue/river"
)

// StopPlanArgs stops an installment plan's debits at Stripe once its pack
// has ended (refunded in full, dispute lost): Stripe would otherwise go on
// charging the client for sessions that no longer exist.
type StopPlanArgs struct {
	PackID int64 `json:"pack_id"`
}

// Kind names the job in River's table.
func (StopPlanArgs) Kind() string { return "billing.stop_plan" }

// StopPlanWorker runs StopPlanArgs jobs.
type StopPlanWorker struct {
	river.WorkerDefaults[StopPlanArgs]
	Billing *Service
}

// Work stops the plan.
func (w *StopPlanWorker) Work(ctx context.Context, job *river.Job[StopPlanArgs]) error {
	return w.Billing.StopPlan(ctx, job.Args.PackID)
}
