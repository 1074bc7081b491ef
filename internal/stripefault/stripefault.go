// Package stripefault is a test helper: a small HTTP proxy in front of the
// real stripe-mock that forwards every request and, on the requests a test
// chooses (by method, path and occurrence), answers 429 or 500, delays, or
// drops the connection. It is not a fake of Stripe: every answer that is
// not a fault is stripe-mock's own. It records what it saw (method, path,
// Idempotency-Key, the fault applied), so a test can check that a retry
// asked Stripe for the same thing with the same key.
package stripefault

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// Fault is what the proxy does to a chosen request.
type Fault string

// The faults a rule can inject.
const (
	// RateLimited answers 429 with Stripe's rate-limit error, without
	// forwarding: Stripe did nothing.
	RateLimited Fault = "429"
	// ServerError answers 500 with Stripe's api_error, without forwarding.
	ServerError Fault = "500"
	// Slow forwards the request, then waits Rule.Delay before answering.
	Slow Fault = "delay"
	// DropBefore closes the connection without forwarding: Stripe never
	// heard of the request. Go's transport, as well as stripe-go, may send
	// a request with an Idempotency-Key again on its own after a drop, so
	// a test that wants every try to fail drops every request.
	DropBefore Fault = "drop-before"
	// DropAfter forwards the request, then closes the connection without
	// answering: Stripe did it, the caller does not know.
	DropAfter Fault = "drop-after"
)

// Rule picks requests: Method and Path (a trailing "*" matches any rest),
// and the occurrences of that match to hit, counting from 1 (none: all).
type Rule struct {
	Method string
	Path   string
	On     []int
	Fault  Fault
	Delay  time.Duration
}

func (r Rule) matches(method, path string) bool {
	if r.Method != "" && r.Method != method {
		return false
	}
	if p, ok := strings.CutSuffix(r.Path, "*"); ok {
		return strings.HasPrefix(path, p)
	}
	return r.Path == path
}

// Seen is one request the proxy received.
type Seen struct {
	Method, Path, Query string
	IdempotencyKey      string
	Fault               Fault // "" when it was forwarded and answered
	Status              int   // what the caller got, 0 when dropped
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	URL    string
	target string
	mu     sync.Mutex
	rules  []Rule
	counts map[int]int // rule index -> matching requests so far
	seen   []Seen
	hc     *http.Client
}

// New starts a proxy in front of target (stripe-mock's base URL, such as
// STRIPE_API_BASE) for the length of the test.
func New(t testing.TB, target string) *Proxy {
	t.Helper()
	if target == "" {
		t.Fatal("STRIPE_API_BASE is not set: run the tests with `make test`, which starts stripe-mock")
	}
	p := &Proxy{target: strings.TrimRight(target, "/"), counts: map[int]int{}, hc: &http.Client{Timeout: 30 * time.Second}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Inject adds rules; occurrences count from when each rule is added.
func (p *Proxy) Inject(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, rules...)
}

// Clear removes every rule (what was seen stays).
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.counts = nil, map[int]int{}
}

// Seen returns the requests matching method and path (as in a Rule).
func (p *Proxy) Seen(method, path string) []Seen {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := Rule{Method: method, Path: path}
	var out []Seen
	for _, s := range p.seen {
		if r.matches(s.Method, s.Path) {
			out = append(out, s)
		}
	}
	return out
}

// Keys returns the Idempotency-Key of each request matching method and path.
func (p *Proxy) Keys(method, path string) []string {
	var out []string
	for _, s := range p.Seen(method, path) {
		out = append(out, s.IdempotencyKey)
	}
	return out
}

// pick returns the rule hitting this request, counting every match.
func (p *Proxy) pick(method, path string) (Rule, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var hit Rule
	found := false
	for i, r := range p.rules {
		if !r.matches(method, path) {
			continue
		}
		p.counts[i]++
		if found {
			continue
		}
		if len(r.On) == 0 {
			hit, found = r, true
		}
		for _, n := range r.On {
			if n == p.counts[i] {
				hit, found = r, true
			}
		}
	}
	return hit, found
}

func (p *Proxy) record(s Seen) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, s)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	seen := Seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, IdempotencyKey: r.Header.Get("Idempotency-Key")}
	rule, hit := p.pick(r.Method, r.URL.Path)
	if hit {
		seen.Fault = rule.Fault
	}
	switch {
	case hit && rule.Fault == RateLimited:
		seen.Status = http.StatusTooManyRequests
		p.record(seen)
		stripeError(w, http.StatusTooManyRequests, "invalid_request_error", "rate_limit",
			"Request rate limit exceeded. (stripefault)")
		return
	case hit && rule.Fault == ServerError:
		seen.Status = http.StatusInternalServerError
		p.record(seen)
		stripeError(w, http.StatusInternalServerError, "api_error", "", "An unknown error occurred. (stripefault)")
		return
	case hit && rule.Fault == DropBefore:
		p.record(seen)
		drop(w)
		return
	}
	resp, err := p.forward(r, body)
	if err != nil {
		seen.Status = http.StatusBadGateway
		p.record(seen)
		http.Error(w, "stripefault: stripe-mock did not answer: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	switch {
	case hit && rule.Fault == DropAfter:
		p.record(seen)
		drop(w)
		return
	case hit && rule.Fault == Slow:
		select {
		case <-time.After(rule.Delay):
		case <-r.Context().Done(): // the caller gave up
		}
	}
	seen.Status = resp.StatusCode
	p.record(seen)
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

func (p *Proxy) forward(r *http.Request, body []byte) (*http.Response, error) {
	req, err := http.NewRequest(r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	return p.hc.Do(req)
}

// stripeError answers in the shape of Stripe's errors, so stripe-go reads
// the status and type as it would from Stripe.
func stripeError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_stripefault")
	w.WriteHeader(status)
	codeField := ""
	if code != "" {
		codeField = fmt.Sprintf(`, "code": %q`, code)
	}
	_, _ = fmt.Fprintf(w, `{"error": {"type": %q, "message": %q%s}}`, typ, msg, codeField)
}

// drop closes the connection without a byte of answer.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "stripefault: cannot drop this connection", http.StatusBadGateway)
		return
	}
	if conn, _, err := hj.Hijack(); err == nil {
		_ = conn.Close()
	}
}

// FastRetries makes stripe-go retry without its 0.5–5 s sleeps, so a test
// of its retries waits milliseconds. Every resource of api shares one
// backend, so one switch covers them all.
func FastRetries(api *client.API) {
	if b, ok := api.Customers.B.(*stripe.BackendImplementation); ok {
		b.SetNetworkRetriesSleep(false)
	}
}
