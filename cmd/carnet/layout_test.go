package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// layoutPackages follow the file convention: x.go rules and types,
// x_sql.go queries, x_http.go handlers (README, "Layout").
var layoutPackages = []string{"packs", "billing", "webhooks", "reconcile", "localstripe", "reports", "notify", "web",
	"internal/auth", "internal/api", "internal/metrics"}

// httpLayers are packages that are HTTP plumbing through and through (the
// error shape, decoding, middleware): their helpers take a gin.Context
// wherever they live, but they query only in x_sql.go too.
var httpLayers = map[string]bool{"internal/api": true}

// dbCalls are the calls that send a statement.
var dbCalls = map[string]bool{"ExecContext": true, "GetContext": true, "SelectContext": true, "QueryContext": true,
	"QueryxContext": true, "QueryRowContext": true, "QueryRowxContext": true, "NamedExecContext": true,
	"PrepareContext": true}

var statement = regexp.MustCompile(`^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM|WITH)\s`)

// Every query lives in an x_sql.go file and every handler in an x_http.go
// file, so that a rule, its query and its handler are each found in one
// obvious place; web's pages query nothing themselves.
func TestFilesFollowTheLayout(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, pkg := range layoutPackages {
		files, err := filepath.Glob(filepath.Join(root, pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", pkg, err)
		}
		for _, path := range files {
			name := filepath.ToSlash(filepath.Join(pkg, filepath.Base(path)))
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			isSQL, isHTTP := strings.HasSuffix(name, "_sql.go"), strings.HasSuffix(name, "_http.go")
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && dbCalls[sel.Sel.Name] && !isSQL && sendsStatement(n) {
						t.Errorf("%s: %s sends a query outside an x_sql.go file", fset.Position(n.Pos()), sel.Sel.Name)
					}
				case *ast.BasicLit:
					if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && !isSQL && statement.MatchString(s) {
						t.Errorf("%s: an SQL statement outside an x_sql.go file", fset.Position(n.Pos()))
					}
				case *ast.FuncDecl:
					if !isHTTP && !httpLayers[pkg] && takesGinContext(n) {
						t.Errorf("%s: handler %s outside an x_http.go file", fset.Position(n.Pos()), n.Name.Name)
					}
				}
				return true
			})
		}
	}
}

// sendsStatement tells a database call (its arguments hold a context and a
// statement) from gin's or a map's Get.
func sendsStatement(call *ast.CallExpr) bool {
	for _, a := range call.Args {
		if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			return true
		}
		if b, ok := a.(*ast.BinaryExpr); ok && b.Op == token.ADD {
			return true
		}
		if id, ok := a.(*ast.Ident); ok && id.Name == "ctx" {
			return true
		}
	}
	return false
}

func takesGinContext(fn *ast.FuncDecl) bool {
	for _, p := range fn.Type.Params.List {
		if star, ok := p.Type.(*ast.StarExpr); ok {
			if sel, ok := star.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Context" {
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "gin" {
					return true
				}
			}
		}
	}
	return false
}
