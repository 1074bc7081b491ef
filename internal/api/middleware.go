package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"carnet/internal/errs"
)

const requestIDKey = "carnet.request_id"

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// RequestID returns the id of the request being served.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// Observe gives every request an id (kept from X-Request-Id when sane),
// logs it once when done (with any token in its path or query redacted),
// and turns a panic into an "internal error" answer without a stack trace
// for the client.
func Observe(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if !validRequestID.MatchString(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(requestIDKey, id)
		c.Set(loggerKey, log)
		c.Header("X-Request-Id", id)
		start := time.Now()
		defer func() {
			path := c.Request.URL.Path
			for _, p := range c.Params {
				if p.Key == "token" && p.Value != "" { // whatever it looks like
					path = strings.ReplaceAll(path, p.Value, Redacted)
				}
			}
			path = RedactPath(path)
			if r := recover(); r != nil {
				log.Error("panic", "panic", r, "request_id", id, "path", path)
				Fail(c, errs.New(errs.Internal, "internal error"))
			}
			level := slog.LevelInfo
			if c.Writer.Status() >= 500 {
				level = slog.LevelError
			}
			attrs := []any{"request_id", id, "method", c.Request.Method, "route", c.FullPath(),
				"path", path, "status", c.Writer.Status(), "duration_ms", time.Since(start).Milliseconds()}
			if q := RedactQuery(c.Request.URL.RawQuery); q != "" {
				attrs = append(attrs, "query", q)
			}
			log.Log(c.Request.Context(), level, "request", attrs...)
		}()
		c.Next()
	}
}

// Redacted stands in for a secret in the logs.
const Redacted = "[redacted]"

// tokenPrefixes start every credential Carnet hands out: API keys, client
// links, local checkout tokens, emailed sign-in links, web sessions.
var tokenPrefixes = []string{"ck_", "cl_", "co_", "si_", "ws_"}

func looksLikeToken(s string) bool {
	for _, p := range tokenPrefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// RedactPath hides the token of a client link (/c/<token>) and any path
// segment that looks like one of Carnet's credentials.
func RedactPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if (i > 0 && parts[i-1] == "c" && i == 2) || looksLikeToken(s) {
			parts[i] = Redacted
		}
	}
	return strings.Join(parts, "/")
}

// secretParams are query parameters that carry a credential whatever it looks like.
var secretParams = map[string]bool{"token": true, "key": true, "api_key": true, "link": true}

// RedactQuery hides every query value that is or looks like a credential.
func RedactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return Redacted // unparseable: it might hold anything
	}
	for k, vs := range q {
		for i, v := range vs {
			if secretParams[strings.ToLower(k)] || looksLikeToken(v) {
				vs[i] = Redacted
			}
		}
	}
	return q.Encode()
}

// LimitBody caps every request body at max bytes, whatever the route does
// with it: a declared length over it is refused at once, and a body sent
// without one is read here (up to max) so that no handler can ignore an
// oversized body and answer as if it were fine.
func LimitBody(max int64) gin.HandlerFunc {
	tooLarge := errs.New(errs.TooLarge, "request body is larger than %d bytes", max)
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			c.Header("Connection", "close") // do not read the rest of it
			Fail(c, tooLarge)
			return
		}
		if c.Request.Body != nil && c.Request.Body != http.NoBody && c.Request.ContentLength < 0 {
			b, err := io.ReadAll(io.LimitReader(c.Request.Body, max+1))
			switch {
			case int64(len(b)) > max:
				c.Header("Connection", "close")
				Fail(c, tooLarge)
				return
			case err != nil:
				Fail(c, errs.New(errs.Invalid, "could not read the request body"))
				return
			}
			c.Request.Body = io.NopCloser(bytes.NewReader(b))
			c.Request.ContentLength = int64(len(b))
		}
		c.Next()
	}
}
