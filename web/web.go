// Package web serves what people and tools read in a browser: the OpenAPI
// document, the coach's dashboard and the pages Stripe Checkout sends the
// client back to. Assets are embedded.
package web

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"
)

// OpenAPI is the API reference, kept true by a test against the router.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Dashboard is the coach's page: one static file that asks for the API key
// (kept in the tab's sessionStorage, never in a URL) and reads the /v1 API
// with it. The page itself holds no data, so it needs no authentication.
//
//go:embed dashboard.html
var Dashboard []byte

// dashboardCSP lets the page run only its own inline script and style (by
// hash) and talk only to this server.
var dashboardCSP = "default-src 'none'; connect-src 'self'; script-src " + inlineHash("script") +
	"; style-src " + inlineHash("style") + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// inlineHash is the CSP source for the one <tag> element of the dashboard.
func inlineHash(tag string) string {
	m := regexp.MustCompile(`(?s)<` + tag + `>(.*?)</` + tag + `>`).FindSubmatch(Dashboard)
	if m == nil {
		panic("web: dashboard.html has no <" + tag + ">")
	}
	sum := sha256.Sum256(m[1])
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// Routes mounts the public documents, the coach's dashboard and the pages
// Stripe Checkout sends the client back to.
func Routes(r gin.IRouter) {
	r.GET("/openapi.yaml", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/yaml; charset=utf-8", OpenAPI)
	})
	r.GET("/dashboard", func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", dashboardCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "text/html; charset=utf-8", Dashboard)
	})
	r.GET("/checkout/done", page("Thank you", "Your payment is on its way. Your pack starts as soon as it is confirmed; a SEPA debit takes a few days."))
	r.GET("/checkout/cancelled", page("Checkout cancelled", "Nothing was charged. You can come back to your coach's link whenever you like."))
}

var simplePage = template.Must(template.New("page").Parse(`<!doctype html><html><head><meta charset="utf-8">
<title>{{.Title}}</title><style>body{font:16px system-ui;max-width:36rem;margin:3rem auto;padding:0 1rem}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Text}}</p></body></html>`))

func page(title, text string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Status(http.StatusOK)
		c.Header("Content-Type", "text/html; charset=utf-8")
		_ = simplePage.Execute(c.Writer, map[string]string{"Title": title, "Text": text})
	}
}
