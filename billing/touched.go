package billing

import (
	"context"
	"slices"
)

type touchedKey struct{}

// Touched collects what the effects of one event found, so that the
// reconciler checks exactly that, in the same transaction: the packs
// (each locked by this transaction: findPack takes the row lock) and the
// Stripe objects of the payments written.
type Touched struct {
	IDs      []int64
	Payments []string
	// Plan is a pack's plan as the event left it, loaded by the reversal
	// check at the end of an effect, for the reconciler's check to reuse
	// instead of reading it again; any later effect drops it (Keep, Drop).
	Plan struct {
		PackID int64
		Value  any
	}
}

// WithTouched returns a context whose effects report what they touch.
func WithTouched(ctx context.Context) (context.Context, *Touched) {
	t := &Touched{}
	return context.WithValue(ctx, touchedKey{}, t), t
}

// TouchedOf returns the event's Touched, nil outside an event.
func TouchedOf(ctx context.Context) *Touched {
	t, _ := ctx.Value(touchedKey{}).(*Touched)
	return t
}

// Keep remembers a pack's plan as the event leaves it.
func (t *Touched) Keep(packID int64, plan any) {
	if t != nil {
		t.Plan.PackID, t.Plan.Value = packID, plan
	}
}

// Kept returns the plan kept for packID and forgets it: it is used once.
func (t *Touched) Kept(packID int64) (any, bool) {
	if t == nil || t.Plan.PackID != packID || t.Plan.Value == nil {
		return nil, false
	}
	v := t.Plan.Value
	t.Drop()
	return v, true
}

// Drop forgets the kept plan: something was written after it was read.
func (t *Touched) Drop() {
	if t != nil {
		t.Plan.PackID, t.Plan.Value = 0, nil
	}
}

func touch(ctx context.Context, packID int64) {
	if t := TouchedOf(ctx); t != nil {
		t.Drop() // a new effect begins: what it writes is not in the kept plan
		t.IDs = append(t.IDs, packID)
	}
}

// touchPayment records a payment the event wrote, by its Stripe object.
func touchPayment(ctx context.Context, objectID string) {
	if t := TouchedOf(ctx); t != nil && objectID != "" && !slices.Contains(t.Payments, objectID) {
		t.Payments = append(t.Payments, objectID)
	}
}
