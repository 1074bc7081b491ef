package packs

import (
	"context"
	"testing"
	"time"

	"carnet/internal/auth"
)

func TestDaysLeft(t *testing.T) {
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	for _, c := range []struct {
		until *time.Time
		want  int
	}{{nil, 0}, {at(-time.Second), 0}, {at(0), 0}, {at(time.Minute), 1}, {at(24 * time.Hour), 1},
		{at(24*time.Hour + time.Second), 2}, {at(30 * 24 * time.Hour), 30}} {
		if got := DaysLeft(c.until, now); got != c.want {
			t.Errorf("DaysLeft(%v) = %d, want %d", c.until, got, c.want)
		}
	}
}

// The client's page reads one client's packs (a period pack's days left and
// this week's sessions against its cap), their bookings with what each cost
// and their payments; nothing of another client.
func TestClientHomeReadsOneClient(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	lea, bo := w.client("lea"), w.client("bo")
	months, cap, price := 1, 2, int64(12000)
	o, err := w.s.CreateOffer(ctx, w.coach, OfferInput{Name: "Un mois", Kind: KindPeriod, Months: &months, WeeklyCap: &cap, PriceAmount: &price})
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.s.RecordManualPack(ctx, w.coach, lea.ID, ManualPackInput{OfferID: o.ID, Method: "bank_transfer", Reference: "VIR 12"})
	if err != nil {
		t.Fatal(err)
	}
	// The plan as billing writes it, one payment of each state.
	for seq, st := range []string{"paid", "failed", "due"} {
		if _, err := w.s.DB.Exec(`INSERT INTO installments (coach_id, pack_id, seq, due_at, amount, currency, status)
			VALUES ($1, $2, $3, $4, 4000, 'EUR', $5)`, w.coach.ID, p.ID, seq+1, w.clock().AddDate(0, seq, 0), st); err != nil {
			t.Fatal(err)
		}
	}
	w.pack(bo.ID, 5)
	past := w.session(w.clock().Add(time.Hour), lea.ID, bo.ID)
	next := w.session(w.clock().Add(48*time.Hour), lea.ID)
	w.setNow(w.clock().Add(2 * time.Hour))
	var leaBooking int64
	for _, b := range past.Bookings {
		if b.ClientID == lea.ID {
			leaBooking = b.ID
		}
		if _, err := w.outcome(b.ID, Attended); err != nil {
			t.Fatal(err)
		}
	}

	h, err := w.s.ClientHome(ctx, auth.ClientAuth{CoachID: w.coach.ID, ClientID: lea.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Packs) != 1 || h.Packs[0].OfferName != "Un mois" || h.Packs[0].SessionsThisWeek == nil || *h.Packs[0].SessionsThisWeek != 1 || !h.Packs[0].Usable(w.clock()) {
		t.Fatalf("packs %+v", h.Packs)
	}
	if pl := h.Packs[0].Payments; len(pl) != 3 || pl[0].Status != "paid" || pl[1].Status != "failed" || pl[2].Status != "due" || pl[2].Amount != 4000 {
		t.Errorf("plan %+v", pl)
	}
	if d := h.Packs[0].DaysLeft; d == nil || *d != 30 {
		t.Errorf("days left %d, want 30 (2 November to 2 December)", d)
	}
	if len(h.Upcoming) != 1 || h.Upcoming[0].SessionID != next.ID || !h.Upcoming[0].Open(w.clock()) {
		t.Fatalf("upcoming %+v", h.Upcoming)
	}
	if len(h.History) != 1 || h.History[0].BookingID != leaBooking || !h.History[0].Counted || h.History[0].Sessions != 0 {
		t.Fatalf("history %+v (a period pack counts the session, takes none)", h.History)
	}
	if len(h.Payments) != 1 || h.Payments[0].Amount != 12000 || h.Payments[0].ManualMethod() != "bank_transfer" {
		t.Fatalf("payments %+v", h.Payments)
	}
	if b, found, err := w.s.ClientBooking(ctx, auth.ClientAuth{CoachID: w.coach.ID, ClientID: bo.ID}, leaBooking); found || err != nil {
		t.Fatalf("another client's booking: %+v %v %v", b, found, err)
	}
}
