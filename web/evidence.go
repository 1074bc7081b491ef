package web

import (
	"encoding/json"
	"sort"
	"time"
)

// evidenceLine is one fact of an anomaly's evidence, in words, with the
// Stripe id behind it (shown on demand).
type evidenceLine struct {
	Text     string
	StripeID string
}

// evidenceLines writes an anomaly's evidence for the coach: each payment it
// names (taken, how much, when), what was due, the installment and dates.
// Keys it does not know are left out rather than shown as code.
func evidenceLines(v *View, raw []byte, currency string) []evidenceLine {
	var ev map[string]any
	if json.Unmarshal(raw, &ev) != nil {
		return nil
	}
	var out []evidenceLine
	payment := func(label string, p any) {
		m, ok := p.(map[string]any)
		if !ok {
			return
		}
		cur, _ := m["currency"].(string)
		if cur == "" {
			cur = currency
		}
		line := evidenceLine{Text: v.T("evidence."+label, "Amount", v.Money(num(m["amount"]), cur), "When", when(v, m["at"]))}
		line.StripeID, _ = m["stripe_id"].(string)
		out = append(out, line)
	}
	if n, ok := ev["installment"]; ok {
		out = append(out, evidenceLine{Text: v.T("evidence.installment", "Seq", num(n))})
	}
	if a, ok := ev["expected_amount"]; ok {
		cur, _ := ev["expected_currency"].(string)
		out = append(out, evidenceLine{Text: v.T("evidence.expected", "Amount", v.Money(num(a), cur))})
	}
	if d, ok := ev["due_at"]; ok {
		out = append(out, evidenceLine{Text: v.T("evidence.due_at", "When", when(v, d))})
	}
	if a, ok := ev["amount"]; ok {
		cur, _ := ev["currency"].(string)
		out = append(out, evidenceLine{Text: v.T("evidence.amount", "Amount", v.Money(num(a), cur))})
	}
	for _, k := range []string{"payment", "first", "second"} {
		payment(k, ev[k])
	}
	if list, ok := ev["collected"].([]any); ok {
		for _, p := range list {
			payment("collected", p)
		}
	}
	if g, ok := ev["grace_days"]; ok {
		out = append(out, evidenceLine{Text: v.T("evidence.grace_days", "Count", num(g))})
	}
	if s, ok := ev["sessions_left"]; ok {
		out = append(out, evidenceLine{Text: v.T("evidence.sessions_left", "Count", num(s))})
	}
	if s, ok := ev["pack_status"].(string); ok {
		out = append(out, evidenceLine{Text: v.T("evidence.pack_status", "Status", v.TOr("pack.status."+s, s))})
	}
	return out
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func when(v *View, s any) string {
	str, _ := s.(string)
	t, err := time.Parse(time.RFC3339Nano, str)
	if err != nil {
		return "?"
	}
	return v.DateTime(t)
}

// stripeIDs lists the distinct Stripe ids of the evidence, for "on demand".
func stripeIDs(lines []evidenceLine) []string {
	seen := map[string]bool{}
	var ids []string
	for _, l := range lines {
		if l.StripeID != "" && !seen[l.StripeID] {
			seen[l.StripeID] = true
			ids = append(ids, l.StripeID)
		}
	}
	sort.Strings(ids)
	return ids
}
