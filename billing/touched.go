package billing

import "context"

type touchedKey struct{}

// Touched collects the packs the effects of one event found, so that the
// reconciler checks exactly those, in the same transaction.
type Touched struct{ IDs []int64 }

// WithTouched returns a context whose effects report the packs they touch.
func WithTouched(ctx context.Context) (context.Context, *Touched) {
	t := &Touched{}
	return context.WithValue(ctx, touchedKey{}, t), t
}

func touch(ctx context.Context, packID int64) {
	if t, ok := ctx.Value(touchedKey{}).(*Touched); ok {
		t.IDs = append(t.IDs, packID)
	}
}
