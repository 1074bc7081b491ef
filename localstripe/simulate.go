package localstripe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stripe/stripe-go/v76/webhook"

	"carnet/billing"
	"carnet/internal/errs"
)

// Actions a test payment can take, as Stripe would report them.
var Actions = map[string]string{
	"card":         "pay by card: the first payment succeeds",
	"declined":     "the card is declined",
	"sepa":         "pay by SEPA Direct Debit: confirmed days later",
	"sepa_ok":      "the pending SEPA debit is confirmed",
	"sepa_fail":    "the pending SEPA debit is returned",
	"expire":       "the checkout expires unpaid",
	"next_paid":    "the next monthly debit succeeds (dated on its due date)",
	"next_failed":  "the next monthly debit fails (dated on its due date)",
	"refund":       "the payment is refunded in full",
	"dispute_lost": "the client disputes the payment and wins",
}

// simPack is what the simulator knows of a pack.
type simPack struct {
	ID           int64      `db:"id"`
	Plan         string     `db:"plan"`
	Currency     string     `db:"currency"`
	Price        int64      `db:"price_amount"`
	Checkout     *string    `db:"stripe_checkout_session_id"`
	Subscription *string    `db:"stripe_subscription_id"`
	NextSeq      *int       `db:"next_seq"`
	NextAmount   *int64     `db:"next_amount"`
	NextDue      *time.Time `db:"next_due"`
	FirstAmount  int64      `db:"first_amount"`
	Method       *string    `db:"method"` // how its first payment was made
}

// Simulate builds the events Stripe would send for action on a pack, in the
// 2023-10-16 shapes, so that a purchase can be followed end to end without a
// Stripe account. Ids are derived from the pack, so sending twice is a
// duplicate, as a redelivery would be.
func Simulate(ctx context.Context, d *sqlx.DB, packID int64, action string, at time.Time) ([][]byte, error) {
	if _, ok := Actions[action]; !ok {
		return nil, errs.Field("action", "unknown action %q", action)
	}
	p, err := loadSimPack(ctx, d, packID)
	if err != nil {
		return nil, err
	}
	if p.Checkout == nil {
		return nil, errs.Field("pack", "pack %d was not sold through checkout", packID)
	}
	id := strconv.FormatInt(p.ID, 10)
	sub := "sub_local_" + id
	if p.Subscription != nil {
		sub = *p.Subscription
	}
	intent, charge := "pi_local_"+id, "ch_local_"+id
	meta := map[string]any{"carnet_pack_id": id}
	cur := lower(p.Currency)
	upfront := p.Plan != billing.PlanInstallments
	// The method the client chose: Checkout's session and PaymentIntent then
	// allow that one only, and a debit's charge says it.
	method := "card"
	switch {
	case action == "sepa" || action == "sepa_ok" || action == "sepa_fail":
		method = "sepa_debit"
	case p.Method != nil:
		method = *p.Method
	}
	methods := []string{method}
	session := func(paymentStatus, status string) map[string]any {
		cs := map[string]any{"id": *p.Checkout, "object": "checkout.session", "status": status,
			"payment_status": paymentStatus, "amount_total": p.FirstAmount, "currency": cur, "payment_method_types": methods,
			"client_reference_id": id, "metadata": meta, "consent": map[string]any{"terms_of_service": "accepted"},
			"mode": "payment", "payment_intent": intent, "subscription": nil}
		if !upfront {
			cs["mode"], cs["payment_intent"], cs["subscription"] = "subscription", nil, sub
		}
		return cs
	}
	invoice := func(seq int, amount int64, status string) map[string]any {
		inv := "in_local_" + id + "_" + strconv.Itoa(seq)
		return map[string]any{"id": inv, "object": "invoice", "subscription": sub, "status": status,
			"amount_due": amount, "amount_paid": map[bool]int64{true: amount}[status == "paid"], "currency": cur,
			"charge":         map[string]any{"id": "ch_" + inv[3:], "object": "charge", "payment_method_details": map[string]any{"type": method}},
			"payment_intent": "pi_" + inv[3:], "customer": nil,
			"billing_reason":       map[bool]string{true: "subscription_create", false: "subscription_cycle"}[seq == 1],
			"subscription_details": map[string]any{"metadata": meta}}
	}
	// What a refund or a dispute takes back: the upfront payment, or the
	// first monthly debit.
	paid, paidIntent, paidAmount := charge, intent, p.Price
	if !upfront {
		paid, paidIntent, paidAmount = "ch_local_"+id+"_1", "pi_local_"+id+"_1", p.FirstAmount
	}
	var evs []map[string]any
	add := func(typ string, obj map[string]any) {
		evs = append(evs, map[string]any{"type": typ, "object": obj})
	}
	next := func(status string) error {
		if p.NextSeq == nil {
			return errs.New(errs.Conflict, "pack %d has no installment left to debit", packID)
		}
		typ := map[string]string{"paid": "invoice.paid", "open": "invoice.payment_failed"}[status]
		add(typ, invoice(*p.NextSeq, *p.NextAmount, status))
		// Dated on its due date, as Stripe would debit it: sent today it
		// would be a debit months early, which the reconciler reports.
		if p.NextDue != nil && p.NextDue.After(at) {
			at = *p.NextDue
		}
		return nil
	}
	switch action {
	case "card":
		add("checkout.session.completed", session("paid", "complete"))
		if upfront {
			add("payment_intent.succeeded", map[string]any{"id": intent, "object": "payment_intent", "amount": p.Price,
				"amount_received": p.Price, "currency": cur, "status": "succeeded", "metadata": meta, "latest_charge": charge, "invoice": nil,
				"payment_method_types": methods})
		} else {
			add("invoice.paid", invoice(1, p.FirstAmount, "paid"))
			add("customer.subscription.updated", map[string]any{"id": sub, "object": "subscription", "status": "active", "metadata": meta})
		}
	case "declined":
		add("payment_intent.payment_failed", map[string]any{"id": intent, "object": "payment_intent", "amount": p.FirstAmount,
			"currency": cur, "status": "requires_payment_method", "metadata": meta, "invoice": nil,
			"last_payment_error": map[string]any{"code": "card_declined", "decline_code": "generic_decline"}})
	case "sepa":
		add("checkout.session.completed", session("unpaid", "complete"))
	case "sepa_ok":
		add("checkout.session.async_payment_succeeded", session("paid", "complete"))
		if !upfront {
			add("invoice.paid", invoice(1, p.FirstAmount, "paid"))
		}
	case "sepa_fail":
		add("checkout.session.async_payment_failed", session("unpaid", "complete"))
	case "expire":
		add("checkout.session.expired", session("unpaid", "expired"))
	case "next_paid":
		err = next("paid")
	case "next_failed":
		err = next("open")
	case "refund":
		add("charge.refunded", map[string]any{"id": paid, "object": "charge", "amount": paidAmount, "amount_refunded": paidAmount,
			"refunded": true, "currency": cur, "payment_intent": paidIntent,
			"payment_method_details": map[string]any{"type": method}})
	case "dispute_lost":
		for _, status := range []string{"needs_response", "lost"} {
			typ := map[string]string{"needs_response": "charge.dispute.created", "lost": "charge.dispute.closed"}[status]
			add(typ, map[string]any{"id": "dp_local_" + id, "object": "dispute", "amount": paidAmount, "currency": cur,
				"charge": paid, "payment_intent": paidIntent, "status": status, "reason": "fraudulent", "metadata": map[string]any{}})
		}
	}
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(evs))
	for i, e := range evs {
		obj := e["object"].(map[string]any)
		out[i], _ = json.Marshal(map[string]any{
			"id": fmt.Sprintf("evt_local_%s_%s_%v", action, obj["id"], e["type"]), "object": "event",
			"api_version": "2023-10-16", "created": at.Unix(), "type": e["type"], "livemode": false,
			"pending_webhooks": 1, "request": map[string]any{"id": nil, "idempotency_key": nil},
			"data": map[string]any{"object": obj},
		})
	}
	return out, nil
}

// Send signs each payload with secret, as Stripe does, and posts it to url.
func Send(ctx context.Context, url, secret string, payloads [][]byte) ([]string, error) {
	var answers []string
	for _, p := range payloads {
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: p, Secret: secret})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(p))
		if err != nil {
			return answers, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", signed.Header)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return answers, err
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(res.Body)
		res.Body.Close()
		answers = append(answers, fmt.Sprintf("%d %s", res.StatusCode, bytes.TrimSpace(body.Bytes())))
	}
	return answers, nil
}

func lower(s string) string { return string(bytes.ToLower([]byte(s))) }
