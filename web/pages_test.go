package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"carnet/internal/i18n"
)

// No template carries inline script, inline style or an event handler: the
// CSP forbids them, and a browser would silently drop them.
func TestTemplatesHaveNoInlineCode(t *testing.T) {
	t.Parallel()
	inline := regexp.MustCompile(`(?i)<script(\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=|javascript:|hx-on`)
	err := fs.WalkDir(assets, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(assets, path)
		if m := inline.Find(b); m != nil {
			t.Errorf("%s has inline code: %q", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The sign-in page renders in each locale, in that locale's words, with
// the security headers, and nothing is loaded from another site.
func TestSignInPageInEveryLocale(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.TestMode)
	a := &App{BaseURL: "https://carnet.example", Now: time.Now}
	r := gin.New()
	a.Routes(r)
	want := map[string]string{"fr": "Recevoir un lien de connexion", "es": "Recibir un enlace para entrar",
		"en": "Email me a sign-in link"}
	for _, l := range i18n.Locales {
		w := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/app/signin", nil)
		req.Header.Set("Accept-Language", l+";q=0.9")
		r.ServeHTTP(w, req)
		body := w.Body.String()
		if w.Code != 200 || !strings.Contains(body, want[l]) || !strings.Contains(body, `<html lang="`+l+`">`) {
			t.Errorf("%s: %d %s", l, w.Code, body)
		}
		if csp := w.Header().Get("Content-Security-Policy"); csp != CSP || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("CSP %q", csp)
		}
		if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(body) {
			t.Errorf("%s: the page loads something from another site", l)
		}
	}
}

// A form posted from another site is refused with a page in words.
func TestCrossSitePostRefused(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.TestMode)
	a := &App{BaseURL: "https://carnet.example", Now: time.Now}
	r := gin.New()
	a.Routes(r)
	w := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/app/signin", strings.NewReader("email=a@b.example"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Accept-Language", "en")
	r.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "sent from another site") {
		t.Fatalf("cross-site post: %d %s", w.Code, w.Body.String())
	}
}

func TestSecureCookies(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]bool{"http://127.0.0.1:8080": false, "http://localhost:8080": false,
		"http://[::1]:8080": false, "https://carnet.example": true, "http://carnet.test": true} {
		if got := SecureCookies(url); got != want {
			t.Errorf("SecureCookies(%s) = %v", url, got)
		}
	}
}

// A report's page lists the first pageRows lines of a longer list, and a
// shorter one whole.
func TestFirstLinesOfAReport(t *testing.T) {
	first := funcs["first"].(func(any) any)
	long := make([]int, pageRows+10)
	if got := first(long).([]int); len(got) != pageRows {
		t.Fatalf("%d lines of %d shown", len(got), len(long))
	}
	if got := first([]string{"a", "b"}).([]string); len(got) != 2 {
		t.Fatalf("a short list cut: %v", got)
	}
	if got := first(nil); got != nil {
		t.Fatalf("nothing became %v", got)
	}
}
