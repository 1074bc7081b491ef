package reconcile

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"carnet/billing"
	"carnet/internal/i18n"
	"carnet/notify"
	"carnet/packs"
)

// news is what an anomaly's messages tell, as the anomaly stands.
type news struct {
	ID       int64
	Kind     string
	Evidence []byte
	Excess   int64
	WhatWeDo string // refund, review_refund, retry, ended, missed, dispute, decided, unmatched, review
	// ClientTold: the client knows of it, by the anomaly's own message or by
	// another one (a failed monthly debit's installment_failed).
	ClientTold bool
}

// AnomalyPath is where the coach's app shows an anomaly.
func AnomalyPath(id int64) string { return fmt.Sprintf("/app/anomalies/%d", id) }

// baseURL is how people reach Carnet (CARNET_BASE_URL), for links.
func baseURL(b *billing.Service) string {
	if b == nil {
		return ""
	}
	return b.BaseURL
}

// anomalyMessages are what an anomaly's opening says, and to whom: the
// coach always; the client too, but for a failed monthly debit, which
// installment_failed already told them, unless that failure ended the plan
// (a returned first SEPA debit); not for a dispute already decided.
func anomalyMessages(base string, who *party, plan string, status packs.Status, id int64, f Finding) []notify.Message {
	evidence, _ := json.Marshal(f.Evidence)
	ended := packs.Ended(status)
	// A dispute the bank already ruled on is the client's own doing: only
	// the coach is told.
	decided := f.Kind == KindRefundDispute && f.Evidence["what"] == "dispute" && DisputeDecided(fmt.Sprint(f.Evidence["status"]))
	tellClient := (f.Kind != KindFailed || plan != billing.PlanInstallments || ended) && !decided
	n := news{ID: id, Kind: f.Kind, Evidence: evidence, Excess: f.Excess, WhatWeDo: whatWeDo(f, who.AutoRefund, ended),
		ClientTold: tellClient || f.Kind == KindFailed}
	msgs := []notify.Message{coachNews(base, who, n)}
	if tellClient {
		msgs = append(msgs, clientNews(who, n))
	}
	return msgs
}

// coachNews is the coach's message, in the coach's language: the kind in
// words, the facts as a table, what Carnet does next, a link.
func coachNews(base string, who *party, n news) notify.Message {
	l := who.CoachLocale
	return notify.Message{CoachID: who.CoachID, ClientID: &who.ClientID, Cause: fmt.Sprintf("anomaly:%d:opened:coach", n.ID),
		Template: notify.AnomalyOpenedCoach, Locale: l, To: who.CoachEmail, Data: map[string]any{
			"ClientName": who.ClientName, "CoachName": who.CoachName, "OfferName": who.Offer,
			"KindText": notify.Words.T(l, "kind."+n.Kind), "Facts": Facts(n, who.Currency, l, who.zone()),
			"ClientTold": n.ClientTold, "Link": base + AnomalyPath(n.ID), "Updated": false}}
}

// clientNews is the client's message, in their language and without jargon.
func clientNews(who *party, n news) notify.Message {
	return notify.Message{CoachID: who.CoachID, ClientID: &who.ClientID, Cause: fmt.Sprintf("anomaly:%d:opened:client", n.ID),
		Template: notify.AnomalyOpenedClient, Locale: who.Locale, To: who.ClientEmail, Data: map[string]any{
			"ClientName": who.ClientName, "CoachName": who.CoachName, "OfferName": who.Offer, "Kind": n.Kind,
			"Excess": i18n.Money(n.Excess, who.Currency, who.Locale), "WhatWeDo": n.WhatWeDo,
			"Updated": false}}
}

func (p *party) zone() *time.Location {
	if loc, err := time.LoadLocation(p.CoachTZ); err == nil && p.CoachTZ != "" {
		return loc
	}
	return time.UTC
}

// Facts writes an anomaly's evidence as rows of a table, label then value,
// for a reader of locale in the coach's time zone: what was due, what was
// taken and when, what it leaves, and what Carnet does next.
func Facts(n news, currency, locale string, loc *time.Location) [][2]string {
	var ev map[string]any
	_ = json.Unmarshal(n.Evidence, &ev)
	t := func(id string, pairs ...any) string { return notify.Words.T(locale, id, pairs...) }
	money := func(v any, cur string) string {
		if s, ok := v.(string); ok && cur == "" {
			cur = s
		}
		f, _ := v.(float64)
		return i18n.Money(int64(f), cur, locale)
	}
	date := func(v any) string {
		s, _ := v.(string)
		at, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return s
		}
		return i18n.Date(at.In(loc), locale)
	}
	num := func(v any) int64 { f, _ := v.(float64); return int64(f) }
	// payment is "150,00 € le 2 novembre 2026 (in_123)".
	payment := func(v any) string {
		p, _ := v.(map[string]any)
		cur, _ := p["currency"].(string)
		s := t("value.on", "Amount", money(p["amount"], cur), "Date", date(p["at"]))
		if id, ok := p["stripe_id"].(string); ok && id != "" {
			s += " (" + id + ")"
		}
		return s
	}
	installment := func(seq, due any) string {
		return t("fact.installment", "Seq", num(seq), "Due", date(due))
	}
	var rows [][2]string
	add := func(label, value string) { rows = append(rows, [2]string{label, value}) }
	switch n.Kind {
	case KindAtOnce:
		list, _ := ev["collected"].([]any)
		for _, c := range list {
			c, _ := c.(map[string]any)
			if _, ok := c["due_at"]; ok {
				add(installment(c["installment"], c["due_at"]), payment(c))
			} else {
				cur, _ := c["currency"].(string)
				add(t("fact.due")+fmt.Sprintf(" (%d)", num(c["installment"])), money(c["expected"], cur))
				add(t("fact.taken"), payment(c))
			}
		}
	case KindDuplicate:
		add(t("fact.first_charge"), payment(ev["first"]))
		add(t("fact.second_charge"), payment(ev["second"]))
	case KindAmount:
		cur, _ := ev["expected_currency"].(string)
		add(t("fact.due")+fmt.Sprintf(" (%d)", num(ev["installment"])), money(ev["expected_amount"], cur))
		add(t("fact.taken"), payment(ev["payment"]))
	case KindUnmatched:
		add(t("fact.taken"), payment(ev))
	case KindFailed:
		cur, _ := ev["currency"].(string)
		add(installment(ev["installment"], ev["due_at"]), money(ev["amount"], cur)+", "+t("value.declined"))
	case KindMissed:
		cur, _ := ev["currency"].(string)
		add(installment(ev["installment"], ev["due_at"]), money(ev["amount"], cur))
		add(t("fact.grace"), t("value.days", "Count", num(ev["grace_days"])))
	case KindRefundDispute:
		if ev["what"] == "dispute" {
			add(t("fact.dispute"), payment(ev["payment"]))
			if st, _ := ev["status"].(string); st != "" {
				add(t("fact.dispute_status"), t("dispute."+st))
			}
		} else {
			add(t("fact.refund"), payment(ev["payment"]))
		}
		add(t("fact.sessions_left"), strconv.FormatInt(num(ev["sessions_left"]), 10))
		if n := num(ev["written_off"]); n > 0 {
			add(t("fact.written_off"), strconv.FormatInt(n, 10))
		}
	case KindChargeAfterEnd:
		add(t("fact.taken"), payment(ev["payment"]))
		if st, _ := ev["pack_status"].(string); st != "" {
			add(t("fact.pack_status"), t("status."+st))
		}
	}
	switch {
	case n.Excess > 0 && n.Kind == KindUnmatched:
		// Nothing says it was too much: only that no pack explains it.
		add(t("fact.unexplained"), i18n.Money(n.Excess, currency, locale))
	case n.Excess > 0:
		add(t("fact.excess"), i18n.Money(n.Excess, currency, locale))
	}
	add(t("fact.next"), t("next."+n.WhatWeDo))
	return rows
}
