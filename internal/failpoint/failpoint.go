// Package failpoint lets crash tests kill the real binary at chosen points.
// CARNET_FAILPOINTS=name,name... makes the process SIGKILL itself when it
// reaches one of them (name=detail: only for that detail, e.g. one event id,
// so that background work reaching the same point does not trip it): no deferred function, no graceful shutdown, no
// commit runs after it, exactly as when the machine dies. Unset (always, in
// production), Hit costs a map lookup.
package failpoint

import (
	"os"
	"strings"
	"syscall"
)

// The points the crash tests use.
const (
	// AfterCommit: an idempotent request committed its effects and its
	// answer, and the answer is not written yet.
	AfterCommit = "after-commit"
	// AfterStripe: Stripe answered a call and Carnet has not recorded it.
	AfterStripe = "after-stripe"
	// MidWebhook: a webhook event is stored and half applied, uncommitted.
	MidWebhook = "mid-webhook"
)

var armed = parse(os.Getenv("CARNET_FAILPOINTS"))

func parse(s string) map[string]bool {
	m := map[string]bool{}
	for _, name := range strings.Split(s, ",") {
		if name = strings.TrimSpace(name); name != "" {
			m[name] = true
		}
	}
	return m
}

// Hit kills the process if the point name is armed.
func Hit(name string) { HitFor(name, "") }

// HitFor kills the process if name is armed for any detail, or for this one.
func HitFor(name, detail string) {
	if len(armed) == 0 {
		return
	}
	if armed[name] || (detail != "" && armed[name+"="+detail]) {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way; never go on
	}
}
