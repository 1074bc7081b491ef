package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"carnet/internal/errs"
)

// MaxBody caps every JSON request body.
const MaxBody = 1 << 20

// Decode reads the JSON body into v, refusing unknown fields, trailing data
// and bodies over MaxBody, with messages that name the field at fault.
func Decode(c *gin.Context, v any) error {
	body, err := ReadBody(c)
	if err != nil {
		return err
	}
	return DecodeBytes(body, v)
}

// ReadBody reads the raw body once (capped) and keeps it for re-reading.
func ReadBody(c *gin.Context) ([]byte, error) {
	if b, ok := c.Get(bodyKey); ok {
		return b.([]byte), nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errs.New(errs.TooLarge, "request body is larger than %d bytes", MaxBody)
		}
		return nil, errs.New(errs.Invalid, "could not read the request body")
	}
	c.Set(bodyKey, body)
	return body, nil
}

const bodyKey = "carnet.body"

// DecodeBytes decodes one JSON object strictly.
func DecodeBytes(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return errs.New(errs.Invalid, "a JSON body is required")
	}
	// PostgreSQL text cannot hold NUL: refuse it here rather than fail later.
	if strings.Contains(string(body), `\u0000`) || strings.ContainsRune(string(body), 0) {
		return errs.New(errs.Invalid, "text must not contain the NUL character")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errs.New(errs.Invalid, "the body must hold one JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return errs.New(errs.Invalid, "malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errs.New(errs.Invalid, "the body must be a JSON object")
		}
		return errs.Field(typ.Field, "must be a %s", jsonKind(typ.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.New(errs.Invalid, "malformed JSON: unexpected end")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errs.Field(name, "unknown field")
	}
	return errs.New(errs.Invalid, "malformed JSON")
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "number"
	case k == "bool":
		return "boolean"
	case k == "slice", k == "array":
		return "list"
	case k == "struct", k == "map", k == "ptr":
		return "object"
	}
	return k
}

// PathID reads a positive integer id from the path parameter name; anything
// else is not found, as an unknown id would be.
func PathID(c *gin.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.NotFoundf("no %s %q", strings.TrimSuffix(name, "_id"), c.Param(name))
	}
	return id, nil
}

// Page is a cursor page request: items after Cursor, at most Limit.
type Page struct {
	After int64
	Limit int
}

// ParsePage reads ?cursor=&limit= (limit 1..100, default 50).
func ParsePage(c *gin.Context) (Page, error) {
	p := Page{Limit: 50}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return p, errs.Field("limit", "must be a whole number from 1 to 100")
		}
		p.Limit = n
	}
	if s := c.Query("cursor"); s != "" {
		after, err := DecodeCursor(s)
		if err != nil {
			return p, err
		}
		p.After = after
	}
	return p, nil
}

// List is the shape of every paginated list.
type List[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// NewList cuts a page fetched with Limit+1 rows and sets the next cursor from
// the last row's id.
func NewList[T any](rows []T, limit int, id func(T) int64) List[T] {
	l := List[T]{Data: rows}
	if l.Data == nil {
		l.Data = []T{}
	}
	if len(rows) > limit {
		l.Data = rows[:limit]
		l.NextCursor = EncodeCursor(id(rows[limit-1]))
	}
	return l
}

// Cursors are opaque to clients; today they carry the last id seen.
func EncodeCursor(id int64) string { return "c" + strconv.FormatInt(id, 36) }

// DecodeCursor reverses EncodeCursor.
func DecodeCursor(s string) (int64, error) {
	if !strings.HasPrefix(s, "c") {
		return 0, errs.Field("cursor", "is not a cursor this API gave out")
	}
	id, err := strconv.ParseInt(s[1:], 36, 64)
	if err != nil || id < 0 {
		return 0, errs.Field("cursor", "is not a cursor this API gave out")
	}
	return id, nil
}
