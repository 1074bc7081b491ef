package web

import (
	"bytes"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/errs"
)

// Render writes a page with status. The page is rendered into a buffer
// first, so a template error is a clean 500, never half a page.
func (p *Pages) Render(c *gin.Context, status int, page string, v *View) {
	t, ok := p.pages[page]
	if !ok {
		panic("web: no page " + page) // a programming error, caught by every test
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		slog.ErrorContext(c.Request.Context(), "render page", "page", page, "err", err, "request_id", api.RequestID(c))
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte(v.T("error.internal")))
		c.Abort()
		return
	}
	if c.GetHeader("HX-Request") == "true" {
		// htmx swaps the page's <main> only, so it gets the same HTML and
		// picks the part it needs: one template for both, no fragment drift.
		c.Header("Vary", "HX-Request")
	}
	c.Data(status, "text/html; charset=utf-8", b.Bytes())
}

// ErrorText writes an error for people in their language: by its code, and
// for invalid input, naming the field. Provider texts, SQL and stack traces
// never reach a page; an unexpected error is logged with the request id.
func (p *Pages) ErrorText(c *gin.Context, locale string, err error) string {
	e := errs.AsError(err)
	if e == nil {
		slog.ErrorContext(c.Request.Context(), "internal error", "err", err, "request_id", api.RequestID(c),
			"method", c.Request.Method, "path", c.Request.URL.Path)
		return p.Catalog.T(locale, "error.internal", "RequestID", api.RequestID(c))
	}
	if e.Code == errs.Invalid && e.Field != "" {
		field := p.Catalog.T(locale, "field."+e.Field)
		if field == "field."+e.Field {
			field = e.Field
		}
		return p.Catalog.T(locale, "error.invalid_field", "Field", field)
	}
	return p.Catalog.T(locale, "error."+e.Code)
}

// Fail renders the error page for err with its HTTP status (another
// coach's id is a 404 page like any unknown one).
func (p *Pages) Fail(c *gin.Context, v *View, err error) {
	code := errs.CodeOf(err)
	v.Title = p.Catalog.T(v.Locale, "error.title."+code)
	if v.Title == "error.title."+code {
		v.Title = p.Catalog.T(v.Locale, "error.title.other")
	}
	v.Error = p.ErrorText(c, v.Locale, err)
	p.Render(c, api.Status(code), "error", v)
	c.Abort()
}

// serveAssets answers /assets/NAME from the embedded static files.
func serveAssets(c *gin.Context) {
	name := c.Param("name")
	b, err := fs.ReadFile(assets, "static/"+name)
	if err != nil || strings.Contains(name, "..") {
		c.Status(http.StatusNotFound)
		return
	}
	ctype := "application/octet-stream"
	switch path.Ext(name) {
	case ".css":
		ctype = "text/css; charset=utf-8"
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".svg":
		ctype = "image/svg+xml"
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, ctype, b)
}
