// Package errs is Carnet's one error type: a stable code for machines and a
// message for people. Handlers turn it into a JSON error with api.Fail.
package errs

import (
	"errors"
	"fmt"
)

// Codes are part of the API contract: never rename one.
const (
	Invalid             = "invalid"
	NotFound            = "not_found"
	MethodNotAllowed    = "method_not_allowed"
	Conflict            = "conflict"
	Unauthorized        = "unauthorized"
	InsufficientBalance = "insufficient_balance"
	IdempotencyMismatch = "idempotency_mismatch"
	TooLarge            = "too_large"
	RateLimited         = "rate_limited" // too many failed attempts; wait Retry-After
	Unavailable         = "unavailable"  // the database or a provider (Stripe) failed; retry later
	Internal            = "internal"
)

// Codes lists every code, for documentation and its tests.
var Codes = []string{Invalid, NotFound, MethodNotAllowed, Conflict, Unauthorized, InsufficientBalance,
	IdempotencyMismatch, TooLarge, RateLimited, Unavailable, Internal}

// Error is a domain error. Field names the input at fault, when there is one.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Cause is what went wrong underneath (a provider's own text): logged,
	// never shown to the caller.
	Cause error `json:"-"`
	// RetryAfter, in seconds, becomes the Retry-After header when set.
	RetryAfter int `json:"-"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return e.Code + ": " + e.Message
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Cause }

// New returns an error with the given code and message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with the given code and message for people, keeping
// cause for the logs only.
func Wrap(cause error, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// Field returns an `invalid` error about one input field.
func Field(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf is the common "no such thing (for you)" error.
func NotFoundf(format string, args ...any) *Error { return New(NotFound, format, args...) }

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// AsError returns the first *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
