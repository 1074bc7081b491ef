package packs

import (
	"slices"
	"strings"
)

// Status is where a pack is in its life.
type Status string

// A pack's statuses (DESIGN, "Packs").
const (
	StatusPending   Status = "pending"   // checkout open, nothing paid
	StatusActive    Status = "active"    // paid, sessions usable
	StatusExhausted Status = "exhausted" // a sessions pack with none left
	StatusOverdue   Status = "overdue"   // an installment failed; usable for the charter's grace days
	StatusExpired   Status = "expired"   // validity over
	StatusCancelled Status = "cancelled" // never paid (checkout expired, first payment failed)
	StatusRefunded  Status = "refunded"  // its money went back (full refund, lost dispute)
)

// moves is the pack's life: every status a pack may go to from each status.
// A status missing from a list is a move no event may make, whatever order
// Stripe's events arrive in.
var moves = map[Status][]Status{
	// A pending pack is paid, abandoned, or (events out of order) refunded.
	StatusPending: {StatusActive, StatusCancelled, StatusRefunded},
	// A checkout Stripe failed before any session was opened may be retried.
	StatusCancelled: {StatusPending},
	StatusActive:    {StatusExhausted, StatusOverdue, StatusExpired, StatusRefunded},
	StatusExhausted: {StatusActive, StatusOverdue, StatusExpired, StatusRefunded},
	// Overdue again records a later failure; overdue_since keeps the first.
	StatusOverdue: {StatusActive, StatusExhausted, StatusOverdue, StatusExpired, StatusRefunded},
	StatusExpired: {StatusRefunded},
}

// CanMove tells whether a pack in status from may go to status to.
func CanMove(from, to Status) bool { return slices.Contains(moves[from], to) }

// MovableTo lists, in a fixed order, the statuses from which a pack may go to
// every one of to: the guard of an UPDATE that moves packs there
// (`WHERE status = ANY($n)`).
func MovableTo(to ...Status) []string {
	var from []string
	for _, s := range allStatuses {
		ok := true
		for _, t := range to {
			ok = ok && CanMove(s, t)
		}
		if ok {
			from = append(from, string(s))
		}
	}
	return from
}

var allStatuses = []Status{StatusPending, StatusActive, StatusExhausted, StatusOverdue, StatusExpired,
	StatusCancelled, StatusRefunded}

// Live tells whether a pack in this status may still pay for a session
// (an overdue one within its grace days, an exhausted one once credited).
func (s Status) Live() bool { return slices.Contains(liveStatuses, s) }

// Ended reports whether a pack in this status expects no more money.
func (s Status) Ended() bool { return s == StatusRefunded || s == StatusCancelled }

// statusList is a set of statuses as a query parameter.
func statusList(ss ...Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// StatusSQL renders statuses as an SQL list, ('active', 'overdue'), for a
// read-only query that names them in its text: written from the constants,
// a renamed status cannot be missed, and the statement PostgreSQL plans
// stays the same. Only these constants go in, never input.
func StatusSQL(ss ...Status) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + string(s) + "'"
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// liveStatuses are the statuses Live accepts, as a query wants them.
var liveStatuses = []Status{StatusActive, StatusOverdue, StatusExhausted}
