package billing

import (
	"context"

	"github.com/lib/pq"
	"github.com/stripe/stripe-go/v76"

	"carnet/packs"
)

// Receipts fills each payment's method and Stripe receipt link: from what
// was read before, else from Stripe (once per payment, then kept). A payment
// Stripe does not answer for is shown without them.
func (s *Service) Receipts(ctx context.Context, pays []packs.PaymentView) error {
	ids := make([]int64, len(pays))
	for i, p := range pays {
		ids[i] = p.ID
	}
	var known []struct {
		ID     int64  `db:"payment_id"`
		Method string `db:"method"`
		URL    string `db:"receipt_url"`
	}
	if err := s.DB.SelectContext(ctx, &known, `SELECT payment_id, method, receipt_url FROM payment_receipts
		WHERE payment_id = ANY($1)`, pq.Array(ids)); err != nil {
		return err
	}
	have := map[int64]bool{}
	for _, k := range known {
		for i := range pays {
			if pays[i].ID == k.ID {
				pays[i].Method, pays[i].ReceiptURL, have[k.ID] = k.Method, k.URL, true
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, receiptWait)
	defer cancel()
	for i := range pays {
		p := &pays[i]
		if have[p.ID] || (p.Kind != "charge" && p.Kind != "fee") || p.Status != "succeeded" || (p.ChargeID == nil && p.IntentID == nil) {
			continue
		}
		ch, err := s.charge(ctx, p)
		if err != nil || ch == nil {
			continue // Stripe did not answer; try again next time
		}
		p.ReceiptURL = ch.ReceiptURL
		if ch.PaymentMethodDetails != nil {
			p.Method = string(ch.PaymentMethodDetails.Type)
		}
		if _, err := s.DB.ExecContext(ctx, `INSERT INTO payment_receipts (payment_id, method, receipt_url, fetched_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT (payment_id) DO NOTHING`, p.ID, p.Method, p.ReceiptURL, s.Now().UTC()); err != nil {
			return err
		}
	}
	return nil
}

// charge reads the Stripe charge behind a payment.
func (s *Service) charge(ctx context.Context, p *packs.PaymentView) (*stripe.Charge, error) {
	if p.ChargeID != nil {
		params := &stripe.ChargeParams{}
		params.Context = ctx
		return s.Stripe.Charges.Get(*p.ChargeID, params)
	}
	params := &stripe.PaymentIntentParams{}
	params.Context = ctx
	params.AddExpand("latest_charge")
	pi, err := s.Stripe.PaymentIntents.Get(*p.IntentID, params)
	if err != nil {
		return nil, err
	}
	return pi.LatestCharge, nil
}
