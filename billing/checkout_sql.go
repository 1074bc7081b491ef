package billing

import (
	"context"
	"slices"
	"strconv"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/stripe/stripe-go/v76"

	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/internal/failpoint"
	"carnet/packs"
)

// claimCheckout creates the pending pack with its expected payments, or,
// for a retry of the request ref, returns the one its first run created.
func (s *Service) claimCheckout(ctx context.Context, coach auth.Coach, client packs.Client, offer packs.Offer, in CheckoutInput, n int, ref string) (packs.Pack, []Due, error) {
	var pack packs.Pack
	var dues []Due
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if ref != "" {
			var id int64
			err := tx.GetContext(ctx, &id, `SELECT pack_id FROM checkout_requests WHERE request_ref = $1 AND coach_id = $2`, ref, coach.ID)
			if err == nil {
				// A first run that Stripe failed abandoned it: open it again.
				if _, err := tx.ExecContext(ctx, `WITH reopened AS (UPDATE packs SET status = $2
						WHERE id = $1 AND status = ANY($3) AND stripe_checkout_session_id IS NULL RETURNING id)
					UPDATE installments SET status = 'due' WHERE pack_id IN (SELECT id FROM reopened) AND status = 'cancelled'`,
					id, packs.StatusPending, pq.Array(packs.MovableTo(packs.StatusPending))); err != nil {
					return err
				}
				if err := tx.GetContext(ctx, &pack, `SELECT `+db.Columns[packs.Pack]("")+` FROM packs WHERE id = $1`, id); err != nil {
					return err
				}
				return tx.SelectContext(ctx, &dues, `SELECT seq AS "seq", due_at AS "dueat", amount AS "amount"
					FROM installments WHERE pack_id = $1 ORDER BY seq`, id)
			}
			if !db.NoRows(err) {
				return err
			}
		}
		ch, err := s.Packs.CurrentCharter(ctx, tx, coach)
		if err != nil {
			return err
		}
		var charterID *int64
		if ch.ID != 0 {
			charterID = &ch.ID
		}
		now := s.Now().UTC()
		var doc packs.AgreementDoc
		if in.Signer != nil {
			// The client accepts the very text they read: under this charter,
			// with this plan; anything changed since means reading it again.
			if doc, err = s.agreement(ctx, tx, coach, client.ID, offer, in.Plan, n, ch, now); err != nil {
				return err
			}
			if in.AgreementSHA256 == "" {
				return errs.Field("agreement_sha256", "read and accept the agreement first (GET /v1/me/agreement)")
			}
			if in.AgreementSHA256 != doc.SHA256() {
				return errs.New(errs.Conflict, "the agreement changed since it was read; read it again before accepting")
			}
		}
		if pack, err = packs.NewPendingPack(ctx, tx, coach.ID, client.ID, offer.ID, in.Plan, n, charterID); err != nil {
			return err
		}
		if in.Signer != nil {
			if err := packs.RecordAcceptance(ctx, tx, pack, ch, doc, now, *in.Signer); err != nil {
				return err
			}
		}
		dues = SplitInstallments(pack.PriceAmount, n, now)
		for _, d := range dues {
			if _, err := tx.ExecContext(ctx, `INSERT INTO installments (coach_id, pack_id, seq, due_at, amount, currency)
				VALUES ($1, $2, $3, $4, $5, $6)`, coach.ID, pack.ID, d.Seq, d.DueAt, d.Amount, pack.Currency); err != nil {
				return err
			}
		}
		if ref == "" {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO checkout_requests (request_ref, coach_id, pack_id) VALUES ($1, $2, $3)`,
			ref, coach.ID, pack.ID)
		return err
	})
	return pack, dues, err
}

func (s *Service) openSession(ctx context.Context, coach auth.Coach, client packs.Client, offer packs.Offer, pack packs.Pack, plan []Due) (Checkout, error) {
	customer, err := s.ensureCustomer(ctx, coach.ID, client)
	if err != nil {
		return Checkout{}, providerFailed(err)
	}
	product, err := s.ensureProduct(ctx, offer)
	if err != nil {
		return Checkout{}, providerFailed(err)
	}
	packID := strconv.FormatInt(pack.ID, 10)
	meta := map[string]string{"carnet_pack_id": packID, "carnet_coach_id": strconv.FormatInt(coach.ID, 10)}
	params := &stripe.CheckoutSessionParams{
		Customer:           stripe.String(customer),
		ClientReferenceID:  stripe.String(packID),
		PaymentMethodTypes: stripe.StringSlice(PaymentMethods(pack.Currency, coach.Country, coach.Timezone, pack.Plan)),
		ConsentCollection:  &stripe.CheckoutSessionConsentCollectionParams{TermsOfService: stripe.String("required")},
		SuccessURL:         stripe.String(s.BaseURL + "/checkout/done?pack=" + packID),
		CancelURL:          stripe.String(s.BaseURL + "/checkout/cancelled?pack=" + packID),
		Metadata:           meta,
	}
	if pack.Plan == PlanUpfront {
		params.Mode = stripe.String(string(stripe.CheckoutSessionModePayment))
		price, err := s.ensurePrice(ctx, offer, product, "stripe_price_id", pack.PriceAmount, false)
		if err != nil {
			return Checkout{}, providerFailed(err)
		}
		params.LineItems = []*stripe.CheckoutSessionLineItemParams{{Quantity: stripe.Int64(1), Price: stripe.String(price)}}
		// The card or mandate is kept for late-cancellation fees, off session.
		params.PaymentIntentData = &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: meta, SetupFutureUsage: stripe.String("off_session")}
		if slices.Contains(PaymentMethods(pack.Currency, coach.Country, coach.Timezone, pack.Plan), "paypal") {
			// PayPal is not kept for later without Stripe's recurring approval:
			// paid by PayPal, a later fee is asked for, not charged.
			params.PaymentMethodOptions = &stripe.CheckoutSessionPaymentMethodOptionsParams{
				Paypal: &stripe.CheckoutSessionPaymentMethodOptionsPaypalParams{SetupFutureUsage: stripe.String("none")}}
		}
	} else {
		params.Mode = stripe.String(string(stripe.CheckoutSessionModeSubscription))
		monthly := plan[len(plan)-1].Amount
		price, err := s.ensurePrice(ctx, offer, product, "stripe_installment_price_id", monthly, true)
		if err != nil {
			return Checkout{}, providerFailed(err)
		}
		params.LineItems = []*stripe.CheckoutSessionLineItemParams{{Quantity: stripe.Int64(1), Price: stripe.String(price)}}
		if extra := plan[0].Amount - monthly; extra > 0 {
			// The cents that do not divide are paid once, with the first debit.
			params.LineItems = append(params.LineItems, &stripe.CheckoutSessionLineItemParams{Quantity: stripe.Int64(1),
				PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{Currency: stripe.String(pack.Currency), Product: stripe.String(product), UnitAmount: stripe.Int64(extra)}})
		}
		// Checkout Session metadata is not copied to invoices; the
		// subscription's is, so invoices can be traced back to the pack.
		params.SubscriptionData = &stripe.CheckoutSessionSubscriptionDataParams{Metadata: meta}
	}
	params.Context = ctx
	params.IdempotencyKey = s.key("pack-%d-checkout", pack.ID)
	cs, err := s.Stripe.CheckoutSessions.New(params)
	if err != nil {
		return Checkout{}, providerFailed(err)
	}
	failpoint.Hit(failpoint.AfterStripe)
	url := cs.URL
	if s.Local {
		url = s.LocalCheckoutURL(pack.ID)
	}
	if _, err := db.Q(ctx, s.DB).ExecContext(ctx, `UPDATE packs SET stripe_checkout_session_id = $2, stripe_customer_id = $3
		WHERE id = $1`, pack.ID, cs.ID, customer); err != nil {
		return Checkout{}, err
	}
	return Checkout{PackID: pack.ID, SessionID: cs.ID, URL: url}, nil
}

// ensureCustomer creates the client's Stripe Customer once.
func (s *Service) ensureCustomer(ctx context.Context, coachID int64, c packs.Client) (string, error) {
	if c.StripeID != nil {
		return *c.StripeID, nil
	}
	params := &stripe.CustomerParams{Email: stripe.String(c.Email), Name: stripe.String(c.Name),
		PreferredLocales: stripe.StringSlice([]string{c.Locale})}
	params.AddMetadata("carnet_client_id", strconv.FormatInt(c.ID, 10))
	params.Context = ctx
	params.IdempotencyKey = s.key("client-%d-customer", c.ID)
	cus, err := s.Stripe.Customers.New(params)
	if err != nil {
		return "", err
	}
	// Two checkouts racing both get the same customer (same key); the first
	// write wins and the second reads it back.
	var id string
	err = db.Q(ctx, s.DB).GetContext(ctx, &id, `UPDATE clients SET stripe_customer_id = coalesce(stripe_customer_id, $3)
		WHERE coach_id = $1 AND id = $2 RETURNING stripe_customer_id`, coachID, c.ID, cus.ID)
	return id, err
}

// ensureProduct creates the offer's Stripe Product once.
func (s *Service) ensureProduct(ctx context.Context, o packs.Offer) (string, error) {
	if o.ProductID != nil {
		return *o.ProductID, nil
	}
	params := &stripe.ProductParams{Name: stripe.String(o.Name)}
	params.AddMetadata("carnet_offer_id", strconv.FormatInt(o.ID, 10))
	params.Context = ctx
	params.IdempotencyKey = s.key("offer-%d-product", o.ID)
	p, err := s.Stripe.Products.New(params)
	if err != nil {
		return "", err
	}
	var id string
	err = db.Q(ctx, s.DB).GetContext(ctx, &id, `UPDATE offers SET stripe_product_id = coalesce(stripe_product_id, $2)
		WHERE id = $1 RETURNING stripe_product_id`, o.ID, p.ID)
	return id, err
}

// ensurePrice creates the offer's Price once: the one-time upfront price, or
// the monthly one of its installment plan; column says which.
func (s *Service) ensurePrice(ctx context.Context, o packs.Offer, product, column string, amount int64, monthly bool) (string, error) {
	var have *string
	if err := db.Q(ctx, s.DB).GetContext(ctx, &have, `SELECT `+column+` FROM offers WHERE id = $1`, o.ID); err != nil {
		return "", err
	}
	if have != nil {
		return *have, nil
	}
	params := &stripe.PriceParams{Currency: stripe.String(o.Currency), Product: stripe.String(product), UnitAmount: stripe.Int64(amount)}
	if monthly {
		params.Recurring = &stripe.PriceRecurringParams{Interval: stripe.String("month"), IntervalCount: stripe.Int64(1)}
	}
	params.Context = ctx
	params.IdempotencyKey = s.key("offer-%d-%s", o.ID, column)
	p, err := s.Stripe.Prices.New(params)
	if err != nil {
		return "", err
	}
	var id string
	err = db.Q(ctx, s.DB).GetContext(ctx, &id, `UPDATE offers SET `+column+` = coalesce(`+column+`, $2)
		WHERE id = $1 RETURNING `+column, o.ID, p.ID)
	return id, err
}
