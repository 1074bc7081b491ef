package reconcile

import (
	"fmt"
	"time"

	"carnet/billing"
	"carnet/internal/i18n"
	"carnet/notify"
	"carnet/packs"
)

// Example is one message as the demo's people would receive it, named for
// the file docs/messages keeps it in.
type Example struct {
	Name string
	notify.Message
}

// Examples are every message Carnet sends, in locale, from the demo's
// situations (its coach, Léa's "10 séances" in 3 installments of 150,00 €,
// the night they were all collected...). The anomalies come from Detect run
// on those plans, so their facts are the rules' own; base is CARNET_BASE_URL.
func Examples(base, locale string) []Example {
	coach, client := "Camille Martin", map[string]string{"fr": "Léa Dubois", "es": "Mateo García", "en": "Emma Clarke"}[locale]
	who := party{CoachID: 1, ClientID: 1, CoachEmail: "demo-coach@carnet.example", CoachName: coach,
		ClientEmail: "client@example.com", ClientName: client, Locale: locale, Offer: "10 séances", Currency: "EUR",
		CoachLocale: locale, CoachTZ: "Europe/Paris"}
	paris, _ := time.LoadLocation("Europe/Paris")
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	due := func(seq int) time.Time { return packs.AddMonths(start, seq-1, "Europe/Paris") }
	money := func(n int64) string { return i18n.Money(n, "EUR", locale) }
	day := func(t time.Time) string { return i18n.Date(t.In(paris), locale) }
	ref := func(s string) *string { return &s }
	inst := func(id int64) *int64 { return &id }
	three := func(status ...string) []Expected {
		var out []Expected
		for i, st := range status {
			out = append(out, Expected{ID: int64(i + 1), Seq: i + 1, DueAt: due(i + 1), Amount: 15000, Currency: "EUR", Status: st})
		}
		return out
	}
	upfront := []Expected{{ID: 1, Seq: 1, DueAt: start, Amount: 45000, Currency: "EUR", Status: "paid"}}
	charge := func(id int64, amount int64, installment *int64, at time.Time) Observed {
		return Observed{ID: id, Kind: "charge", Status: "succeeded", Amount: amount, Currency: "EUR", InstallmentID: installment,
			ObjectID: ref(fmt.Sprintf("in_demo%d", id)), Charge: ref(fmt.Sprintf("ch_demo%d", id)), At: at}
	}
	night := start.Add(17 * time.Hour) // 2 a.m. in Paris
	situations := []struct {
		plan Plan
		auto bool
		now  time.Time
	}{
		{Plan{Plan: billing.PlanInstallments, Status: "active", Remaining: 10, GraceDays: 7, Installments: three("paid", "paid", "paid"),
			Payments: []Observed{charge(1, 15000, inst(1), night), charge(2, 15000, inst(2), night.Add(time.Minute)),
				charge(3, 15000, inst(3), night.Add(2*time.Minute))}}, true, night},
		{Plan{Plan: billing.PlanUpfront, Status: "active", Remaining: 10, GraceDays: 7, Installments: upfront,
			Payments: []Observed{charge(1, 45000, inst(1), start), charge(2, 45000, inst(1), start.Add(time.Minute))}}, false, start},
		{Plan{Plan: billing.PlanUpfront, Status: "active", Remaining: 10, GraceDays: 7, Installments: upfront,
			Payments: []Observed{charge(1, 50000, inst(1), start)}}, true, start},
		{Plan{Plan: billing.PlanInstallments, Status: "overdue", Remaining: 8, GraceDays: 7, Installments: three("paid", "failed", "due"),
			Payments: []Observed{charge(1, 15000, inst(1), start)}}, false, due(2)},
		{Plan{Plan: billing.PlanInstallments, Status: "cancelled", GraceDays: 7, Installments: three("failed", "cancelled", "cancelled")},
			false, start.AddDate(0, 0, 4)},
		{Plan{Plan: billing.PlanInstallments, Status: "active", Remaining: 6, GraceDays: 7, Installments: three("paid", "due", "due"),
			Payments: []Observed{charge(1, 15000, inst(1), start)}}, false, due(2).AddDate(0, 0, 7)},
		{Plan{Plan: billing.PlanUpfront, Status: "active", Remaining: 4, GraceDays: 7, Installments: upfront,
			Payments: []Observed{charge(1, 45000, inst(1), start), {ID: 2, Kind: "dispute", Status: "needs_response", Amount: 45000,
				Currency: "EUR", Charge: ref("ch_demo1"), ObjectID: ref("dp_demo1"), At: start.AddDate(0, 0, 20)}}}, false, start.AddDate(0, 0, 20)},
		{Plan{Plan: billing.PlanInstallments, Status: "refunded", Installments: three("paid", "cancelled", "cancelled"),
			Payments: []Observed{charge(1, 15000, inst(1), start), charge(2, 15000, nil, due(2))}}, false, due(2)},
	}
	var out []Example
	id := int64(0)
	for _, s := range situations {
		who.AutoRefund = s.auto
		for _, f := range Detect(s.plan, s.now) {
			id++
			for _, m := range anomalyMessages(base, &who, s.plan.Plan, s.plan.Status, id, f) {
				name := m.Template + "-" + f.Kind
				if f.Kind == KindFailed && s.plan.Status == packs.StatusCancelled {
					name += "-first_debit_returned"
				}
				out = append(out, Example{Name: name, Message: m})
			}
		}
	}
	id++
	unmatched := news{ID: id, Kind: KindUnmatched, WhatWeDo: "unmatched", Excess: 7000,
		Evidence: []byte(fmt.Sprintf(`{"payment_id": 9, "stripe_id": "pi_demo9", "amount": 7000, "currency": "EUR", "at": %q, "customer": "cus_demo"}`,
			start.AddDate(0, 0, 3).Format(time.RFC3339)))}
	m := coachNews(base, &who, unmatched)
	m.Data["OfferName"] = ""
	out = append(out, Example{Name: m.Template + "-" + KindUnmatched, Message: m})

	// The pack's own messages, with the data NotifyClient and the reminder
	// job give them.
	pack := func(name, template string, data map[string]any) {
		all := map[string]any{"ClientName": client, "CoachName": coach, "OfferName": "10 séances"}
		for k, v := range data {
			all[k] = v
		}
		out = append(out, Example{Name: name, Message: notify.Message{Template: template, Locale: locale, Data: all}})
	}
	until := day(start.AddDate(0, 0, packs.DefaultValidityDays))
	pack("pack_purchased-installments", notify.PackPurchased, map[string]any{"Amount": money(15000), "Installments": 3,
		"NextAmount": money(15000), "NextDate": day(due(2)), "Kind": "sessions", "SessionsLeft": 10, "LowAt": packs.LowBalanceAt,
		"WeeklyCap": 0, "ValidUntil": until})
	pack("pack_purchased-upfront", notify.PackPurchased, map[string]any{"Amount": money(25000), "Installments": 1,
		"NextAmount": "", "NextDate": "", "Kind": "sessions", "SessionsLeft": 5, "LowAt": packs.LowBalanceAt, "WeeklyCap": 0,
		"ValidUntil": day(start.AddDate(0, 0, 90)), "OfferName": "5 séances"})
	pack("pack_purchased-period", notify.PackPurchased, map[string]any{"Amount": money(12000), "Installments": 1,
		"NextAmount": "", "NextDate": "", "Kind": "period", "SessionsLeft": 0, "LowAt": packs.LowBalanceAt, "WeeklyCap": 2,
		"ValidUntil": day(due(2)), "OfferName": "1 mois, 2 par semaine"})
	pack("low_balance", notify.LowBalance, map[string]any{"SessionsLeft": packs.LowBalanceAt, "ValidUntil": until})
	pack("pack_expiring", notify.PackExpiring, map[string]any{"SessionsLeft": 3, "ExpiresOn": until})
	pack("installment_due", notify.InstallmentDue, map[string]any{"Amount": money(15000), "DueDate": day(due(2))})
	pack("installment_failed", notify.InstallmentFailed, map[string]any{"Amount": money(15000), "DueDate": day(due(2)), "GraceDays": 7,
		"UsableUntil": day(due(2).AddDate(0, 0, 7))})
	pack("anomaly_resolved", notify.AnomalyResolved, nil)
	for _, n := range []int{1, 2} {
		pack(fmt.Sprintf("goodwill_granted-%d", n), notify.GoodwillGranted, map[string]any{"Sessions": n,
			"Reason": map[string]string{"fr": "séance du 3 annulée", "es": "sesión del 3 cancelada", "en": "session of the 3rd cancelled"}[locale]})
	}
	// The incident: a free 30-minute consultation for a session that went wrong.
	session := time.Date(2026, 11, 3, 18, 0, 0, 0, paris)
	pack("goodwill_consultation", notify.GoodwillConsultation, map[string]any{"Minutes": 30, "Value": money(8200),
		"SessionTitle": "Groupe du mardi", "SessionDate": i18n.Day(session, locale) + ", " + i18n.Clock(session, locale),
		"Incident": "", "Reason": map[string]string{"fr": "coupure de courant pendant la séance", "es": "corte de luz durante la sesión",
			"en": "power cut during the session"}[locale]})
	out = append(out, Example{Name: "coach_sign_in", Message: notify.Message{Template: notify.CoachSignIn, Locale: locale,
		Data: map[string]any{"CoachName": coach, "Link": base + "/app/signin/demo-token", "Minutes": 15}}})
	w := func(id string, pairs ...any) string { return notify.Words.T(locale, id, pairs...) }
	at := func(d int) string {
		t := time.Date(2026, 10, d, 10, 0, 0, 0, paris)
		return i18n.Day(t, locale) + " " + i18n.Clock(t, locale)
	}
	pack("monthly_summary", notify.MonthlySummary, map[string]any{"Month": i18n.Month(time.Date(2026, 10, 1, 0, 0, 0, 0, paris), locale),
		"Sessions": [][2]string{
			{at(6), w("outcome.attended") + ", " + w("cost.sessions", "Count", 1)},
			{at(8), w("outcome.no_show") + ", " + w("cost.sessions", "Count", 1)},
			{at(13), w("outcome.late_cancelled") + ", " + w("cost.sessions", "Count", 1)},
			{at(15), w("outcome.coach_cancelled", "Coach", coach) + ", " + w("cost.free")},
			{at(20), w("outcome.cancelled") + ", " + w("cost.free")},
		}, "Attended": 1, "Missed": 1, "Cancelled": 2, "CoachCancelled": 1, "HasBalance": true, "Balance": 7})
	return out
}

// ExampleFiles renders Examples in every locale as docs/messages holds
// them: <locale>/<name>.txt (subject, then the text) and .html, and each
// locale's cancellation previews.
func ExampleFiles(base string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, l := range i18n.Locales {
		for _, e := range Examples(base, l) {
			r, err := notify.RenderMessage(e.Message)
			if err != nil {
				return nil, fmt.Errorf("%s/%s: %w", l, e.Name, err)
			}
			files[l+"/"+e.Name+".txt"] = []byte("Subject: " + r.Subject + "\n\n" + r.Text)
			files[l+"/"+e.Name+".html"] = []byte(r.HTML)
		}
		start := time.Date(2026, 11, 3, 17, 0, 0, 0, time.UTC)
		preview := "What a client reads before cancelling the session of " + start.Format(time.RFC3339) + ":\n\n"
		for _, p := range []struct {
			name string
			p    packs.CancellationPreview
		}{
			{"in time", packs.CancellationPreview{}},
			{"late, a session counted", packs.CancellationPreview{Late: true, Counted: true}},
			{"late, a fee", packs.CancellationPreview{Late: true, FeeAmount: 1500, Currency: "EUR"}},
			{"late, nothing counted", packs.CancellationPreview{Late: true}},
		} {
			p.p.StartsAt, p.p.NoticeHours, p.p.FreeUntil = start, 24, start.Add(-24*time.Hour)
			preview += "- " + p.name + ": " + packs.PreviewText(p.p, l, "Europe/Paris") + "\n"
		}
		files[l+"/cancellation_preview.txt"] = []byte(preview)
	}
	return files, nil
}
