// Package web serves what people and tools read in a browser: the OpenAPI
// document now, the dashboard and client pages later. Assets are embedded.
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
