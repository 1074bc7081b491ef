// Package webhooks takes Stripe's signed events in: each is checked, stored
// once by its id with its raw payload, and applied to our rows in the same
// transaction, so a duplicate or a retry changes nothing twice.
package webhooks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"carnet/billing"
	"carnet/internal/api"
	"carnet/internal/errs"
	"carnet/reconcile"
)

// NoInvoiceLinks is the first API version (2025-03-31.basil) whose
// PaymentIntents and invoices no longer name each other.
const NoInvoiceLinks = "2025-03-31"

// Tolerance is how old a signature may be (Stripe's own default).
const Tolerance = 300 * time.Second

// MaxPayload caps an event's body: the API's own limit.
const MaxPayload = api.MaxBody

// Intake receives Stripe's webhooks.
type Intake struct {
	DB         *sqlx.DB
	Billing    *billing.Service
	Reconciler *reconcile.Reconciler // checks every pack an event touched; nil: no checks
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
	Received  bool `json:"received"`
	Duplicate bool `json:"duplicate,omitempty"`
	// Applied is false when the event was stored but its content could not
	// be applied (the reason is kept with it and logged).
	Applied *bool  `json:"applied,omitempty"`
	EventID string `json:"event_id"`
}

// ErrBadSignature is a delivery we cannot trust: refused, nothing stored.
var ErrBadSignature = errs.New(errs.Invalid, "bad or missing Stripe-Signature")

// Receive checks, stores and applies one delivery. Whatever a validly
// signed delivery holds is stored and acknowledged; only a bad signature is
// refused, and only Carnet's own failure asks for a retry.
func (in *Intake) Receive(ctx context.Context, payload []byte, signature string) (Result, error) {
	if err := webhook.ValidatePayloadWithTolerance(payload, signature, in.Secret, Tolerance); err != nil {
		in.observe("", "refused")
		return Result{}, ErrBadSignature
	}
	// Accounts often run newer API versions than stripe-go v76's 2023-10-16:
	// accept them on purpose (no version check here) and read objects defensively.
	var ev stripe.Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		ev = stripe.Event{} // signed but unreadable: kept under its hash
	}
	res, err := in.ingest(ctx, payload, &ev)
	switch {
	case err != nil:
		in.observe(string(ev.Type), "failed")
	case res.Duplicate:
		in.observe(string(ev.Type), "duplicate")
	case res.Applied != nil && !*res.Applied:
		in.observe(cleanText(string(ev.Type)), "stored")
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

// applySafely applies the event and turns a panic on odd content into an
// error of its content: it is stored, acknowledged and logged, not retried.
func (in *Intake) applySafely(ctx context.Context, tx *sqlx.Tx, ev *stripe.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errs.New(errs.Invalid, "applying the event panicked: %v", r)
		}
	}()
	return in.applyAndCheck(ctx, tx, ev)
}

// contentError tells an error caused by what the event holds (its data
// breaks a rule, a constraint or a type of the database), which a retry
// would only repeat, from Carnet's own failure (the database unreachable,
// a deadlock, Stripe not answering a re-read), which a retry may cure.
func contentError(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		class := string(pqErr.Code)[:2]
		return class == "22" || class == "23" // data exception, integrity constraint
	}
	if e := errs.AsError(err); e != nil {
		return e.Code != errs.Internal && e.Code != errs.Unavailable
	}
	return false
}

// storedEventID is the key an event is stored under: its own id when
// PostgreSQL text can hold it, else a hash of it (or of the whole payload
// when it has none), so that a redelivery still finds its first copy.
func storedEventID(id string, payload []byte) string {
	if id != "" && cleanText(id) == id && len(id) <= 255 {
		return id
	}
	src := []byte(id)
	if id == "" {
		src = payload
	}
	sum := sha256.Sum256(src)
	return "carnet_hash_" + hex.EncodeToString(sum[:])
}

// cleanText makes a string storable as PostgreSQL text: valid UTF-8, no NUL.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\ufffd"), "\x00", "")
}

// applyAndCheck applies the event, then runs the reconciler on every pack and
// payment it touched, in the same transaction: an anomaly is opened with its
// cause.
func (in *Intake) applyAndCheck(ctx context.Context, tx *sqlx.Tx, ev *stripe.Event) error {
	ctx, touched := billing.WithTouched(ctx)
	if err := in.apply(ctx, tx, ev); err != nil || in.Reconciler == nil {
		return err
	}
	seen := map[int64]bool{}
	for _, id := range touched.IDs {
		if !seen[id] {
			seen[id] = true
			// Locked by the effect that found it, in this transaction.
			if err := in.Reconciler.CheckLocked(ctx, tx, id); err != nil {
				return err
			}
		}
	}
	return in.Reconciler.OpenUnmatchedOf(ctx, tx, touched.Payments)
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

// decodeThen reads the event's object as T. An object we cannot read is an
// error of the event's content: stored all the same, with the reason, and
// acknowledged (refusing it would only make Stripe retry, then disable the
// endpoint).
func decodeThen[T any](ev *stripe.Event, fn func(*T) error) error {
	// stripe-go read the object as a map with the event (a string id there
	// is what a read of the id alone finds), so its bytes are read once more
	// only, as T.
	if id, _ := ev.Data.Object["id"].(string); id == "" {
		return errs.New(errs.Invalid, "the event's object has no id")
	}
	obj := new(T)
	if err := json.Unmarshal(ev.Data.Raw, obj); err != nil {
		return errs.New(errs.Invalid, "the event's object cannot be read as a %T: %v", obj, err)
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
