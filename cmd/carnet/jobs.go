package main

// The idempotency keys' purge is plumbing of internal/api run on River
// (internal/jobs); neither knows the other, so the job is wired here.

// purgeArgs is the periodic job that runs api.PurgeIdempotencyKeys (a
// jobs.Func). Its kind is unchanged, so jobs an older release queued still run.
type purgeArgs struct{}

// Kind names the job in River's table.
func (purgeArgs) Kind() string { return "api.purge_idempotency_keys" }
