package main

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// script is one day of a coach's requests and Stripe's events: set-up,
// attendance, adjustment, goodwill, two checkouts paid by card, each charged
// twice, both excesses refunded. send and deliver say where each goes.
func (w *world) script(send func(call) answer, deliver func([]byte)) {
	w.t.Helper()
	w.setUp(send)
	send(call{path: "/v1/sessions/" + w.session + "/attendance", key: "attend-1",
		body: map[string]any{"outcomes": []map[string]any{{"client_id": num(w.client), "outcome": "attended"}}}})
	send(call{path: "/v1/clients/" + w.client + "/adjustments", key: "adjust-1",
		body: map[string]any{"pack_id": num(w.pack), "delta": 2, "reason": "séance offerte"}})
	send(call{path: "/v1/goodwill", key: "goodwill-1",
		body: map[string]any{"client_ids": []int64{num(w.client)}, "sessions": 1, "incident": "salle fermée", "note": "salle fermée", "value_amount": 4500}})
	var packs []string
	for _, key := range []string{"checkout-1", "checkout-2"} {
		a := send(call{path: "/v1/checkout", key: key, body: map[string]any{"client_id": num(w.client), "offer_id": num(w.offer), "plan": "upfront"}})
		packs = append(packs, fmt.Sprint(int64(a.json(w.t)["pack_id"].(float64))))
	}
	for i, pack := range packs {
		for _, pl := range w.paid(pack) {
			deliver(pl)
		}
		dup, anomaly := w.chargedTwice(pack)
		deliver(dup)
		send(call{path: "/v1/anomalies/" + anomaly() + "/refund", key: fmt.Sprintf("refund-%d", i+1), body: map[string]any{}})
	}
}

// Two processes on one database receive every request (same keys) and every
// event at the same moment: the result is the one a single process gives.
func TestTwoProcessesGiveTheResultOfOne(t *testing.T) {
	t.Parallel()
	one := newWorld(t)
	one.restart()
	one.script(func(c call) answer { return one.p.must(one.token, c) },
		func(pl []byte) { one.deliverAll([][]byte{pl}) })

	two := newWorld(t)
	procs := []*proc{serve(t, two.url, two.stripe.URL), serve(t, two.url, two.stripe.URL)}
	two.script(func(c call) answer {
		answers := make([]answer, len(procs))
		var wg sync.WaitGroup
		for i, p := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = untilSettled(t, p, two.token, c)
			}()
		}
		wg.Wait()
		if answers[0].status != answers[1].status || !bytes.Equal(answers[0].body, answers[1].body) {
			t.Fatalf("POST %s (key %s) answered differently:\n%d %s\n%d %s", c.path, c.key,
				answers[0].status, answers[0].body, answers[1].status, answers[1].body)
		}
		if answers[0].replayed == answers[1].replayed {
			t.Fatalf("POST %s (key %s): want one run and one replay, got replayed %v and %v", c.path, c.key,
				answers[0].replayed, answers[1].replayed)
		}
		return answers[0]
	}, func(pl []byte) {
		var wg sync.WaitGroup
		for _, p := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := p.deliver(pl); err != nil {
					t.Errorf("deliver: %v", err)
				}
			}()
		}
		wg.Wait()
	})

	if a, b := one.state(), two.state(); a != b {
		t.Fatalf("two processes differ from one:\none:\n%s\ntwo:\n%s", a, b)
	}
	if a, b := one.stripe.Keys("POST", "/v1/refunds"), two.stripe.Keys("POST", "/v1/refunds"); len(a) != 2 || len(b) != 2 ||
		distinct(b) != 2 {
		t.Fatalf("refunds asked of Stripe: one process %v, two %v; want each refund asked once", a, b)
	}
	if n := len(two.stripe.Seen("POST", "/v1/checkout/sessions")); n != 2 {
		t.Fatalf("two processes asked Stripe for %d Checkout Sessions, want 2", n)
	}
	if out, err := runCmd(t, two.url, "verify"); err != nil {
		t.Fatalf("carnet verify: %v\n%s", err, out)
	}
}

// untilSettled sends c until it is answered with anything but "still in
// progress", as a client retrying a 409 would.
func untilSettled(t *testing.T, p *proc, token string, c call) answer {
	t.Helper()
	for range 50 {
		a, err := p.send(token, c)
		if err != nil {
			t.Errorf("POST %s: %v", c.path, err)
			return a
		}
		if a.status != http.StatusConflict || !bytes.Contains(a.body, []byte("still in progress")) {
			if a.status >= 300 {
				t.Errorf("POST %s: %d %s", c.path, a.status, a.body)
			}
			return a
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("POST %s still in progress after 50 tries", c.path)
	return answer{}
}

// Two processes, each given four refund requests of one anomaly under
// different keys at once: every answer names the one refund recorded, and
// Stripe is asked once (issue 11, point 7).
func TestConcurrentRefundRequestsAnswerTheRecordedRefund(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	procs := []*proc{serve(t, w.url, w.stripe.URL), serve(t, w.url, w.stripe.URL)}
	w.p = procs[0]
	send := func(c call) answer { return w.p.must(w.token, c) }
	w.setUp(send)
	co := send(call{path: "/v1/checkout", key: "checkout-1", body: map[string]any{"client_id": num(w.client), "offer_id": num(w.offer), "plan": "upfront"}})
	pack := fmt.Sprint(int64(co.json(t)["pack_id"].(float64)))
	dup, anomaly := w.chargedTwice(pack)
	w.deliverAll(append(w.paid(pack), dup))
	path := "/v1/anomalies/" + anomaly() + "/refund"

	answers := make([]answer, 8)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = untilSettled(t, procs[i%2], w.token, call{path: path, key: fmt.Sprintf("refund-%d", i), body: map[string]any{}})
		}()
	}
	wg.Wait()
	var recorded string
	if err := w.d.Get(&recorded, `SELECT stripe_refund_id FROM anomalies WHERE id = $1`, num(anomaly())); err != nil {
		t.Fatal(err)
	}
	for i, a := range answers {
		if a.status != http.StatusOK || a.json(t)["stripe_refund_id"] != recorded {
			t.Errorf("refund request %d: %d %s, want the recorded refund %s", i, a.status, a.body, recorded)
		}
	}
	if calls := w.stripe.Seen("POST", "/v1/refunds"); len(calls) != 1 {
		t.Fatalf("Stripe was asked %d refunds, want 1", len(calls))
	}
	if n := w.count(`SELECT count(*) FROM payments WHERE status = 'remedy'`); n != 1 {
		t.Fatalf("%d remedies, want 1", n)
	}
}
