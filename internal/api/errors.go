// Package api is the HTTP plumbing every domain package shares: the one JSON
// error shape, strict body decoding, request ids, logging, recovery,
// idempotency keys and cursor pagination.
package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"carnet/internal/db"
	"carnet/internal/errs"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[string]int{
	errs.Invalid:             http.StatusBadRequest,
	errs.NotFound:            http.StatusNotFound,
	errs.Conflict:            http.StatusConflict,
	errs.Unauthorized:        http.StatusUnauthorized,
	errs.InsufficientBalance: http.StatusUnprocessableEntity,
	errs.IdempotencyMismatch: http.StatusUnprocessableEntity,
	errs.TooLarge:            http.StatusRequestEntityTooLarge,
	errs.Unavailable:         http.StatusBadGateway,
	errs.Internal:            http.StatusInternalServerError,
}

// Status is the HTTP status of an error code (pages answer with the same
// statuses as the API).
func Status(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusBadRequest
}

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error     *errs.Error `json:"error"`
	RequestID string      `json:"request_id,omitempty"`
}

// Fail writes err as the JSON error shape. Anything that is not an *errs.Error
// is logged and shown only as "internal error".
func Fail(c *gin.Context, err error) {
	var e *errs.Error
	if db.IsRequestReplay(err) {
		// The key row is gone (expired) but its effects are not.
		e = errs.New(errs.Conflict, "this request was already applied; use a new Idempotency-Key for a new request")
	}
	if e == nil && !errors.As(err, &e) {
		slog.ErrorContext(c.Request.Context(), "internal error", "err", err, "request_id", RequestID(c),
			"method", c.Request.Method, "path", c.FullPath())
		e = errs.New(errs.Internal, "internal error")
	}
	c.AbortWithStatusJSON(Status(e.Code), ErrorBody{Error: e, RequestID: RequestID(c)})
}

// NotFound answers unknown routes in the same shape.
func NotFound(c *gin.Context) {
	Fail(c, errs.NotFoundf("no route %s %s", c.Request.Method, c.Request.URL.Path))
}

// MethodNotAllowed answers a known path with the wrong method.
func MethodNotAllowed(c *gin.Context) {
	c.AbortWithStatusJSON(http.StatusMethodNotAllowed, ErrorBody{
		Error:     errs.New(errs.Invalid, "method %s not allowed on %s", c.Request.Method, c.Request.URL.Path),
		RequestID: RequestID(c),
	})
}

// Respond writes v with status, or err when there is one.
func Respond(c *gin.Context, status int, v any, err error) {
	if err != nil {
		Fail(c, err)
		return
	}
	c.JSON(status, v)
}
