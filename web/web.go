// Package web serves what people and tools read in a browser: the coach's
// application (/app, server-rendered pages), the client's page (/client),
// the OpenAPI document and the pages Stripe Checkout sends the client back
// to. Assets are embedded.
package web

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// OpenAPI is the API reference, kept true by a test against the router.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Routes mounts the public documents.
func Routes(r gin.IRouter) {
	r.GET("/openapi.yaml", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/yaml; charset=utf-8", OpenAPI)
	})
}
