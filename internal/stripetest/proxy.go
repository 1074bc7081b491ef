// Package stripetest puts a small recording HTTP proxy in front of the real
// stripe-mock, so that a test can count the calls Carnet made to Stripe and
// the idempotency keys they carried (stripe-mock itself keeps no state).
package stripetest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// Call is one request Carnet sent.
type Call struct {
	Method, Path, IdempotencyKey string
}

// Proxy forwards to stripe-mock and records every request.
type Proxy struct {
	URL   string
	mu    sync.Mutex
	calls []Call
}

// Start proxies to target (STRIPE_API_BASE) until the test ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		t.Fatalf("stripe-mock address %q: %v", target, err)
	}
	p := &Proxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.calls = append(p.calls, Call{Method: r.Method, Path: r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key")})
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Calls returns the requests made to path with method, in order.
func (p *Proxy) Calls(method, path string) []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Call
	for _, c := range p.calls {
		if c.Method == method && c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

// Keys returns the distinct idempotency keys of the requests to path.
func (p *Proxy) Keys(method, path string) map[string]int {
	keys := map[string]int{}
	for _, c := range p.Calls(method, path) {
		keys[c.IdempotencyKey]++
	}
	return keys
}
