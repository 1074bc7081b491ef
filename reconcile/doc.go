// Package reconcile compares every pack's plan with what Stripe did: Detect
// and Ends are its rules; the store opens one anomaly per cause, tells the
// coach and the client, refunds the excess and runs the sweep's checks.
package reconcile
