package web

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func get(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	gin.SetMode(gin.TestMode)
	r := gin.New()
	Routes(r)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

func TestDashboardPage(t *testing.T) {
	t.Parallel()
	w := get(t, "/dashboard")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /dashboard: %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q", ct)
	}
	page := w.Body.String()
	for _, want := range []string{`"/v1/anomalies?state=open"`, `"/v1/anomalies/"`, `"/v1/notifications"`, `"/v1/balances`,
		`"resolve"`, `"dismiss"`, `"refund"`, "Authorization", "sessionStorage"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not mention %s", want)
		}
	}
	// Data goes into the page as text, never as markup; the key never
	// goes into a URL or into storage that outlives the tab.
	for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "localStorage",
		"http://", "https://", "?key=", "&key="} {
		if strings.Contains(page, banned) {
			t.Errorf("the page uses %s", banned)
		}
	}
	if regexp.MustCompile(`<(script|link)[^>]+(src|href)=`).MatchString(page) {
		t.Errorf("the page loads an external script or stylesheet")
	}
}

// The page's own script and style are the only ones the browser will run.
func TestDashboardCSPAllowsItsOwnInlineCode(t *testing.T) {
	t.Parallel()
	w := get(t, "/dashboard")
	csp := w.Header().Get("Content-Security-Policy")
	for _, tag := range []string{"script", "style"} {
		m := regexp.MustCompile(`(?s)<` + tag + `>(.*?)</` + tag + `>`).FindStringSubmatch(w.Body.String())
		if m == nil {
			t.Fatalf("no <%s> in the page", tag)
		}
		sum := sha256.Sum256([]byte(m[1]))
		if want := tag + "-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Count(w.Body.String(), "<script") != 1 || strings.Count(w.Body.String(), "<style") != 1 {
		t.Errorf("the page must have exactly one inline script and one style (the CSP hashes one of each)")
	}
}
