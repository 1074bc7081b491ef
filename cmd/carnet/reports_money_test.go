package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"carnet/internal/auth"
	"carnet/internal/i18n"
	"carnet/reports"
)

// Issue 14: money received is split by how it came (card and SEPA Direct
// Debit as the local checkout chose them, by hand, and "unknown" for a
// payment recorded before the method was), and the twelve months' total
// row says the same in JSON, in the CSV and on the page, all of it against
// the payment and ledger rows.
func TestRevenueByMethodAndItsTotal(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("methods@example.com") // Europe/Paris, EUR, French
	loc := paris(t)
	local := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 10, 0, 0, 0, loc) }
	ten := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "10 séances", "kind": "sessions", "sessions": 10,
		"price_amount": 45000, "installments": 3, "upfront": true})
	client := func(name string) map[string]any {
		return a.must(201, "POST", "/v1/clients", key, map[string]any{"name": name, "email": strings.ToLower(name) + "@example.com"})
	}
	// buy opens a checkout and plays the local page's buttons in turn.
	buy := func(c map[string]any, plan string, actions ...string) string {
		t.Helper()
		co := a.must(201, "POST", "/v1/checkout", key, map[string]any{"client_id": c["id"], "offer_id": ten["id"], "plan": plan})
		page := a.base + strings.TrimPrefix(co["url"].(string), "http://carnet.test")
		for _, action := range actions {
			res, err := http.PostForm(page, url.Values{"action": {action}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
		}
		return page
	}
	a.at(local(10, 1))
	lea := client("Lea")
	a.must(201, "POST", "/v1/clients/"+id(lea)+"/packs", key, map[string]any{"offer_id": ten["id"], "method": "cash"})
	a.attend(key, lea["id"])
	a.at(local(10, 2))
	buy(client("Carte"), "upfront", "card")
	a.at(local(10, 3))
	buy(client("Sepa"), "upfront", "sepa", "sepa_ok")
	a.at(local(10, 4))
	plan := buy(client("Plan"), "installments", "sepa", "sepa_ok")
	a.at(local(11, 10))
	if res, err := http.PostForm(plan, url.Values{"action": {"next_paid"}}); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	coachID := a.sum(`SELECT coach_id FROM clients WHERE id = $1`, jnum(lea["id"]))
	// A payment as the previous release recorded it: no method.
	if _, err := a.m.DB.Exec(`INSERT INTO payments (coach_id, pack_id, kind, status, amount, currency, stripe_object_id, occurred_at)
		SELECT coach_id, id, 'charge', 'succeeded', 12000, 'EUR', 'pi_before_methods', $2 FROM packs
		WHERE coach_id = $1 AND client_id = $3`, coachID, local(10, 5), jnum(lea["id"])); err != nil {
		t.Fatal(err)
	}
	a.at(local(11, 15))
	// Each payment names its pack's client (00041's trigger), the row the
	// previous release wrote too: the reports group money by it.
	if n := a.count(`SELECT count(*) FROM payments p JOIN packs pk ON pk.id = p.pack_id
		WHERE p.coach_id = $1 AND p.client_id IS DISTINCT FROM pk.client_id`, coachID); n != 0 {
		t.Fatalf("%d payments do not name their pack's client", n)
	}

	// What the rows say, method by method, and in all.
	want := map[string]int64{}
	rows, err := a.m.DB.Query(`SELECT CASE WHEN kind = 'manual' THEN split_part(status, ':', 1) ELSE coalesce(method, 'unknown') END,
		sum(amount) FROM payments WHERE coach_id = $1 AND ((kind = 'charge' AND status = 'succeeded') OR kind = 'manual')
		GROUP BY 1`, coachID)
	if err != nil {
		t.Fatal(err)
	}
	var received int64
	for rows.Next() {
		var m string
		var n int64
		if err := rows.Scan(&m, &n); err != nil {
			t.Fatal(err)
		}
		want[m], received = n, received+n
	}
	rows.Close()
	if want["card"] != 45000 || want["sepa_debit"] != 45000+15000+15000 || want["cash"] != 45000 || want["unknown"] != 12000 {
		t.Fatalf("the payments' methods as recorded: %v", want)
	}
	earned := a.sum(`SELECT sum(-l.delta * p.price_amount / p.sessions_credited) FROM ledger_entries l JOIN packs p ON p.id = l.pack_id
		WHERE l.coach_id = $1 AND p.kind = 'sessions' AND l.kind IN ('attended', 'no_show', 'late_cancel', 'waiver')`, coachID)
	if earned != 4500 {
		t.Fatalf("earned by the ledger: %d", earned)
	}

	// JSON: each month's split adds up to the rows, and so does the total.
	rev := a.must(200, "GET", "/v1/reports/revenue", key, nil)
	tot := rev["totals"].(map[string]any)
	by := tot["received_by_method"].(map[string]any)
	months := map[string]int64{}
	for _, m := range rev["months"].([]any) {
		for k, v := range m.(map[string]any)["received_by_method"].(map[string]any) {
			months[k] += jnum(v)
		}
	}
	for _, m := range reports.Methods {
		if jnum(by[m]) != want[m] || months[m] != want[m] {
			t.Errorf("%s: total %v, months add up to %d, rows %d", m, by[m], months[m], want[m])
		}
	}
	if jnum(tot["received"]) != received || jnum(tot["refunded"]) != 0 || jnum(tot["net"]) != received || jnum(tot["earned"]) != earned {
		t.Fatalf("totals %v; rows received %d, ledger earned %d", tot, received, earned)
	}

	// CSV: the last line is the total, column for column.
	r := a.do("GET", "/v1/reports/revenue?format=csv&lang=en", key, nil)
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\ufeff")))).ReadAll()
	if err != nil || len(recs) != 14 {
		t.Fatalf("revenue CSV: %v %d lines\n%s", err, len(recs), r.Body)
	}
	head, last := recs[0], recs[13]
	col := map[string]string{}
	for i, h := range head {
		col[h] = last[i]
	}
	if last[0] != "Total" || col["Received"] != itoa(received) || col["Card"] != itoa(want["card"]) ||
		col["SEPA Direct Debit"] != itoa(want["sepa_debit"]) || col["Cash"] != itoa(want["cash"]) ||
		col["Method not recorded"] != itoa(want["unknown"]) || col["Earned"] != itoa(earned) || col["Net received"] != itoa(received) {
		t.Fatalf("the CSV's total line: %v", col)
	}

	// The page: its total row and its table by method.
	_, token, err := auth.SignInWithKey(context.Background(), a.m.DB, key, "127.0.0.1", a.clock())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", a.base+"/app/reports", nil)
	req.AddCookie(&http.Cookie{Name: "carnet_session", Value: token})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	cells := func(rowID string) []string {
		t.Helper()
		m := regexp.MustCompile(`(?s)<tr id="` + rowID + `">(.*?)</tr>`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no row %s on the page:\n%s", rowID, body)
		}
		var out []string
		for _, c := range regexp.MustCompile(`(?s)<t[hd][^>]*>(.*?)</t[hd]>`).FindAllSubmatch(m[1], -1) {
			out = append(out, strings.TrimSpace(string(c[1])))
		}
		return out
	}
	money := func(n int64) string { return i18n.Money(n, "EUR", "fr") }
	if got := cells("revenue-total"); strings.Join(got, "|") != strings.Join([]string{"Total", money(received), money(0),
		money(received), money(earned)}, "|") {
		t.Errorf("the page's total row: %v", got)
	}
	for _, m := range reports.Methods {
		if got := cells("method-" + m); len(got) != 2 || got[1] != money(want[m]) || got[0] != reports.Word("fr", "col_"+m) {
			t.Errorf("the page's %s: %v, rows say %s", m, got, money(want[m]))
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Issue 14: the owed report's "expiring within 30 days" holds exactly the
// live packs whose validity ends by now + 30 days (the 30th day included),
// in sessions and in value at the price each client paid, as the packs and
// the ledger say; the CSV marks the same packs.
func TestOwedExpiringWithin30Days(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("owed@example.com") // Europe/Paris, EUR
	loc := paris(t)
	offer := func(name string, sessions, days int, price int64) map[string]any {
		return a.must(201, "POST", "/v1/offers", key, map[string]any{"name": name, "kind": "sessions", "sessions": sessions,
			"validity_days": days, "price_amount": price})
	}
	soon, edge, later := offer("20 jours", 10, 20, 45000), offer("30 jours", 5, 30, 25000), offer("31 jours", 5, 31, 25000)
	month := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "Un mois", "kind": "period", "months": 1, "price_amount": 31000})
	sell := func(name string, o map[string]any) map[string]any {
		c := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": name, "email": strings.ToLower(name) + "@example.com"})
		a.must(201, "POST", "/v1/clients/"+id(c)+"/packs", key, map[string]any{"offer_id": o["id"], "method": "cash"})
		return c
	}
	a.at(time.Date(2026, 10, 22, 10, 0, 0, 0, loc))
	sell("Periode", month) // until 22 November: expiring
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, loc)
	a.at(now)
	used := sell("Bientot", soon) // ends in 20 days
	a.attend(key, used["id"])     // one session used: 9 left
	a.at(now)
	sell("Limite", edge)   // ends in exactly 30 days: counted
	sell("Ensuite", later) // 31 days: not counted
	coachID := a.sum(`SELECT coach_id FROM clients WHERE id = $1`, jnum(used["id"]))

	// From the rows: the sessions packs' remaining sessions (the ledger's sum)
	// and their price share; the period pack's days still to come.
	soonSQL := `FROM packs p WHERE p.coach_id = $1 AND p.status IN ('active', 'overdue') AND p.valid_until > $2
		AND p.valid_until <= $2 + interval '30 days'`
	sessions := a.sum(`SELECT sum((SELECT sum(delta) FROM ledger_entries l WHERE l.pack_id = p.id)) `+soonSQL+` AND p.kind = 'sessions'`, coachID, now)
	value := a.sum(`SELECT sum(p.price_amount * (SELECT sum(delta) FROM ledger_entries l WHERE l.pack_id = p.id) / p.sessions_credited) `+
		soonSQL+` AND p.kind = 'sessions'`, coachID, now)
	period := a.sum(`SELECT sum(p.price_amount - p.price_amount
			* (($2::timestamptz AT TIME ZONE 'Europe/Paris')::date - (p.activated_at AT TIME ZONE 'Europe/Paris')::date)
			/ ((p.valid_until AT TIME ZONE 'Europe/Paris')::date - (p.activated_at AT TIME ZONE 'Europe/Paris')::date)) `+
		soonSQL+` AND p.kind = 'period'`, coachID, now)
	packs := a.sum(`SELECT count(*) `+soonSQL, coachID, now)
	if sessions != 9+5 || value != 9*4500+25000 || period != 31000-10*1000 || packs != 3 {
		t.Fatalf("the rows: %d sessions worth %d, period %d, %d packs", sessions, value, period, packs)
	}

	owed := a.must(200, "GET", "/v1/reports/owed", key, nil)
	exp := owed["expiring_within_30_days"].(map[string]any)
	if jnum(exp["sessions"]) != sessions || jnum(exp["value"]) != value+period || jnum(exp["packs"]) != packs {
		t.Fatalf("expiring within 30 days: %v; rows %d sessions, %d + %d, %d packs", exp, sessions, value, period, packs)
	}
	expiring := map[string]int64{}
	for _, c := range owed["clients"].([]any) {
		cl := c.(map[string]any)
		expiring[cl["name"].(string)] = jnum(cl["expiring_value"])
	}
	if expiring["Bientot"] != 9*4500 || expiring["Limite"] != 25000 || expiring["Periode"] != period || expiring["Ensuite"] != 0 {
		t.Fatalf("each client's expiring value: %v", expiring)
	}
	r := a.do("GET", "/v1/reports/owed?format=csv&lang=en", key, nil)
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\ufeff")))).ReadAll()
	if err != nil || len(recs) != 5 {
		t.Fatalf("owed CSV: %v\n%s", err, r.Body)
	}
	marked := map[string]bool{}
	for _, rec := range recs[1:] {
		marked[rec[0]] = rec[len(rec)-1] == "yes"
	}
	if !marked["Bientot"] || !marked["Limite"] || !marked["Periode"] || marked["Ensuite"] {
		t.Fatalf("the CSV's expiring marks: %v", marked)
	}
}
