package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"carnet/billing"
	"carnet/internal/auth"
	"carnet/internal/jobs"
	"carnet/internal/testdb"
	"carnet/packs"
	"carnet/reconcile"
)

const secret = "whsec_test_carnet"

// shop is one coach selling through stripe-mock, with Carnet's intake.
type shop struct {
	t      testing.TB
	in     *Intake
	rec    *reconcile.Reconciler
	bill   *billing.Service
	packs  *packs.Service
	coach  auth.Coach
	client packs.Client
	mu     sync.Mutex
	now    time.Time
}

func newShop(t testing.TB) *shop {
	t.Helper()
	base := os.Getenv("STRIPE_API_BASE")
	if base == "" {
		t.Fatal("STRIPE_API_BASE is not set: run the tests with `make test`, which starts stripe-mock")
	}
	d := testdb.New(t)
	s := &shop{t: t, now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	links, err := auth.NewLinks(context.Background(), d, "test-link-secret", s.clock)
	if err != nil {
		t.Fatal(err)
	}
	s.packs = &packs.Service{DB: d, Now: s.clock, Links: links}
	s.bill = &billing.Service{DB: d, Packs: s.packs, Now: s.clock, BaseURL: "http://carnet.test", Local: true,
		Stripe: billing.NewStripeVia("", base, 0, nil)}
	ctx := context.Background()
	if err = s.bill.Init(ctx); err != nil {
		t.Fatal(err)
	}
	j, err := jobs.InsertOnly(d.DB)
	if err != nil {
		t.Fatal(err)
	}
	s.bill.Jobs = j
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s.rec = &reconcile.Reconciler{DB: d, Billing: s.bill, Now: s.clock, Log: log}
	s.bill.EndIfReversed = s.rec.EndIfReversed
	s.in = &Intake{DB: d, Billing: s.bill, Reconciler: s.rec, Secret: secret, Now: s.clock, Log: log}
	if s.coach, _, err = auth.CreateCoach(ctx, d, auth.NewCoach{Name: "Coach", Email: "coach@example.com", Currency: "EUR", Timezone: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	name, email := "Léa", "lea@example.com"
	if s.client, err = s.packs.CreateClient(ctx, s.coach.ID, packs.ClientInput{Name: &name, Email: &email}); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *shop) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// offer adds a 10-session offer for 450.00 EUR, upfront or in 3.
func (s *shop) offer() packs.Offer {
	s.t.Helper()
	n, three, price := 10, 3, int64(45000)
	o, err := s.packs.CreateOffer(context.Background(), s.coach, packs.OfferInput{Name: "10 sessions", Kind: packs.KindSessions,
		Sessions: &n, PriceAmount: &price, Installments: &three})
	if err != nil {
		s.t.Fatal(err)
	}
	return o
}

// checkout opens a checkout at stripe-mock and returns the pending pack.
func (s *shop) checkout(plan string) (billing.Checkout, packs.Pack) {
	s.t.Helper()
	out, err := s.bill.StartCheckout(context.Background(), s.coach, billing.CheckoutInput{ClientID: s.client.ID, OfferID: s.offer().ID, Plan: plan})
	if err != nil {
		s.t.Fatal(err)
	}
	return out, s.pack(out.PackID)
}

func (s *shop) pack(id int64) packs.Pack {
	s.t.Helper()
	var p packs.Pack
	if err := s.packs.DB.Get(&p, `SELECT * FROM packs WHERE id = $1`, id); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// state is what a person would check of a pack after its events.
func (s *shop) state(packID int64) string {
	s.t.Helper()
	var out string
	err := s.packs.DB.Get(&out, `SELECT concat_ws(' | ',
		(SELECT status || ' ' || sessions_remaining FROM packs WHERE id = $1),
		(SELECT string_agg(seq || ':' || status, ',' ORDER BY seq) FROM installments WHERE pack_id = $1),
		(SELECT string_agg(kind || delta, ',' ORDER BY kind) FROM ledger_entries WHERE pack_id = $1),
		(SELECT string_agg(kind || ':' || status || ':' || amount, ',' ORDER BY kind, status, amount) FROM payments WHERE pack_id = $1))`, packID)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

func (s *shop) verify() {
	s.t.Helper()
	if problems, err := packs.Verify(context.Background(), s.packs.DB); err != nil || len(problems) > 0 {
		s.t.Fatalf("verify: %v %v", err, problems)
	}
}

// event is a Stripe-shaped event envelope around obj.
type event struct {
	ID      string
	Type    string
	Created time.Time
	Version string
	Object  map[string]any
}

func newEvent(typ string, at time.Time, obj map[string]any) event {
	return event{ID: "evt_" + randomID(), Type: typ, Created: at, Version: "2023-10-16", Object: obj}
}

func (e event) payload() []byte {
	b, _ := json.Marshal(map[string]any{
		"id": e.ID, "object": "event", "api_version": e.Version, "created": e.Created.Unix(), "type": e.Type,
		"livemode": false, "pending_webhooks": 1, "request": map[string]any{"id": nil, "idempotency_key": nil},
		"data": map[string]any{"object": e.Object},
	})
	return b
}

// sign signs a payload as Stripe would, with stripe-go's own code.
func sign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

// deliver sends one event, signed now, and fails the test on an error.
func (s *shop) deliver(e event) Result {
	s.t.Helper()
	p := e.payload()
	res, err := s.in.Receive(context.Background(), p, sign(p, secret, time.Now()))
	if err != nil {
		s.t.Fatalf("deliver %s: %v", e.Type, err)
	}
	return res
}

// deliverScrambled delivers the events in the order perm gives (all of
// them, in order, when perm is nil), each one to three times, then shuffled
// as Stripe's retries would.
func (s *shop) deliverScrambled(rng *mrand.Rand, evs []event, perm []int) {
	s.t.Helper()
	if perm == nil {
		perm = make([]int, len(evs))
		for i := range perm {
			perm[i] = i
		}
	}
	var stream []event
	for _, i := range perm {
		for range 1 + rng.IntN(3) {
			stream = append(stream, evs[i])
		}
	}
	rng.Shuffle(len(stream), func(i, j int) { stream[i], stream[j] = stream[j], stream[i] })
	for _, e := range stream {
		s.deliver(e)
	}
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Stripe objects, as the 2023-10-16 API shapes them (only what matters here
// and a little more, as real payloads carry).

func checkoutSession(co billing.Checkout, mode, paymentStatus, intent, sub string, amount int64) map[string]any {
	return map[string]any{
		"id": co.SessionID, "object": "checkout.session", "mode": mode, "status": "complete",
		"payment_status": paymentStatus, "amount_total": amount, "currency": "eur",
		"client_reference_id": fmt.Sprint(co.PackID), "customer": "cus_test",
		"metadata":       map[string]any{"carnet_pack_id": fmt.Sprint(co.PackID)},
		"payment_intent": nilIfEmpty(intent), "subscription": nilIfEmpty(sub),
		"consent": map[string]any{"terms_of_service": "accepted"}, "livemode": false,
	}
}

func paymentIntent(id string, packID int64, amount int64, status string) map[string]any {
	meta := map[string]any{}
	if packID != 0 {
		meta["carnet_pack_id"] = fmt.Sprint(packID)
	}
	return map[string]any{
		"id": id, "object": "payment_intent", "amount": amount, "amount_received": amount, "currency": "eur",
		"status": status, "metadata": meta, "latest_charge": "ch_" + id[3:], "invoice": nil, "customer": "cus_test",
	}
}

func invoice(id, sub string, packID int64, amount int64, status string) map[string]any {
	return map[string]any{
		"id": id, "object": "invoice", "subscription": sub, "amount_due": amount, "amount_paid": amount,
		"currency": "eur", "status": status, "billing_reason": "subscription_cycle", "customer": "cus_test",
		"charge": "ch_" + id[3:], "payment_intent": "pi_" + id[3:],
		"subscription_details": map[string]any{"metadata": map[string]any{"carnet_pack_id": fmt.Sprint(packID)}},
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// anomalies lists the kinds of the anomalies opened so far, by state.
func (s *shop) anomalies() map[string]string {
	s.t.Helper()
	var rows []struct {
		Kind  string `db:"kind"`
		State string `db:"state"`
	}
	if err := s.packs.DB.Select(&rows, `SELECT kind, state FROM anomalies ORDER BY id`); err != nil {
		s.t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.Kind] += r.State + " "
	}
	return out
}
