// Package webhooks takes Stripe's signed events in: each is checked, stored
// once by its id with its raw payload, and applied to our rows in the same
// transaction, so a duplicate or a retry changes nothing twice.
package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"carnet/billing"
	"carnet/internal/api"
	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/internal/failpoint"
)

// NoInvoiceLinks is the first API version (2025-03-31.basil) whose
// PaymentIntents and invoices no longer name each other.
const NoInvoiceLinks = "2025-03-31"

// Tolerance is how old a signature may be (Stripe's own default).
const Tolerance = 300 * time.Second

// MaxPayload caps an event's body.
const MaxPayload = 1 << 20

// Intake receives Stripe's webhooks.
type Intake struct {
	DB         *sqlx.DB
	Billing    *billing.Service
	Reconciler *Reconciler // checks every pack an event touched; nil: no checks
	Secret     string
	Now        func() time.Time
	Log        *slog.Logger
	// Observe, when set, is told of each delivery: its event type and
	// outcome (applied, duplicate, refused, failed), for the metrics.
	Observe func(eventType, outcome string)
	// RateLimitPause, when set, replaces the sweep's first pause after a
	// 429 (RateLimitPause).
	RateLimitPause time.Duration
}

// Result says what became of one delivery.
type Result struct {
	Received  bool   `json:"received"`
	Duplicate bool   `json:"duplicate,omitempty"`
	EventID   string `json:"event_id"`
}

// ErrBadSignature is a delivery we cannot trust: refused, nothing stored.
var ErrBadSignature = errs.New(errs.Invalid, "bad or missing Stripe-Signature")

// Receive checks, stores and applies one delivery.
func (in *Intake) Receive(ctx context.Context, payload []byte, signature string) (Result, error) {
	// Accounts often run newer API versions than stripe-go v76's 2023-10-16:
	// accept them on purpose and read objects defensively.
	ev, err := webhook.ConstructEventWithOptions(payload, signature, in.Secret,
		webhook.ConstructEventOptions{Tolerance: Tolerance, IgnoreAPIVersionMismatch: true})
	if err != nil {
		if errors.Is(err, webhook.ErrNotSigned) || errors.Is(err, webhook.ErrInvalidHeader) ||
			errors.Is(err, webhook.ErrNoValidSignature) || errors.Is(err, webhook.ErrTooOld) {
			in.observe("", "refused")
			return Result{}, ErrBadSignature
		}
		in.observe("", "refused")
		return Result{}, errs.New(errs.Invalid, "the event is not valid JSON")
	}
	res, err := in.ingest(ctx, payload, &ev)
	switch {
	case err != nil:
		in.observe(string(ev.Type), "failed")
	case res.Duplicate:
		in.observe(string(ev.Type), "duplicate")
	default:
		in.observe(string(ev.Type), "applied")
	}
	return res, err
}

func (in *Intake) observe(eventType, outcome string) {
	if in.Observe != nil {
		in.Observe(eventType, outcome)
	}
}

// ingest stores an event once and applies it; Receive and the sweep share it.
func (in *Intake) ingest(ctx context.Context, payload []byte, ev *stripe.Event) (Result, error) {
	if ev.ID == "" || ev.Type == "" || ev.Data == nil {
		return Result{}, errs.New(errs.Invalid, "the event has no id, type or data")
	}
	res := Result{Received: true, EventID: ev.ID}
	err := db.InTx(ctx, in.DB, func(tx *sqlx.Tx) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO webhook_events (id, type, api_version, payload) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO NOTHING`, ev.ID, string(ev.Type), ev.APIVersion, payload)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			res.Duplicate = true
			return nil
		}
		if err := in.applyAndCheck(ctx, tx, ev); err != nil {
			return fmt.Errorf("apply %s %s: %w", ev.Type, ev.ID, err)
		}
		failpoint.HitFor(failpoint.MidWebhook, ev.ID)
		_, err = tx.ExecContext(ctx, `UPDATE webhook_events SET processed_at = $2 WHERE id = $1`, ev.ID, in.Now().UTC())
		return err
	})
	return res, err
}

// applyAndCheck applies the event, then runs the reconciler on every pack it
// touched, in the same transaction: an anomaly is opened with its cause.
func (in *Intake) applyAndCheck(ctx context.Context, tx *sqlx.Tx, ev *stripe.Event) error {
	ctx, touched := billing.WithTouched(ctx)
	if err := in.apply(ctx, tx, ev); err != nil || in.Reconciler == nil {
		return err
	}
	seen := map[int64]bool{}
	for _, id := range touched.IDs {
		if !seen[id] {
			seen[id] = true
			if err := in.Reconciler.CheckPack(ctx, tx, id); err != nil {
				return err
			}
		}
	}
	return openUnmatched(ctx, tx, baseURL(in.Billing), in.Now().UTC())
}

// apply routes an event to what it means for our rows. Unknown types are
// stored and acknowledged: they may matter to a later version of Carnet.
func (in *Intake) apply(ctx context.Context, tx *sqlx.Tx, ev *stripe.Event) error {
	at := time.Unix(ev.Created, 0).UTC()
	if ev.Created == 0 {
		at = in.Now().UTC()
	}
	b := in.Billing
	switch ev.Type {
	case "checkout.session.completed":
		return decodeThen(ev, func(cs *stripe.CheckoutSession) error { return b.CheckoutCompleted(ctx, tx, cs, at) })
	case "checkout.session.async_payment_succeeded":
		return decodeThen(ev, func(cs *stripe.CheckoutSession) error { return b.CheckoutAsyncSucceeded(ctx, tx, cs, at) })
	case "checkout.session.async_payment_failed":
		return decodeThen(ev, func(cs *stripe.CheckoutSession) error { return b.CheckoutAsyncFailed(ctx, tx, cs, at) })
	case "checkout.session.expired":
		return decodeThen(ev, func(cs *stripe.CheckoutSession) error { return b.CheckoutExpired(ctx, tx, cs, at) })
	case "invoice.paid":
		return decodeThen(ev, func(inv *stripe.Invoice) error { return b.InvoicePaid(ctx, tx, withNewerInvoiceFields(ev, inv), at) })
	case "invoice.payment_failed":
		return decodeThen(ev, func(inv *stripe.Invoice) error {
			return b.InvoicePaymentFailed(ctx, tx, withNewerInvoiceFields(ev, inv), at)
		})
	case "payment_intent.succeeded":
		return decodeThen(ev, func(pi *stripe.PaymentIntent) error {
			return b.PaymentIntentSucceeded(ctx, tx, pi, ev.APIVersion >= NoInvoiceLinks, at)
		})
	case "payment_intent.payment_failed":
		return decodeThen(ev, func(pi *stripe.PaymentIntent) error { return b.PaymentIntentFailed(ctx, tx, pi, at) })
	case "charge.refunded":
		return decodeThen(ev, func(ch *stripe.Charge) error { return b.ChargeRefunded(ctx, tx, ch, at) })
	case "charge.dispute.created", "charge.dispute.closed":
		return decodeThen(ev, func(d *stripe.Dispute) error { return b.DisputeChanged(ctx, tx, d, at) })
	case "customer.subscription.updated", "customer.subscription.deleted":
		return decodeThen(ev, func(sub *stripe.Subscription) error {
			return b.SubscriptionChanged(ctx, tx, sub, ev.Type == "customer.subscription.deleted", at)
		})
	}
	return nil
}

// decodeThen reads the event's object as T. An object we cannot read is
// stored all the same and acknowledged: refusing it would only make Stripe
// retry, then disable the endpoint.
func decodeThen[T any](ev *stripe.Event, fn func(*T) error) error {
	var id struct {
		ID string `json:"id"`
	}
	obj := new(T)
	if json.Unmarshal(ev.Data.Raw, &id) != nil || id.ID == "" || json.Unmarshal(ev.Data.Raw, obj) != nil {
		return nil
	}
	return fn(obj)
}

// withNewerInvoiceFields fills the subscription link that newer API versions
// moved under invoice.parent.subscription_details.
func withNewerInvoiceFields(ev *stripe.Event, inv *stripe.Invoice) *stripe.Invoice {
	if inv.Subscription != nil {
		return inv
	}
	var newer struct {
		Parent struct {
			SubscriptionDetails struct {
				Subscription string            `json:"subscription"`
				Metadata     map[string]string `json:"metadata"`
			} `json:"subscription_details"`
		} `json:"parent"`
	}
	if json.Unmarshal(ev.Data.Raw, &newer) == nil && newer.Parent.SubscriptionDetails.Subscription != "" {
		inv.Subscription = &stripe.Subscription{ID: newer.Parent.SubscriptionDetails.Subscription}
		if inv.SubscriptionDetails == nil {
			inv.SubscriptionDetails = &stripe.InvoiceSubscriptionDetails{Metadata: newer.Parent.SubscriptionDetails.Metadata}
		}
	}
	return inv
}

// Handle is POST /webhooks/stripe. It answers 400 only to what Stripe cannot
// have sent (a bad signature), 5xx only when Carnet failed and wants the
// retry, and 200 to everything else, known or not.
func (in *Intake) Handle(c *gin.Context) {
	payload, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxPayload))
	if err != nil {
		api.Fail(c, errs.New(errs.Invalid, "the body is unreadable or larger than 1 MiB"))
		return
	}
	res, err := in.Receive(c.Request.Context(), payload, c.GetHeader("Stripe-Signature"))
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			in.Log.Error("webhook", "err", err)
		}
		api.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}
