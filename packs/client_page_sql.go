package packs

import (
	"context"

	"github.com/lib/pq"

	"carnet/internal/auth"
)

// ClientHome reads everything the client's page shows, for one client of
// one coach: nothing of anyone else's.
func (s *Service) ClientHome(ctx context.Context, who auth.ClientAuth) (ClientHome, error) {
	var h ClientHome
	var err error
	if h.Client, err = s.Client(ctx, who.CoachID, who.ClientID); err != nil {
		return h, err
	}
	if h.Coach, err = auth.CoachByID(ctx, s.DB, who.CoachID); err != nil {
		return h, err
	}
	now := s.Now().UTC()
	bal, err := s.ClientBalance(ctx, who.CoachID, who.ClientID)
	if err != nil {
		return h, err
	}
	var ids []int64
	for _, pb := range bal.Packs {
		if pb.Status != StatusCancelled { // an abandoned checkout is nothing the client holds
			h.Packs = append(h.Packs, PackView{PackBalance: pb})
			ids = append(ids, pb.ID)
		}
	}
	var about []struct {
		ID     int64  `db:"id"`
		Offer  string `db:"offer"`
		Signed bool   `db:"signed"`
	}
	if err = s.DB.SelectContext(ctx, &about, `SELECT p.id, o.name AS offer,
		EXISTS (SELECT 1 FROM agreement_acceptances a WHERE a.pack_id = p.id) AS signed
		FROM packs p JOIN offers o ON o.id = p.offer_id WHERE p.id = ANY($1) AND p.coach_id = $2`,
		pq.Array(ids), who.CoachID); err != nil {
		return h, err
	}
	for i := range h.Packs {
		for _, a := range about {
			if a.ID == h.Packs[i].ID {
				h.Packs[i].OfferName, h.Packs[i].Signed = a.Offer, a.Signed
			}
		}
	}
	var plan []PlanPayment
	if err = s.DB.SelectContext(ctx, &plan, `SELECT pack_id, seq, due_at, amount, currency, status, paid_at
		FROM installments WHERE pack_id = ANY($1) AND coach_id = $2 ORDER BY pack_id, seq`, pq.Array(ids), who.CoachID); err != nil {
		return h, err
	}
	for i := range h.Packs {
		for _, pp := range plan {
			if pp.PackID == h.Packs[i].ID {
				h.Packs[i].Payments = append(h.Packs[i].Payments, pp)
			}
		}
	}
	var bookings []BookingView
	if bookings, err = s.clientBookings(ctx, who, 0); err != nil {
		return h, err
	}
	for _, b := range bookings {
		if b.Open(now) {
			h.Upcoming = append([]BookingView{b}, h.Upcoming...) // soonest first
		} else if b.StartsAt.Before(now) || b.Outcome != nil {
			h.History = append(h.History, b)
		}
	}
	err = s.DB.SelectContext(ctx, &h.Payments, `SELECT p.id, p.pack_id, coalesce(o.name, '') AS offer_name, p.kind, p.status,
		p.amount, p.currency, p.occurred_at, p.stripe_charge_id, p.stripe_payment_intent_id, '' AS method, '' AS receipt_url
		FROM payments p LEFT JOIN packs k ON k.id = p.pack_id LEFT JOIN offers o ON o.id = k.offer_id
		LEFT JOIN bookings b ON b.id = p.booking_id
		WHERE p.coach_id = $1 AND (k.client_id = $2 OR b.client_id = $2)
		  AND p.status NOT IN ('unmatched', 'unpaired', 'paired', 'charging')
		ORDER BY p.occurred_at DESC, p.id DESC LIMIT 200`, who.CoachID, who.ClientID)
	return h, err
}

// clientBookings lists the client's bookings, newest first, with what each
// cost; id, when not 0, picks one.
func (s *Service) clientBookings(ctx context.Context, who auth.ClientAuth, id int64) ([]BookingView, error) {
	var out []BookingView
	err := s.DB.SelectContext(ctx, &out, `SELECT b.id AS booking_id, b.session_id, s.title, s.starts_at, s.duration_minutes,
		b.outcome, b.pack_id, s.cancelled_at IS NOT NULL AS session_cancelled, e.id IS NOT NULL AS counted,
		-coalesce(e.delta, 0) AS sessions, coalesce(e.value_amount, 0) AS fee, coalesce(e.currency, '') AS fee_currency,
		EXISTS (SELECT 1 FROM ledger_entries w WHERE w.booking_id = b.id AND w.kind = 'waiver') AS waived,
		b.client_confirmed_at AS confirmed_at
		FROM bookings b JOIN sessions s ON s.id = b.session_id
		LEFT JOIN ledger_entries e ON e.booking_id = b.id AND e.kind IN ('attended', 'no_show', 'late_cancel')
		WHERE b.coach_id = $1 AND b.client_id = $2 AND ($3 = 0 OR b.id = $3)
		ORDER BY s.starts_at DESC, b.id DESC LIMIT 500`, who.CoachID, who.ClientID, id)
	return out, err
}

// ClientBooking is one of the client's bookings; another client's is not found.
func (s *Service) ClientBooking(ctx context.Context, who auth.ClientAuth, id int64) (BookingView, bool, error) {
	rows, err := s.clientBookings(ctx, who, id)
	if err != nil || len(rows) == 0 {
		return BookingView{}, false, err
	}
	return rows[0], true, nil
}
