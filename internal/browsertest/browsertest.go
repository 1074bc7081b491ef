// Package browsertest drives Debian's Chromium, headless, for tests that
// check pages as a person sees them: against the real binary, a real
// PostgreSQL, stripe-mock and the test SMTP server. scripts/chromium.sh
// (called by `make test`) installs Chromium when it is missing.
package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/chromedp"
)

// Phone and desktop viewports.
const (
	PhoneWidth, PhoneHeight     = 375, 740
	DesktopWidth, DesktopHeight = 1280, 900
)

// Path finds Chromium: $CHROMIUM, else chromium or chromium-browser on PATH.
func Path() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("chromium not found: run scripts/chromium.sh (make test does), or set CHROMIUM")
}

// New starts a headless Chromium with an empty profile for the test and
// returns a tab in it; the browser ends with the test. A missing Chromium
// fails the test: a browser test never silently skips.
func New(t testing.TB) context.Context {
	t.Helper()
	path, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(DesktopWidth, DesktopHeight),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser now, so its failure is named
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// Incognito opens a tab with its own cookies in the same browser: a second
// person at another computer.
func Incognito(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("new browser context: %v", err)
	}
	return ctx
}

// Do runs steps with a deadline and fails the test with what it was doing.
func Do(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression and decodes its value.
func Eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %.60q: %v", js, err)
	}
	return v
}

// Text is what a person reads on the page: the body's visible text.
func Text(t testing.TB, ctx context.Context) string {
	t.Helper()
	return Eval[string](t, ctx, `document.body.innerText`)
}

// Status is the HTTP status of the page now shown.
func Status(t testing.TB, ctx context.Context) int {
	t.Helper()
	return Eval[int](t, ctx, `performance.getEntriesByType("navigation")[0].responseStatus`)
}

// Viewport sets the tab's size; mobile emulates a phone (touch, meta viewport).
func Viewport(t testing.TB, ctx context.Context, width, height int64, mobile bool) {
	t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	Do(t, ctx, "set viewport", chromedp.EmulateViewport(width, height, opts...))
}

// HorizontalOverflow names the elements wider than the viewport (empty when
// the page needs no horizontal scrolling).
func HorizontalOverflow(t testing.TB, ctx context.Context) []string {
	t.Helper()
	return Eval[[]string](t, ctx, `(() => {
		const w = document.documentElement.clientWidth, out = [];
		if (document.documentElement.scrollWidth <= w) return out;
		for (const el of document.querySelectorAll("body *")) {
			const r = el.getBoundingClientRect();
			if (r.right > w + 1) out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
				(el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : "") +
				" right=" + Math.round(r.right));
		}
		return out.slice(0, 10);
	})()`)
}

// axeSource is axe-core 4.10.3, from its npm package (licence beside it).
//
//go:embed axe/axe-4.10.3.min.js
var axeSource string

// Violation is one accessibility rule broken on a page.
type Violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
}

// Axe runs axe-core on the page now shown and returns its serious and
// critical violations. DevTools evaluation is not bound by the page's CSP,
// so the page itself never has to allow a foreign script.
func Axe(t testing.TB, ctx context.Context) []Violation {
	t.Helper()
	Eval[chromedp.Void](t, ctx, axeSource)
	raw := Eval[[]byte](t, ctx, `axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
			id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)})))`)
	var out []Violation
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("axe result: %v: %s", err, raw)
	}
	return out
}

// Screenshot writes the whole page as a PNG.
func Screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// css finds elements by CSS selector exactly (document.querySelectorAll),
// where chromedp's default search would also match text and XPath.
func css(sel string) chromedp.QueryOption {
	return chromedp.ByFunc(func(ctx context.Context, t *chromedp.Target, n *chromedp.Node) ([]cdp.NodeID, error) {
		res, err := cdp.Call(ctx, t, dom.QuerySelectorAll, dom.QuerySelectorAllParams{NodeID: n.NodeID, Selector: sel})
		return res.NodeIDs, err
	})
}

// Click clicks the first element matching a CSS selector.
func Click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(sel, css(sel)) }

// WaitVisible waits for an element matching a CSS selector to be visible.
func WaitVisible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(sel, css(sel))
}

// SetValue sets the value of the form field matching a CSS selector.
func SetValue(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.SetValue(sel, value, css(sel))
}

// SendKeys types into the element matching a CSS selector.
func SendKeys(sel, keys string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(sel, keys, css(sel))
}

// Submit submits the form of the element matching a CSS selector.
func Submit(sel string) chromedp.Action[chromedp.Void] { return chromedp.Submit(sel, css(sel)) }

// WaitText waits until the page's text says want, and returns the text.
func WaitText(t testing.TB, ctx context.Context, want string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var txt string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		txt, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		cancel()
		if strings.Contains(txt, want) {
			return txt
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the page never said %q; it says:\n%s", want, txt)
	return txt
}
