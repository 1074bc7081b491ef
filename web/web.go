// Package web serves what people and tools read in a browser: the coach's
// application (/app, server-rendered pages), the OpenAPI document and the
// pages Stripe Checkout sends the client back to. Assets are embedded.
package web

import (
	_ "embed"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"
)

// OpenAPI is the API reference, kept true by a test against the router.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Routes mounts the public documents and the pages
// Stripe Checkout sends the client back to.
func Routes(r gin.IRouter) {
	r.GET("/openapi.yaml", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/yaml; charset=utf-8", OpenAPI)
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
