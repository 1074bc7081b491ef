package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"

	"carnet/internal/errs"
)

const requestIDKey = "carnet.request_id"

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// RequestID returns the id of the request being served.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// Observe gives every request an id (kept from X-Request-Id when sane),
// logs it once when done, and turns a panic into an "internal error" answer
// without a stack trace for the client.
func Observe(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if !validRequestID.MatchString(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(requestIDKey, id)
		c.Header("X-Request-Id", id)
		start := time.Now()
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic", "panic", r, "request_id", id, "path", c.Request.URL.Path)
				Fail(c, errs.New(errs.Internal, "internal error"))
			}
			level := slog.LevelInfo
			if c.Writer.Status() >= 500 {
				level = slog.LevelError
			}
			log.Log(c.Request.Context(), level, "request",
				"request_id", id, "method", c.Request.Method, "route", c.FullPath(),
				"path", c.Request.URL.Path, "status", c.Writer.Status(),
				"duration_ms", time.Since(start).Milliseconds())
		}()
		c.Next()
	}
}
