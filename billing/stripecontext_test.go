package billing

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// Every call to Stripe carries its caller's context: the params passed to
// s.Stripe.<Resource>.<Method> have their Context set in the same function,
// so a caller that hangs up or a worker that stops cancels the call.
func TestEveryStripeCallCarriesItsContext(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	calls := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			withContext := map[string]bool{}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if as, ok := n.(*ast.AssignStmt); ok {
					if sel, ok := as.Lhs[0].(*ast.SelectorExpr); ok && sel.Sel.Name == "Context" {
						if id, ok := sel.X.(*ast.Ident); ok {
							withContext[id.Name] = true
						}
					}
				}
				return true
			})
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || !strings.Contains(exprString(call.Fun), ".Stripe.") || len(call.Args) == 0 {
					return true
				}
				calls++
				params, ok := call.Args[len(call.Args)-1].(*ast.Ident)
				if !ok || !withContext[params.Name] {
					t.Errorf("%s: %s(...) is called without its params' Context set", fset.Position(call.Pos()), exprString(call.Fun))
				}
				return true
			})
		}
	}
	if calls < 10 {
		t.Fatalf("found only %d Stripe calls: the test no longer sees them", calls)
	}
}

func exprString(e ast.Expr) string {
	switch v := e.(type) {
	case *ast.SelectorExpr:
		return exprString(v.X) + "." + v.Sel.Name
	case *ast.Ident:
		return v.Name
	}
	return "?"
}
