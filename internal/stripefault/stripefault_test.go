package stripefault

import (
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

func newClient(t *testing.T) (*Proxy, *client.API) {
	p := New(t, os.Getenv("STRIPE_API_BASE"))
	cfg := &stripe.BackendConfig{URL: stripe.String(p.URL), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}}
	api := client.New("sk_test_123", &stripe.Backends{API: stripe.GetBackendWithConfig(stripe.APIBackend, cfg)})
	FastRetries(api)
	return p, api
}

func newCustomer(api *client.API, key string) (*stripe.Customer, error) {
	params := &stripe.CustomerParams{Email: stripe.String("a@example.com")}
	params.IdempotencyKey = stripe.String(key)
	return api.Customers.New(params)
}

func statusOf(err error) int {
	var se *stripe.Error
	if errors.As(err, &se) {
		return se.HTTPStatusCode
	}
	return 0
}

// What stripe-go does with each fault the proxy injects, against the real
// stripe-mock behind it.
func TestFaults(t *testing.T) {
	t.Parallel()
	p, api := newClient(t)

	// Forwarded untouched: stripe-mock's own answer.
	if c, err := newCustomer(api, "k-plain"); err != nil || c.ID == "" {
		t.Fatalf("forwarded: %v %v", c, err)
	}

	// 429 and a POST's 500 reach the caller at once: stripe-go retries neither.
	p.Inject(Rule{Method: "POST", Path: "/v1/customers", On: []int{1}, Fault: RateLimited},
		Rule{Method: "POST", Path: "/v1/customers", On: []int{2}, Fault: ServerError})
	if _, err := newCustomer(api, "k-429"); statusOf(err) != http.StatusTooManyRequests {
		t.Fatalf("429: %v", err)
	}
	if _, err := newCustomer(api, "k-500"); statusOf(err) != http.StatusInternalServerError {
		t.Fatalf("500: %v", err)
	}
	if got := p.Keys("POST", "/v1/customers"); len(got) != 3 || got[1] != "k-429" || got[2] != "k-500" {
		t.Fatalf("keys seen %v", got)
	}
	p.Clear()

	// A dropped connection, before or after stripe-mock heard it, is
	// retried by stripe-go with the same key.
	for _, f := range []Fault{DropBefore, DropAfter} {
		p.Inject(Rule{Method: "POST", Path: "/v1/customers", On: []int{1}, Fault: f})
		before := len(p.Seen("POST", "/v1/customers"))
		if _, err := newCustomer(api, "k-"+string(f)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		seen := p.Seen("POST", "/v1/customers")[before:]
		if len(seen) != 2 || seen[0].Fault != f || seen[1].Fault != "" || seen[0].IdempotencyKey != seen[1].IdempotencyKey {
			t.Fatalf("%s: seen %+v", f, seen)
		}
		p.Clear()
	}

	// A GET's 500 is retried by stripe-go; a path pattern matches any id.
	p.Inject(Rule{Method: "GET", Path: "/v1/customers/*", On: []int{1, 2}, Fault: ServerError})
	if _, err := api.Customers.Get("cus_123", nil); err != nil {
		t.Fatalf("GET after two 500s: %v", err)
	}
	if n := len(p.Seen("GET", "/v1/customers/*")); n != 3 {
		t.Fatalf("GET tried %d times, want 3", n)
	}
	p.Clear()

	// A slow answer comes, late; a caller's deadline ends it first.
	p.Inject(Rule{Method: "GET", Path: "/v1/balance", Fault: Slow, Delay: 30 * time.Millisecond})
	if _, err := api.Balance.Get(nil); err != nil {
		t.Fatalf("slow: %v", err)
	}
	if s := p.Seen("GET", "/v1/balance"); len(s) != 1 || s[0].Fault != Slow || s[0].Status != http.StatusOK {
		t.Fatalf("slow: seen %+v", s)
	}
}
