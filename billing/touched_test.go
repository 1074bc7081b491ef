package billing

import (
	"context"
	"testing"
)

// A plan kept by the reversal check is reused once, for its own pack, and
// only if no effect began after it was read.
func TestTouchedKeepsThePlanAsTheEventLeftIt(t *testing.T) {
	cases := []struct {
		name  string
		steps func(ctx context.Context, tr *Touched)
		ask   int64
		want  bool
	}{
		{"kept for its pack", func(ctx context.Context, tr *Touched) { touch(ctx, 1); tr.Keep(1, "plan") }, 1, true},
		{"another pack's", func(ctx context.Context, tr *Touched) { touch(ctx, 1); tr.Keep(1, "plan") }, 2, false},
		{"an effect began after", func(ctx context.Context, tr *Touched) { touch(ctx, 1); tr.Keep(1, "plan"); touch(ctx, 2) }, 1, false},
		{"dropped after a write", func(ctx context.Context, tr *Touched) { touch(ctx, 1); tr.Keep(1, "plan"); TouchedOf(ctx).Drop() }, 1, false},
		{"nothing kept", func(ctx context.Context, tr *Touched) { touch(ctx, 1) }, 1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, tr := WithTouched(context.Background())
			c.steps(ctx, tr)
			if _, ok := tr.Kept(c.ask); ok != c.want {
				t.Fatalf("kept %v, want %v", ok, c.want)
			}
			if _, ok := tr.Kept(c.ask); ok {
				t.Fatal("a kept plan was used twice")
			}
		})
	}
	// Outside an event nothing is kept, and nothing breaks.
	none := TouchedOf(context.Background())
	none.Keep(1, "plan")
	if _, ok := none.Kept(1); ok {
		t.Fatal("a plan was kept outside an event")
	}
}

// The payments an event wrote are listed once each, by their Stripe object.
func TestTouchedPayments(t *testing.T) {
	ctx, tr := WithTouched(context.Background())
	for _, id := range []string{"pi_1", "", "in_2", "pi_1"} {
		touchPayment(ctx, id)
	}
	if got := tr.Payments; len(got) != 2 || got[0] != "pi_1" || got[1] != "in_2" {
		t.Fatalf("payments %v, want [pi_1 in_2]", got)
	}
	touchPayment(context.Background(), "pi_3") // outside an event: no-op
}
