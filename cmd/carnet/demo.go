package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"carnet/billing"
	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/errs"
	"carnet/packs"
	"carnet/web"
)

const demoEmail = "demo-coach@carnet.example"

// demo seeds a coach with a few offers and clients, idempotently, and prints
// a fresh API key: only key hashes are stored, so an old key cannot be shown.
func (m *Main) demo(ctx context.Context, out io.Writer) error {
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	coach, err := auth.CoachByEmail(ctx, m.DB, demoEmail)
	if errs.CodeOf(err) == errs.NotFound {
		coach, _, err = auth.CreateCoach(ctx, m.DB, auth.NewCoach{
			Name: "Camille Martin (demo)", Email: demoEmail, Currency: "EUR", Timezone: "Europe/Paris"})
	}
	if err != nil {
		return err
	}
	svc := &packs.Service{DB: m.DB, Now: m.Now}
	bill := m.billing
	if m.StripeKey == "" && m.StripeAPIBase == "" {
		bill = nil // no Stripe and no stripe-mock: no checkout to open
	}
	checkout, err := seedDemo(ctx, svc, bill, coach)
	if err != nil {
		return err
	}
	key, err := auth.IssueKey(ctx, m.DB, coach.ID, "demo")
	if err != nil {
		return err
	}
	// A sign-in link for the coach's pages, printed like the key: without
	// SMTP_URL it would only wait in the outbox.
	signin, err := auth.SignInLink(ctx, m.DB, coach.ID, m.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, `Carnet demo is ready.
  coach:    %s <%s>
  base URL: %s
  sign in:  %s  (once, within %d minutes; or sign in there with the API key)
  API key:  %s
  try:      curl -s -H 'Authorization: Bearer %s' %s/v1/clients
`, coach.Name, coach.Email, m.BaseURL, web.SignInURL(m.BaseURL, signin), int(auth.SignInTTL/time.Minute), key, key, m.BaseURL)
	if checkout.PackID != 0 {
		fmt.Fprintf(out, "  checkout: pack %d, Mateo's \"10 séances\" in 3 installments, waits at %s\n"+
			"            (or pay it: carnet stripe send card --pack %d)\n", checkout.PackID, checkout.URL, checkout.PackID)
	}
	return nil
}

// seedDemo seeds the demo and returns its open checkout: pack 2 on a fresh
// database, bought by Mateo through the local checkout and waiting for the
// events the README's `carnet stripe send` examples send.
func seedDemo(ctx context.Context, svc *packs.Service, bill *billing.Service, coach auth.Coach) (billing.Checkout, error) {
	if err := seedPeople(ctx, svc, coach); err != nil || bill == nil {
		return billing.Checkout{}, err
	}
	roster, err := svc.Clients(ctx, coach.ID, api.Page{Limit: 3})
	if err != nil {
		return billing.Checkout{}, err
	}
	var mateo packs.Client
	for _, c := range roster.Data {
		if c.Email == "mateo@example.com" {
			mateo = c
		}
	}
	var co billing.Checkout
	var have []struct {
		ID     int64        `db:"id"`
		Status packs.Status `db:"status"`
	}
	if err := svc.DB.SelectContext(ctx, &have, `SELECT id, status FROM packs WHERE coach_id = $1 AND client_id = $2
		ORDER BY id LIMIT 1`, coach.ID, mateo.ID); err != nil || len(have) > 0 {
		if err == nil && have[0].Status == packs.StatusPending && bill.Local {
			co = billing.Checkout{PackID: have[0].ID, URL: bill.LocalCheckoutURL(have[0].ID)}
		}
		return co, err // seeded before: its checkout still waits, or was paid
	}
	offers, err := svc.Offers(ctx, coach.ID, "active", api.Page{Limit: 1}) // "10 séances", in 3 installments
	if err != nil || len(offers.Data) == 0 {
		return co, err
	}
	return bill.StartCheckout(ctx, coach, billing.CheckoutInput{ClientID: mateo.ID, OfferID: offers.Data[0].ID, Plan: billing.PlanInstallments})
}

func seedPeople(ctx context.Context, svc *packs.Service, coach auth.Coach) error {
	ptr := func(n int) *int { return &n }
	price := func(n int64) *int64 { return &n }
	offers := []packs.OfferInput{
		{Name: "10 séances", Kind: packs.KindSessions, Sessions: ptr(10), PriceAmount: price(45000), Installments: ptr(3)},
		{Name: "5 séances", Kind: packs.KindSessions, Sessions: ptr(5), ValidityDays: ptr(90), PriceAmount: price(25000)},
		{Name: "3 mois illimités", Kind: packs.KindPeriod, Months: ptr(3), PriceAmount: price(45000), Installments: ptr(3)},
		{Name: "1 mois, 2 par semaine", Kind: packs.KindPeriod, Months: ptr(1), WeeklyCap: ptr(2), PriceAmount: price(12000)},
	}
	have, err := svc.Offers(ctx, coach.ID, "all", api.Page{Limit: 100})
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for _, o := range have.Data {
		names[o.Name] = true
	}
	for _, in := range offers {
		if !names[in.Name] {
			if _, err := svc.CreateOffer(ctx, coach, in); err != nil {
				return err
			}
		}
	}
	str := func(s string) *string { return &s }
	clients := []packs.ClientInput{
		{Name: str("Léa Dubois"), Email: str("lea@example.com"), Locale: str("fr")},
		{Name: str("Mateo García"), Email: str("mateo@example.com"), Locale: str("es")},
		{Name: str("Emma Clarke"), Email: str("emma@example.com"), Locale: str("en")},
	}
	for _, in := range clients {
		_, err := svc.CreateClient(ctx, coach.ID, in)
		if err != nil && errs.CodeOf(err) != errs.Conflict {
			return err
		}
	}
	// A charter, and Léa's pack paid by transfer, so balances have something to show.
	if ch, err := svc.CurrentCharter(ctx, svc.DB, coach); err != nil {
		return err
	} else if ch.ID == 0 {
		if _, err := svc.PublishCharter(ctx, coach, packs.CharterInput{NoticeHours: ptr(24), LateCancelAction: packs.ActionDeduct,
			NoShowAction: packs.ActionDeduct, GraceDays: ptr(7)}); err != nil {
			return err
		}
	}
	roster, err := svc.Clients(ctx, coach.ID, api.Page{Limit: 1})
	if err != nil || len(roster.Data) == 0 {
		return err
	}
	lea := roster.Data[0]
	bal, err := svc.ClientBalance(ctx, coach.ID, lea.ID)
	if err != nil || len(bal.Packs) > 0 {
		return err
	}
	// The first demo offer, "10 séances", is the oldest active one.
	active, err := svc.Offers(ctx, coach.ID, "active", api.Page{Limit: 1})
	if err != nil || len(active.Data) == 0 {
		return err
	}
	_, err = svc.RecordManualPack(ctx, coach, lea.ID, packs.ManualPackInput{OfferID: active.Data[0].ID, Method: "bank_transfer", Reference: "demo"})
	return err
}
