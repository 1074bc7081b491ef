// Package api is the HTTP plumbing every domain package shares: the one JSON
// error shape, strict body decoding, request ids, logging, recovery,
// idempotency keys and cursor pagination.
package api

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/lib/pq"

	"carnet/internal/db"
	"carnet/internal/errs"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[string]int{
	errs.Invalid:             http.StatusBadRequest,
	errs.NotFound:            http.StatusNotFound,
	errs.MethodNotAllowed:    http.StatusMethodNotAllowed,
	errs.Conflict:            http.StatusConflict,
	errs.Unauthorized:        http.StatusUnauthorized,
	errs.InsufficientBalance: http.StatusUnprocessableEntity,
	errs.IdempotencyMismatch: http.StatusUnprocessableEntity,
	errs.TooLarge:            http.StatusRequestEntityTooLarge,
	errs.RateLimited:         http.StatusTooManyRequests,
	errs.Unavailable:         http.StatusServiceUnavailable,
	errs.Internal:            http.StatusInternalServerError,
}

// Status is the HTTP status of an error code (pages answer with the same
// statuses as the API). A code missing from the table is a bug of ours, so
// it answers 500, never a 4xx that blames the caller.
func Status(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// RetryAfterSeconds is what a 503 tells the caller to wait: a database
// restart or a Stripe hiccup is usually over by then.
const RetryAfterSeconds = 5

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error     *errs.Error `json:"error"`
	RequestID string      `json:"request_id,omitempty"`
}

// DatabaseDown is what callers read while PostgreSQL cannot be reached.
var DatabaseDown = errs.New(errs.Unavailable, "Carnet cannot reach its database right now; nothing was changed, try again in a few seconds")

// Fail writes err as the JSON error shape. Anything that is not an *errs.Error
// is logged with its cause and shown only as "internal error" (or, when the
// database is unreachable, as a 503 to retry): no provider text, no address.
func Fail(c *gin.Context, err error) {
	var e *errs.Error
	if db.IsRequestReplay(err) {
		// The key row is gone (expired) but its effects are not.
		e = errs.New(errs.Conflict, "this request was already applied; use a new Idempotency-Key for a new request")
	}
	if e == nil && !errors.As(err, &e) {
		msg := "internal error"
		switch {
		case Unreachable(err):
			msg, e = "database unreachable", DatabaseDown
		case dataException(err):
			// A value our checks let through and PostgreSQL refused (a
			// number too large for its column): the caller's input, not our state.
			msg, e = "value refused by the database", errs.New(errs.Invalid, "a value in the request is out of range or not valid")
		default:
			e = errs.New(errs.Internal, "internal error")
		}
		LoggerOf(c).ErrorContext(c.Request.Context(), msg, "err", err, "request_id", RequestID(c),
			"method", c.Request.Method, "route", c.FullPath())
	} else if e.Cause != nil {
		LoggerOf(c).WarnContext(c.Request.Context(), "request failed", "code", e.Code, "err", e.Cause,
			"request_id", RequestID(c), "method", c.Request.Method, "route", c.FullPath())
	}
	status := Status(e.Code)
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(e.RetryAfter))
	} else if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", strconv.Itoa(RetryAfterSeconds))
	}
	c.AbortWithStatusJSON(status, ErrorBody{Error: e, RequestID: RequestID(c)})
}

// Unreachable tells an error that means "the database is not there right
// now" (refused or dropped connection, a server shutting down or starting)
// from one that means a bug, by type and SQLSTATE class, never by text.
func Unreachable(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		// 08: connection exception; 57P01-57P03: admin/crash shutdown, cannot connect now.
		return strings.HasPrefix(string(pqErr.Code), "08") || pqErr.Code == "57P01" ||
			pqErr.Code == "57P02" || pqErr.Code == "57P03"
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, context.DeadlineExceeded)
}

// dataException tells a PostgreSQL data exception (SQLSTATE class 22: a
// number out of range, an invalid text or date value).
func dataException(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && strings.HasPrefix(string(pqErr.Code), "22")
}

// NotFound answers unknown routes in the same shape.
func NotFound(c *gin.Context) {
	Fail(c, errs.NotFoundf("no route %s %s", c.Request.Method, RedactPath(c.Request.URL.Path)))
}

// MethodNotAllowed answers a known path with the wrong method.
func MethodNotAllowed(c *gin.Context) {
	Fail(c, errs.New(errs.MethodNotAllowed, "method %s not allowed on %s", c.Request.Method, RedactPath(c.Request.URL.Path)))
}

// Respond writes v with status, or err when there is one.
func Respond(c *gin.Context, status int, v any, err error) {
	if err != nil {
		Fail(c, err)
		return
	}
	c.JSON(status, v)
}

const loggerKey = "carnet.logger"

// LoggerOf is the program's logger, set by Observe (slog's default before).
func LoggerOf(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey); ok {
		return l.(*slog.Logger)
	}
	return slog.Default()
}
