package main

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"gopkg.in/yaml.v3"

	"carnet/internal/errs"
)

// The OpenAPI document must name exactly the routes the server has, and
// every error code the server can answer with.
func TestOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	r := a.do("GET", "/openapi.yaml", "", nil)
	if r.Status != 200 {
		t.Fatalf("/openapi.yaml: %d", r.Status)
	}
	var doc struct {
		Paths      map[string]map[string]any `yaml:"paths"`
		Components struct {
			Schemas map[string]any `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(r.Body, &doc); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	param := regexp.MustCompile(`:(\w+)`)
	served := map[string]bool{}
	for _, rt := range a.m.Handler.(*gin.Engine).Routes() {
		served[rt.Method+" "+param.ReplaceAllString(rt.Path, "{$1}")] = true
	}
	if missing := diff(served, documented); len(missing) > 0 {
		t.Errorf("served but not documented: %v", missing)
	}
	if extra := diff(documented, served); len(extra) > 0 {
		t.Errorf("documented but not served: %v", extra)
	}
	codes := jsonString(doc.Components.Schemas["Error"])
	for _, code := range errs.Codes {
		if !strings.Contains(codes, `"`+code+`"`) {
			t.Errorf("error code %s is not documented", code)
		}
	}
}

func diff(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
