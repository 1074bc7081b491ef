package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stripe/stripe-go/v76/webhook"

	"carnet/internal/auth"
	"carnet/internal/testdb"
)

// A client that sends its headers and never finishes its body loses the
// connection after the read timeout, and an idle keep-alive connection is
// closed after the idle timeout: 20 such clients hold nothing for long.
func TestSlowClientsLoseTheirConnection(t *testing.T) {
	t.Parallel()
	a := startAppWith(t, "", func(m *Main) { m.ReadTimeout, m.IdleTimeout = time.Second, time.Second })
	key := a.coach("slow@example.com")
	host := strings.TrimPrefix(a.base, "http://")
	var conns []net.Conn
	for range 20 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /v1/clients HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"name\": ", key)
		conns = append(conns, c)
	}
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(8 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			t.Fatalf("slow body %d: the server still holds the connection after 8 s: %v", i, err)
		}
	}
	// Idle: one full request, then nothing; the server closes the connection.
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz on a raw connection: %v %v", res, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(br); err != nil {
		t.Fatalf("idle connection still open after 5 s: %v", err)
	}
}

// Every route refuses a body over the limit with 413 too_large, whether it
// declares its length or not, before it does anything with it.
func TestBodyLimitOnEveryRoute(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("big@example.com")
	cl := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Big", "email": "big-client@example.com"})
	big := `{"ttl_hours": 2, "pad": "` + strings.Repeat("x", 2<<20) + `"}`
	for _, rt := range a.m.Handler.(*gin.Engine).Routes() {
		path := strings.NewReplacer(":id", id(cl)).Replace(rt.Path)
		r := a.do(rt.Method, path, key, big)
		if r.Status != 413 || r.code(t) != "too_large" {
			t.Errorf("%s %s with 2 MiB: %d %.200s", rt.Method, rt.Path, r.Status, r.Body)
		}
	}
	// Without a Content-Length (chunked), on the route that used to ignore its body.
	req, _ := http.NewRequest("POST", a.base+"/v1/clients/"+id(cl)+"/links", io.MultiReader(strings.NewReader(big)))
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("chunked 2 MiB to /links: %d", res.StatusCode)
	}
	// Just under the limit, a body is read as usual.
	if r := a.do("POST", "/v1/clients/"+id(cl)+"/links", key, map[string]any{"ttl_hours": 2}); r.Status != 201 {
		t.Fatalf("a small body: %d %s", r.Status, r.Body)
	}
}

// Whatever a validly signed event holds, it is stored once and answered
// 200 on every delivery; a body over the limit is 413 too_large; only a bad
// signature is 400.
func TestEveryValidlySignedWebhookIsAcknowledged(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	sign := func(p []byte) string {
		return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: p, Secret: a.m.webhookSecret}).Header
	}
	event := func(id string, obj map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"id": id, "object": "event", "api_version": "2023-10-16", "type": "payment_intent.succeeded",
			"created": a.clock().Unix(), "data": map[string]any{"object": obj}})
		return b
	}
	negative := event("evt_negative", map[string]any{"id": "pi_neg", "object": "payment_intent", "amount": -5000, "amount_received": -5000,
		"currency": "eur", "status": "succeeded", "latest_charge": "ch_neg", "metadata": map[string]any{}})
	nul := event("evt_\u0000nul", map[string]any{"id": "pi_nul\u0000", "object": "payment_intent", "amount": 100, "amount_received": 100,
		"currency": "eur", "status": "succeeded", "metadata": map[string]any{"note": "a\u0000b"}})
	cases := map[string][]byte{
		"negative amount": negative,
		"NUL in the id":   nul,
		"not JSON":        []byte(`{"id": "evt_broken", "type": `),
		"no type":         []byte(`{"id": "evt_notype", "object": "event", "data": {"object": {}}}`),
	}
	for name, p := range cases {
		for delivery := 1; delivery <= 3; delivery++ {
			if r := a.do("POST", "/webhooks/stripe", "", string(p), "Stripe-Signature", sign(p)); r.Status != 200 {
				t.Errorf("%s, delivery %d: %d %s", name, delivery, r.Status, r.Body)
			}
		}
	}
	if n := a.count(`SELECT count(*) FROM webhook_events`); n != len(cases) {
		t.Errorf("%d events stored, want each of the %d once", n, len(cases))
	}
	if n := a.count(`SELECT count(*) FROM webhook_events WHERE last_error <> '' AND processed_at IS NULL`); n != len(cases) {
		t.Errorf("%d events stored with their reason, want %d", n, len(cases))
	}
	huge := event("evt_huge", map[string]any{"pad": strings.Repeat("x", 1<<20)})
	if r := a.do("POST", "/webhooks/stripe", "", string(huge), "Stripe-Signature", sign(huge)); r.Status != 413 || r.code(t) != "too_large" {
		t.Errorf("over the limit: %d %s", r.Status, r.Body)
	}
	if r := a.do("POST", "/webhooks/stripe", "", string(negative), "Stripe-Signature", "t=1,v1=00"); r.Status != 400 {
		t.Errorf("bad signature: %d", r.Status)
	}
}

// deadServer is an address where nothing answers: connections are refused.
func deadServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// hangingServer accepts connections and never answers.
func hangingServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	return "http://" + ln.Addr().String()
}

// When Stripe is down or hangs, the coach and the client read plain words
// and a 503 to retry, never Stripe's text or an internal address; the
// cause is in the JSON log.
func TestStripeOutageInPlainWords(t *testing.T) {
	t.Parallel()
	for name, base := range map[string]string{"refused": deadServer(t), "hanging": hangingServer(t)} {
		a := startAppWith(t, "", func(m *Main) { m.StripeAPIBase, m.StripeTimeout = base, 300*time.Millisecond })
		key := a.coach("outage-" + name + "@example.com")
		offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "5", "kind": "sessions", "sessions": 5, "price_amount": 10000})
		cl := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Léa", "email": "lea-" + name + "@example.com"})
		tok := a.must(201, "POST", "/v1/clients/"+id(cl)+"/links", key, nil)["token"].(string)
		host := strings.TrimPrefix(base, "http://")
		for _, who := range []struct{ path, token string }{{"/v1/checkout", key}, {"/v1/me/checkout", tok}} {
			start := time.Now()
			r := a.do("POST", who.path, who.token, map[string]any{"client_id": cl["id"], "offer_id": offer["id"],
				"agreement_sha256": a.accepted(tok, offer["id"], "upfront")})
			if r.Status != 503 || r.code(t) != "unavailable" || r.Header.Get("Retry-After") == "" {
				t.Fatalf("%s, Stripe %s: %d %s", who.path, name, r.Status, r.Body)
			}
			for _, leak := range []string{host, "127.0.0.1", "dial", "Post ", "/v1/customers", "timeout"} {
				if strings.Contains(string(r.Body), leak) {
					t.Errorf("%s, Stripe %s: the answer shows %q: %s", who.path, name, leak, r.Body)
				}
			}
			if !strings.Contains(string(r.Body), "nothing was charged") {
				t.Errorf("%s: %s", who.path, r.Body)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("%s, Stripe %s: answered after %v", who.path, name, d)
			}
		}
		logs := a.logs.String()
		if !strings.Contains(logs, host) {
			t.Errorf("Stripe %s: the cause is not in the log", name)
		}
		for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
			if !json.Valid([]byte(line)) {
				t.Errorf("a log line is not JSON: %s", line)
			}
		}
	}
}

// A client link's token, a local checkout token and an API key never
// appear in the logs, whether in the path or the query.
func TestTokensStayOutOfTheLogs(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("logs@example.com")
	cl := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Léa", "email": "lea-logs@example.com"})
	tok := a.must(201, "POST", "/v1/clients/"+id(cl)+"/links", key, nil)["token"].(string)
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "5", "kind": "sessions", "sessions": 5, "price_amount": 10000})
	co := a.must(201, "POST", "/v1/me/checkout", tok, map[string]any{"offer_id": offer["id"],
		"agreement_sha256": a.accepted(tok, offer["id"], "upfront")})
	page := strings.TrimPrefix(co["url"].(string), "http://carnet.test")
	u, _ := url.Parse(page)
	checkoutToken := u.Query().Get("token")
	a.do("GET", "/c/"+tok, "", nil)
	a.do("GET", "/c/"+tok+"?x=1", "", nil)
	a.do("GET", "/v1/me?token="+tok+"&link="+url.QueryEscape(tok), tok, nil)
	a.do("GET", "/v1/clients?key="+key, key, nil)
	a.do("GET", page, "", nil)
	a.do("GET", "/nowhere/"+tok, "", nil)
	a.do("GET", "/app/signin/si_guessed-sign-in-token", "", nil)
	a.do("GET", "/app/signin/plain-guess-0123456789", "", nil)
	logs := a.logs.String()
	for _, guess := range []string{"si_guessed-sign-in-token", "plain-guess-0123456789"} {
		if strings.Contains(logs, guess) {
			t.Errorf("a sign-in token is in the logs: %s", guess)
		}
	}
	for name, secret := range map[string]string{"client link": tok, "checkout token": checkoutToken, "API key": key} {
		if secret == "" || strings.Contains(logs, secret) {
			t.Errorf("the %s is in the logs (or empty): %q", name, secret)
		}
	}
	if !strings.Contains(logs, `"path":"/c/[redacted]"`) {
		t.Errorf("the client page request is not logged redacted:\n%s", logs)
	}
}

// Without a Stripe account, the test checkout opens only with the signed
// token Carnet handed out for that pack.
func TestLocalCheckoutNeedsItsToken(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("local@example.com")
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "5", "kind": "sessions", "sessions": 5, "price_amount": 10000})
	var pages []string
	var packIDs []string
	for i := range 2 {
		cl := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "C", "email": fmt.Sprintf("local-%d@example.com", i)})
		co := a.must(201, "POST", "/v1/checkout", key, map[string]any{"client_id": cl["id"], "offer_id": offer["id"]})
		pages = append(pages, strings.TrimPrefix(co["url"].(string), "http://carnet.test"))
		packIDs = append(packIDs, jsonString(co["pack_id"]))
	}
	u0, _ := url.Parse(pages[0])
	u1, _ := url.Parse(pages[1])
	post := func(target string) int {
		res, err := http.PostForm(a.base+target, url.Values{"action": {"card"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for name, target := range map[string]string{
		"no token":             u0.Path,
		"another pack's token": u0.Path + "?token=" + url.QueryEscape(u1.Query().Get("token")),
		"a forged token":       u0.Path + "?token=co_" + packIDs[0] + ".99999999999.AAAA",
		"a client link":        u0.Path + "?token=cl_1.1.99999999999.AAAA",
	} {
		if r := a.do("GET", target, "", nil); r.Status != 404 {
			t.Errorf("GET with %s: %d", name, r.Status)
		}
		if st := post(target); st != 404 {
			t.Errorf("POST card with %s: %d", name, st)
		}
	}
	if n := a.count(`SELECT count(*) FROM packs WHERE status <> 'pending'`); n != 0 {
		t.Fatalf("a stranger changed %d packs", n)
	}
	if st := post(pages[0]); st != 200 { // 303 followed to the page
		t.Fatalf("POST card with the token: %d", st)
	}
	if n := a.count(`SELECT count(*) FROM packs WHERE status = 'active' AND id = $1`, packIDs[0]); n != 1 {
		t.Fatal("the token's holder could not pay")
	}
}

// Repeated failures from one address are answered 429 with Retry-After,
// on every process (the count is in PostgreSQL), while valid keys from
// other addresses go through; the block ends after the penalty.
func TestFailedAuthenticationIsThrottled(t *testing.T) {
	t.Parallel()
	trust := func(m *Main) { m.TrustedProxies = []string{"127.0.0.1"} }
	a := startAppWith(t, "", trust)
	b := startAppWith(t, testdb.URLOf(t, a.m.DB), trust) // a second process on the same database
	b.now = a.now
	key := a.coach("throttle@example.com")
	cl := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "T", "email": "t@example.com"})
	link := a.must(201, "POST", "/v1/clients/"+id(cl)+"/links", key, nil)["token"].(string)
	from := func(addr string) []string { return []string{"X-Forwarded-For", addr} }
	attacker, other := "203.0.113.7", "198.51.100.9"
	var statuses []int
	for i := range 12 {
		srv := []*app{a, b}[i%2]
		r := srv.do("GET", "/v1/clients", fmt.Sprintf("ck_wrong%d", i), nil, from(attacker)...)
		statuses = append(statuses, r.Status)
		if r.Status == 429 && (r.Header.Get("Retry-After") == "" || r.code(t) != "rate_limited") {
			t.Fatalf("429 without Retry-After or code: %v %s", r.Header, r.Body)
		}
	}
	want := "[401 401 401 401 401 401 401 401 401 401 429 429]"
	if fmt.Sprint(statuses) != want {
		t.Fatalf("statuses %v, want %s", statuses, want)
	}
	// Blocked: even a valid key or link from that address waits.
	if r := a.do("GET", "/v1/clients", key, nil, from(attacker)...); r.Status != 429 {
		t.Fatalf("valid key from the blocked address: %d", r.Status)
	}
	if r := b.do("GET", "/v1/me", "cl_1.1.1.x", nil, from(attacker)...); r.Status != 429 {
		t.Fatalf("client link from the blocked address: %d", r.Status)
	}
	// Others are not slowed.
	for _, srv := range []*app{a, b} {
		if r := srv.do("GET", "/v1/clients", key, nil, from(other)...); r.Status != 200 {
			t.Fatalf("valid key from another address: %d", r.Status)
		}
		if r := srv.do("GET", "/v1/me", link, nil, from(other)...); r.Status != 200 {
			t.Fatalf("valid link from another address: %d", r.Status)
		}
		if r := srv.do("GET", "/v1/clients", "ck_wrong", nil, from(other)...); r.Status != 401 {
			t.Fatalf("a first wrong key from another address: %d", r.Status)
		}
	}
	// After the penalty the address is free again.
	for _, srv := range []*app{a, b} {
		srv.mu.Lock()
		srv.now = srv.now.Add(61 * time.Second)
		srv.mu.Unlock()
	}
	if r := b.do("GET", "/v1/clients", key, nil, from(attacker)...); r.Status != 200 {
		t.Fatalf("after the penalty: %d %s", r.Status, r.Body)
	}
}

// The answer to a 405 and to an unknown route have their own codes.
func TestMethodNotAllowedHasItsCode(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	if r := a.do("DELETE", "/v1/clients", "", nil); r.Status != 405 || r.code(t) != "method_not_allowed" {
		t.Fatalf("405: %d %s", r.Status, r.Body)
	}
	if r := a.do("GET", "/nowhere", "", nil); r.Status != 404 || r.code(t) != "not_found" {
		t.Fatalf("404: %d %s", r.Status, r.Body)
	}
}

// The coach's pages sign in with an API key too: failures there count in
// the same throttle, and a blocked address cannot sign in, even with a
// valid key, while another can.
func TestKeySignInIsThrottled(t *testing.T) {
	t.Parallel()
	a := startAppWith(t, "", func(m *Main) { m.TrustedProxies = []string{"127.0.0.1"} })
	key := a.coach("signin-throttle@example.com")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(k, addr string) bool {
		req, _ := http.NewRequest("POST", a.base+"/app/signin-key", strings.NewReader(url.Values{"api_key": {k}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", addr)
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		for _, c := range res.Cookies() {
			if c.Name == "carnet_session" && c.Value != "" {
				return true
			}
		}
		return false
	}
	if !signIn(key, "198.51.100.20") {
		t.Fatal("a valid key does not sign in")
	}
	for i := range auth.MaxFailures + 1 {
		if signIn(fmt.Sprintf("ck_wrong%d", i), "203.0.113.20") {
			t.Fatal("a wrong key signed in")
		}
	}
	if signIn(key, "203.0.113.20") {
		t.Fatal("a blocked address signed in")
	}
	if !signIn(key, "198.51.100.21") {
		t.Fatal("another address was slowed")
	}
	if n := a.count(`SELECT count(*) FROM auth_failures WHERE addr = '203.0.113.20' AND blocked_until IS NOT NULL`); n != 1 {
		t.Fatal("the failures were not counted")
	}
}
