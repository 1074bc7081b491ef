package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"carnet/internal/auth"
	"carnet/internal/i18n"
	"carnet/reports"
)

// at moves the program's clock.
func (a *app) at(t time.Time) {
	a.mu.Lock()
	a.now = t
	a.mu.Unlock()
}

// sum runs a query that adds up rows (0 when there are none).
func (a *app) sum(query string, args ...any) int64 {
	a.t.Helper()
	var n int64
	if err := a.m.DB.Get(&n, "SELECT coalesce(("+query+"), 0)", args...); err != nil {
		a.t.Fatal(err)
	}
	return n
}

func jnum(v any) int64 { f, _ := v.(float64); return int64(f) }

// One coach's October and November, built through the API (manual sales,
// a Stripe checkout played by the local page, sessions and outcomes), and
// every report checked against the ledger and payment rows behind it.
func TestReportsAddUpToTheRows(t *testing.T) {
	t.Parallel()
	// The test folds by hand below; the periodic fold, run when this
	// process becomes River's leader (seconds after start on a busy
	// machine), would fold the deltas first and leave nothing to compare.
	a := startAppWith(t, "", func(m *Main) { m.FoldEvery = -1 })
	key := a.coach("reports@example.com") // Europe/Paris, EUR
	other := a.coach("other-reports@example.com")
	paris, _ := time.LoadLocation("Europe/Paris")
	local := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, paris) }

	ten := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "10 séances", "kind": "sessions", "sessions": 10,
		"price_amount": 45000, "installments": 3, "upfront": true})
	month := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "Un mois", "kind": "period", "months": 1,
		"price_amount": 31000})
	client := func(name, email string) string {
		return id(a.must(201, "POST", "/v1/clients", key, map[string]any{"name": name, "email": email}))
	}
	lea, marc, zoe, ana := client("Léa Dupré", "lea@example.com"), client("=Marc", "marc@example.com"),
		client("Zoé", "zoe@example.com"), client("Ana", "ana@example.com")

	// 1 October: three packs paid by hand.
	a.at(local(10, 1, 10, 0))
	a.must(201, "POST", "/v1/clients/"+lea+"/packs", key, map[string]any{"offer_id": ten["id"], "method": "cash"})
	a.must(201, "POST", "/v1/clients/"+marc+"/packs", key, map[string]any{"offer_id": ten["id"], "method": "bank_transfer", "reference": "VIR-1"})
	a.must(201, "POST", "/v1/clients/"+zoe+"/packs", key, map[string]any{"offer_id": month["id"], "method": "cash"})
	// 3 October: Ana buys in three installments by card (Stripe, played locally).
	a.at(local(10, 3, 10, 0))
	co := a.must(201, "POST", "/v1/checkout", key, map[string]any{"client_id": jnum(a.must(200, "GET", "/v1/clients/"+ana, key, nil)["id"]),
		"offer_id": ten["id"], "plan": "installments"})
	page := a.base + strings.TrimPrefix(co["url"].(string), "http://carnet.test")
	act := func(action string) {
		t.Helper()
		res, err := http.PostForm(page, url.Values{"action": {action}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	act("card")

	session := func(start time.Time, clients ...string) []any {
		ids := []any{}
		for _, c := range clients {
			ids = append(ids, jnum(a.must(200, "GET", "/v1/clients/"+c, key, nil)["id"]))
		}
		s := a.must(201, "POST", "/v1/sessions", key, map[string]any{"title": "Séance", "starts_at": start, "client_ids": ids})
		return s["bookings"].([]any)
	}
	outcome := func(b any, outcome string, at time.Time, announced ...time.Time) {
		t.Helper()
		a.at(at)
		body := map[string]any{"outcome": outcome}
		if len(announced) > 0 {
			body["announced_at"] = announced[0]
		}
		a.must(200, "POST", "/v1/bookings/"+id(b.(map[string]any))+"/outcome", key, body)
	}
	a.at(local(10, 4, 9, 0))
	group := session(local(10, 5, 10, 0), lea, marc, zoe)
	second := session(local(10, 12, 10, 0), lea)
	third := session(local(10, 19, 10, 0), lea)
	edge := session(local(10, 31, 23, 30), marc)   // October in Paris
	november := session(local(11, 1, 0, 30), marc) // November in Paris, 31 October in UTC
	outcome(group[0], "attended", local(10, 5, 11, 0))
	outcome(group[1], "no_show", local(10, 5, 11, 0))
	outcome(group[2], "attended", local(10, 5, 11, 0))
	a.at(local(10, 6, 9, 0))
	a.must(200, "POST", "/v1/bookings/"+id(group[1].(map[string]any))+"/waiver", key, map[string]any{"reason": "Malade, certificat"})
	a.at(local(10, 10, 9, 0))
	a.must(200, "POST", "/v1/sessions/"+id(map[string]any{"id": second[0].(map[string]any)["session_id"]})+"/cancel", key, nil)
	outcome(third[0], "cancelled", local(10, 19, 9, 0), local(10, 19, 8, 0)) // two hours before: late
	outcome(edge[0], "attended", local(10, 31, 23, 59))
	outcome(november[0], "attended", local(11, 1, 1, 0))
	// The client's own confirmation, as the client page records it.
	if _, err := a.m.DB.Exec(`UPDATE bookings SET client_confirmed_at = $2 WHERE id = $1`,
		jnum(group[0].(map[string]any)["id"]), local(10, 5, 12, 0)); err != nil {
		t.Fatal(err)
	}
	// 20 October: Ana's first debit is refunded; 3 November: her second fails.
	a.at(local(10, 20, 9, 0))
	act("refund")
	a.at(local(11, 3, 12, 0))
	act("next_failed")
	a.at(local(11, 10, 9, 0))

	coachID := a.sum(`SELECT coach_id FROM clients WHERE id = $1`, lea)
	octFrom, octTo := local(10, 1, 0, 0), local(11, 1, 0, 0)

	// 1. The attendance sheet of October.
	sheet := a.must(200, "GET", "/v1/reports/attendance?month=2026-10", key, nil)
	rows := sheet["data"].([]any)
	if want := a.count(`SELECT count(*) FROM bookings b JOIN sessions s ON s.id = b.session_id
		WHERE b.coach_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3`, coachID, octFrom, octTo); len(rows) != want || want != 6 {
		t.Fatalf("October has %d bookings in the sheet, %d in the table (want 6): %v", len(rows), want, rows)
	}
	tot := sheet["totals"].(map[string]any)
	if charged := a.count(`SELECT count(*) FROM ledger_entries l JOIN bookings b ON b.id = l.booking_id
		JOIN sessions s ON s.id = b.session_id WHERE l.coach_id = $1 AND l.kind IN ('attended', 'no_show', 'late_cancel')
		AND s.starts_at >= $2 AND s.starts_at < $3`, coachID, octFrom, octTo); jnum(tot["sessions_charged"]) != int64(charged) || charged != 5 {
		t.Fatalf("sessions charged %v, ledger says %d (want 5)", tot["sessions_charged"], charged)
	}
	for field, outcome := range map[string]string{"bookings": "", "attended": "attended", "no_shows": "no_show"} {
		want := a.count(`SELECT count(*) FROM bookings b JOIN sessions s ON s.id = b.session_id
			WHERE b.coach_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3 AND ($4 = '' OR b.outcome = $4)`,
			coachID, octFrom, octTo, outcome)
		if jnum(tot[field]) != int64(want) {
			t.Errorf("sheet's %s %v, bookings table %d", field, tot[field], want)
		}
	}
	if jnum(tot["waived"]) != 1 || jnum(tot["coach_cancelled"]) != 1 || jnum(tot["late_cancelled"]) != 1 || jnum(tot["client_confirmed"]) != 1 {
		t.Fatalf("totals %v", tot)
	}
	byBooking := map[string]map[string]any{}
	for _, r := range rows {
		byBooking[id(map[string]any{"id": r.(map[string]any)["booking_id"]})] = r.(map[string]any)
	}
	if r := byBooking[id(group[1].(map[string]any))]; r["outcome"] != "no_show" || r["cost"] != "session" || r["waived"] != true || r["waiver_reason"] != "Malade, certificat" {
		t.Fatalf("Marc's no-show: %v", r)
	}
	if r := byBooking[id(group[0].(map[string]any))]; r["client_confirmed_at"] == nil {
		t.Fatalf("Léa's confirmation is missing: %v", r)
	}
	if r := byBooking[id(second[0].(map[string]any))]; r["outcome"] != "coach_cancelled" || r["cost"] != "none" {
		t.Fatalf("the coach's cancellation: %v", r)
	}
	if _, ok := byBooking[id(november[0].(map[string]any))]; ok {
		t.Fatal("00:30 on 1 November in Paris is not October")
	}
	if r := a.must(200, "GET", "/v1/reports/attendance?month=2026-10&client_id="+lea, key, nil); len(r["data"].([]any)) != 3 {
		t.Fatalf("Léa's October: %v", r["data"])
	}
	// Pages follow each other without a gap.
	p1 := a.must(200, "GET", "/v1/reports/attendance?month=2026-10&limit=4", key, nil)
	p2 := a.must(200, "GET", "/v1/reports/attendance?month=2026-10&limit=4&cursor="+p1["next_cursor"].(string), key, nil)
	if len(p1["data"].([]any)) != 4 || len(p2["data"].([]any)) != 2 {
		t.Fatalf("pages of 4: %d then %d", len(p1["data"].([]any)), len(p2["data"].([]any)))
	}
	// The CSV: BOM, CRLF, accents intact, a name that looks like a formula defused.
	r := a.do("GET", "/v1/reports/attendance?month=2026-10&format=csv&lang=fr", key, nil)
	if r.Status != 200 || !bytes.HasPrefix(r.Body, []byte("\ufeff")) || !bytes.Contains(r.Body, []byte("\r\n")) ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %q %.100q", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\ufeff")))).ReadAll()
	if err != nil || len(recs) != 7 || recs[0][0] != "Date" || recs[0][3] != "Séance" {
		t.Fatalf("CSV records: %v %v", err, recs)
	}
	if !strings.Contains(string(r.Body), "Léa Dupré") || !strings.Contains(string(r.Body), "'=Marc") {
		t.Fatalf("CSV text: %s", r.Body)
	}
	// A line by its booking: the date and time in Paris, the words of its
	// outcome and cost, the waiver.
	lines := map[string][]string{}
	for _, rec := range recs[1:] {
		lines[rec[len(rec)-1]] = rec
	}
	if l := lines[id(edge[0].(map[string]any))]; len(l) != 13 || l[0] != "2026-10-31" || l[1] != "23:30" ||
		l[5] != "présent" || l[6] != "une séance" || l[9] != "" {
		t.Fatalf("the 23:30 session of 31 October in the CSV: %q", l)
	}
	if l := lines[id(group[1].(map[string]any))]; len(l) != 13 || l[5] != "absent" || l[6] != "une séance" ||
		l[9] != "oui" || l[10] != "Malade, certificat" {
		t.Fatalf("Marc's waived no-show in the CSV: %q", l)
	}

	// 2. Revenue: money received and earned, twelve months to November.
	rev := a.must(200, "GET", "/v1/reports/revenue", key, nil)
	months := rev["months"].([]any)
	if len(months) != 12 {
		t.Fatalf("%d months", len(months))
	}
	oct, nov := months[10].(map[string]any), months[11].(map[string]any)
	if oct["month"] != "2026-10" {
		t.Fatalf("month 11 is %v", oct["month"])
	}
	received := a.sum(`SELECT sum(amount) FROM payments WHERE coach_id = $1 AND occurred_at >= $2 AND occurred_at < $3
		AND ((kind = 'charge' AND status = 'succeeded') OR kind = 'manual')`, coachID, octFrom, octTo)
	refunded := a.sum(`SELECT sum(amount) FROM payments WHERE coach_id = $1 AND kind = 'refund' AND occurred_at >= $2 AND occurred_at < $3`,
		coachID, octFrom, octTo)
	if jnum(oct["received"]) != received || received != 45000+45000+31000+15000 || jnum(oct["refunded"]) != refunded ||
		refunded != 15000 || jnum(oct["net"]) != received-refunded {
		t.Fatalf("October received %v refunded %v; rows say %d and %d", oct["received"], oct["refunded"], received, refunded)
	}
	by := oct["received_by_method"].(map[string]any)
	if jnum(by["cash"]) != 45000+31000 || jnum(by["bank_transfer"]) != 45000 || jnum(by["card"]) != 15000 {
		t.Fatalf("by method: %v", by)
	}
	// Earned on session packs: each session used is worth price/10; the
	// waived no-show gave its session back. From the ledger: Léa used 2
	// (attended, late cancellation), Marc 1 in October (the 23:30 one),
	// 1 in November.
	usedOct := a.sum(`SELECT -sum(l.delta) FROM ledger_entries l JOIN packs p ON p.id = l.pack_id
		WHERE l.coach_id = $1 AND p.kind = 'sessions' AND l.kind IN ('attended', 'no_show', 'late_cancel', 'waiver')
		AND l.created_at >= $2 AND l.created_at < $3`, coachID, octFrom, octTo)
	if jnum(oct["earned_sessions"]) != usedOct*4500 || usedOct != 3 {
		t.Fatalf("earned on sessions in October %v; the ledger used %d sessions", oct["earned_sessions"], usedOct)
	}
	if jnum(nov["earned_sessions"]) != 4500 {
		t.Fatalf("earned on sessions in November %v", nov["earned_sessions"])
	}
	// Zoé's month runs 1 October 10:00 to 1 November 10:00: 31 days, all
	// earned by the end of October.
	if jnum(oct["earned_period"]) != 31000 || jnum(nov["earned_period"]) != 0 {
		t.Fatalf("period earned: Oct %v Nov %v", oct["earned_period"], nov["earned_period"])
	}
	svg := a.do("GET", "/v1/reports/revenue?format=svg&lang=es", key, nil)
	if svg.Status != 200 || !strings.HasPrefix(svg.Header.Get("Content-Type"), "image/svg+xml") ||
		!bytes.Contains(svg.Body, []byte("<svg")) || !bytes.Contains(svg.Body, []byte("octubre de 2026")) || bytes.Contains(svg.Body, []byte("<script")) {
		t.Fatalf("SVG: %d %.300s", svg.Status, svg.Body)
	}

	// 3. Owed to clients: unused sessions at the price each client paid.
	owed := a.must(200, "GET", "/v1/reports/owed", key, nil)
	left := a.sum(`SELECT sum(sessions_remaining) FROM packs WHERE coach_id = $1 AND kind = 'sessions' AND status IN ('active', 'overdue')`, coachID)
	total := owed["total"].(map[string]any)
	if jnum(total["sessions"]) != left || left != 8+8+10 || jnum(total["value"]) != left*4500 {
		t.Fatalf("owed %v; packs hold %d sessions", total, left)
	}
	if len(owed["clients"].([]any)) != 3 {
		t.Fatalf("owed clients: %v", owed["clients"])
	}

	// 4. Concentration: net paid per client over twelve months.
	conc := a.must(200, "GET", "/v1/reports/concentration", key, nil)
	shares := conc["clients"].([]any)
	if jnum(conc["total"]) != received-refunded || len(shares) != 3 {
		t.Fatalf("concentration total %v (rows %d): %v", conc["total"], received-refunded, shares)
	}
	first := shares[0].(map[string]any)
	if jnum(first["amount"]) != 45000 || first["flagged"] != true || jnum(conc["flagged"]) != 3 {
		t.Fatalf("largest share: %v", conc)
	}

	// 5. Reliability, with the coach's threshold.
	a.must(200, "PATCH", "/v1/reports/settings", key, map[string]any{"reliability_threshold": 1})
	if r := a.do("PATCH", "/v1/reports/settings", key, map[string]any{"reliability_threshold": 0}); r.Status != 400 {
		t.Fatalf("threshold 0: %d", r.Status)
	}
	rel := a.must(200, "GET", "/v1/reports/reliability?from=2026-10&to=2026-11&lang=en", key, nil)
	byName := map[string]map[string]any{}
	for _, c := range rel["clients"].([]any) {
		byName[c.(map[string]any)["name"].(string)] = c.(map[string]any)
	}
	failed := a.count(`SELECT count(*) FROM payments WHERE coach_id = $1 AND kind = 'charge' AND status = 'failed'`, coachID)
	if l := byName["Léa Dupré"]; jnum(l["late_cancellations"]) != 1 || l["flagged"] != true ||
		l["summary"] != "Léa Dupré: 1 late cancellation, 0 no-shows, 0 failed payments and 0 late payments in this period. That reaches your threshold of 1 incident." {
		t.Fatalf("Léa: %v", l)
	}
	if m := byName["=Marc"]; jnum(m["no_shows"]) != 1 || jnum(m["waived_charges"]) != 1 {
		t.Fatalf("Marc: %v", m)
	}
	if an := byName["Ana"]; jnum(an["failed_payments"]) != int64(failed) || failed != 1 {
		t.Fatalf("Ana: %v, %d failed payment rows", an, failed)
	}
	fr := a.must(200, "GET", "/v1/reports/reliability?from=2026-10&to=2026-11", key, nil) // the coach's language
	for _, c := range fr["clients"].([]any) {
		if s := c.(map[string]any)["summary"].(string); c.(map[string]any)["name"] == "Léa Dupré" &&
			s != "Léa Dupré : 1 annulation tardive, 0 absence, 0 paiement échoué et 0 paiement en retard sur la période. Cela atteint votre seuil de 1 incident." {
			t.Fatalf("in French: %s", s)
		}
	}

	// 6. The coach's cancellations, and Léa cancelling right after one.
	cc := a.must(200, "GET", "/v1/reports/coach-cancellations?from=2026-10&to=2026-10", key, nil)
	cm := cc["months"].([]any)[0].(map[string]any)
	if jnum(cm["coach_cancelled"]) != 1 || jnum(cm["bookings"]) != 6 {
		t.Fatalf("coach cancellations: %v", cc)
	}
	after := cc["after_coach_cancel"].(map[string]any)
	if jnum(after["next_bookings"]) != 1 || jnum(after["cancelled_next"]) != 1 || after["rate_after_coach_cancel"] != 1.0 {
		t.Fatalf("after the coach cancelled: %v", after)
	}

	// 7. Payments due: Ana's failed second debit, her third within 30 days.
	due := a.must(200, "GET", "/v1/reports/payments-due", key, nil)
	if len(due["failed"].([]any)) != 1 || len(due["upcoming"].([]any)) != 1 || jnum(due["totals"].(map[string]any)["failed"]) != 15000 {
		t.Fatalf("payments due: %v", due)
	}
	held := a.sum(`SELECT sum(excess_amount) FROM anomalies WHERE coach_id = $1 AND state = 'open'`, coachID)
	if jnum(due["anomalies"].(map[string]any)["held"]) != held {
		t.Fatalf("held %v, anomalies hold %d", due["anomalies"], held)
	}

	// 8. The coach's pages say the same, in French, behind the web session.
	cookie := "carnet_session=" + coachSession(t, a, key)
	show := func(path string, want ...string) {
		t.Helper()
		r := a.do("GET", path, "", nil, "Cookie", cookie)
		body := html.UnescapeString(string(r.Body))
		for _, w := range want {
			if r.Status != 200 || !strings.Contains(body, w) {
				t.Errorf("%s: %d, no %q in\n%s", path, r.Status, w, body)
			}
		}
	}
	livePacks := a.count(`SELECT count(*) FROM packs WHERE coach_id = $1 AND status IN ('active', 'overdue')
		AND valid_until > $2 AND (kind = 'period' OR sessions_remaining > 0)`, coachID, a.clock())
	show("/app/reports/owed", fmt.Sprintf("%s (%d séances, %d packs)", i18n.Money(left*4500, "EUR", "fr"), left, livePacks),
		"Léa Dupré", "Ana", "=Marc")
	show("/app/reports/concentration", i18n.Percent(45000/float64(received-refunded), "fr"),
		"3 clients dépassent 10 % de votre chiffre d'affaires.", "⚠ signalé", "Encaissé net sur douze mois : "+i18n.Money(received-refunded, "EUR", "fr")+", de 3 clients.")
	show("/app/reports/reliability?from=2026-10&to=2026-11", "Votre seuil : 1 incident sur la période.",
		"Léa Dupré : 1 annulation tardive, 0 absence, 0 paiement échoué et 0 paiement en retard sur la période. Cela atteint votre seuil de 1 incident.")
	show("/app/reports/coach-cancellations?from=2026-10&to=2026-10",
		"vous avez annulé 1 réservation sur 6 (16,7 %)",
		"vos clients ont annulé 1 sur 1 séance suivante (100,0 %), contre "+i18n.Percent(after["usual_rate"].(float64), "fr")+" d'habitude")
	heldWords := "Aucune anomalie ouverte ne retient d'argent."
	if held > 0 {
		heldWords = i18n.Money(held, "EUR", "fr")
	}
	show("/app/reports/payments-due", "Échouées", "1 mensualité, 150,00 € en tout.", heldWords)
	show("/app/reports/incidents", "Rien sur cette période.")
	// A bad month is a sentence, and a 400.
	if r := a.do("GET", "/app/reports/reliability?from=2026-13", "", nil, "Cookie", cookie); r.Status != 400 ||
		!strings.Contains(html.UnescapeString(string(r.Body)), "Vérifiez ce champ : Du mois.") {
		t.Fatalf("month 13 on the page: %d %s", r.Status, r.Body)
	}
	// The threshold is set in the settings; a bad one changes nothing.
	form := func(n string) reply {
		return a.do("POST", "/app/settings/reports", "", url.Values{"form": {"reports"}, "reliability_threshold": {n}}.Encode(),
			"Content-Type", "application/x-www-form-urlencoded", "Cookie", cookie, "Origin", a.base)
	}
	if r := form("zéro"); r.Status != 400 || !strings.Contains(string(r.Body), `value="zéro"`) ||
		a.count(`SELECT reliability_threshold FROM report_settings WHERE coach_id = $1`, coachID) != 1 {
		t.Fatalf("a bad threshold: %d %s", r.Status, r.Body)
	}
	if r := form("4"); r.Status != 200 || // redirected back to the settings, which show it
		!strings.Contains(string(r.Body), `id="reliability_threshold" name="reliability_threshold" type="number" min="1" max="1000" inputmode="numeric" value="4"`) || a.count(`SELECT reliability_threshold FROM report_settings WHERE coach_id = $1`, coachID) != 4 {
		t.Fatalf("threshold 4: %d %s", r.Status, r.Body)
	}
	show("/app/reports/reliability?from=2026-10&to=2026-11", "Votre seuil : 4 incidents sur la période.")

	// Folding the coach's monthly figures changes nothing a coach reads.
	unfolded := [2]string{jsonString(a.must(200, "GET", "/v1/reports/revenue", key, nil)),
		jsonString(a.must(200, "GET", "/v1/reports/coach-cancellations?from=2026-10&to=2026-11", key, nil))}
	if a.count(`SELECT count(*) FROM report_coach_month_deltas WHERE coach_id = $1`, coachID) == 0 {
		t.Fatal("no deltas to fold")
	}
	if err := reports.Fold(context.Background(), a.m.DB); err != nil {
		t.Fatal(err)
	}
	folded := [2]string{jsonString(a.must(200, "GET", "/v1/reports/revenue", key, nil)),
		jsonString(a.must(200, "GET", "/v1/reports/coach-cancellations?from=2026-10&to=2026-11", key, nil))}
	if unfolded != folded || a.count(`SELECT count(*) FROM report_coach_month_deltas`) != 0 {
		t.Fatalf("folding changed the reports:\n%s\n%s", unfolded, folded)
	}

	// Every report and format answers; none shows another coach's rows.
	for _, path := range []string{"attendance", "revenue", "owed", "concentration", "reliability", "coach-cancellations", "payments-due"} {
		for _, f := range []string{"json", "csv"} {
			if r := a.do("GET", "/v1/reports/"+path+"?format="+f, key, nil); r.Status != 200 {
				t.Errorf("%s as %s: %d %s", path, f, r.Status, r.Body)
			}
			if r := a.do("GET", "/v1/reports/"+path+"?format="+f, other, nil); r.Status != 200 || bytes.Contains(r.Body, []byte("Léa")) {
				t.Errorf("another coach's %s as %s: %d %s", path, f, r.Status, r.Body)
			}
		}
	}
	if r := a.do("GET", "/v1/reports/owed?format=svg", key, nil); r.Status != 400 || r.code(t) != "invalid" {
		t.Fatalf("owed as svg: %d", r.Status)
	}
	if r := a.do("GET", "/v1/reports/attendance?month=2026-13", key, nil); r.Status != 400 {
		t.Fatalf("month 13: %d", r.Status)
	}
}

// The incident of the issue: a group session goes wrong, each of the nine
// participants gets a free 30-minute consultation worth 82 € and one more
// session; one of them holds only a period pack. The incident report adds
// up the cost from the ledger.
func TestIncidentCost(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("incident@example.com")
	ten := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "10", "kind": "sessions", "sessions": 10, "price_amount": 45000})
	month := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "Mois", "kind": "period", "months": 1, "price_amount": 30000})
	var ids []any
	for i := range 9 {
		c := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "P" + string(rune('1'+i)), "email": "p" + string(rune('1'+i)) + "@example.com"})
		offer := ten
		if i == 8 {
			offer = month
		}
		a.must(201, "POST", "/v1/clients/"+id(c)+"/packs", key, map[string]any{"offer_id": offer["id"], "method": "cash"})
		ids = append(ids, c["id"])
	}
	s := a.must(201, "POST", "/v1/sessions", key, map[string]any{"title": "Groupe", "starts_at": a.clock().Add(time.Hour),
		"duration_minutes": 45, "client_ids": ids})
	if r := a.do("POST", "/v1/goodwill", key, map[string]any{"client_ids": ids, "sessions": 1, "note": "x"}); r.Status != 400 || !strings.Contains(string(r.Body), "session_id") {
		t.Fatalf("goodwill linked to nothing: %d %s", r.Status, r.Body)
	}
	got := a.must(201, "POST", "/v1/goodwill", key, map[string]any{"client_ids": ids, "session_id": s["id"], "item": "consultation",
		"minutes": 30, "value_amount": 8200, "note": "Coupure de courant pendant la séance"})
	if len(got["data"].([]any)) != 9 {
		t.Fatalf("consultations: %v", got)
	}
	got = a.must(201, "POST", "/v1/goodwill", key, map[string]any{"client_ids": ids, "session_id": s["id"], "sessions": 1,
		"note": "Et une séance en plus"})
	last := got["data"].([]any)[8].(map[string]any)
	if last["pack_id"] == nil || last["sessions"] != 1.0 {
		t.Fatalf("the period-pack client's credit: %v", last)
	}
	// Her own credit: a free sessions pack beside her period pack.
	bal := a.must(200, "GET", "/v1/clients/"+id(map[string]any{"id": ids[8]})+"/balance", key, nil)
	if bal["sessions_remaining"] != 1.0 {
		t.Fatalf("her balance: %v", bal)
	}

	inc := a.must(200, "GET", "/v1/reports/incidents", key, nil)
	list := inc["incidents"].([]any)
	if len(list) != 1 {
		t.Fatalf("incidents: %v", inc)
	}
	one := list[0].(map[string]any)
	value := a.sum(`SELECT sum(l.value_amount) FROM ledger_entries l JOIN goodwill_grants g ON g.id = l.goodwill_grant_id
		WHERE g.session_id = $1`, jnum(s["id"]))
	if jnum(one["value_given"]) != value || value != 9*8200 || jnum(one["minutes_given"]) != 9*30+9*45 ||
		jnum(one["sessions_given"]) != 9 || one["session_title"] != "Groupe" || jnum(one["clients"]) != 9 {
		t.Fatalf("the incident's cost: %v (ledger value %d)", one, value)
	}
	if r := a.do("GET", "/v1/reports/incidents?format=csv", key, nil); r.Status != 200 || !strings.Contains(string(r.Body), "Coupure de courant") {
		t.Fatalf("incidents CSV: %d %s", r.Status, r.Body)
	}
	// The coach's page: the session, its cost in value and time.
	r := a.do("GET", "/app/reports/incidents", "", nil, "Cookie", "carnet_session="+coachSession(t, a, key))
	body := html.UnescapeString(string(r.Body))
	for _, w := range []string{"Groupe", "Coupure de courant pendant la séance", "9 clients",
		"Sur la période : " + i18n.Money(value, "EUR", "fr") + " offerts et 675 minutes de votre temps."} {
		if r.Status != 200 || !strings.Contains(body, w) {
			t.Errorf("incidents page: %d, no %q in\n%s", r.Status, w, body)
		}
	}
	// The free pack of her own keeps the ledger true.
	if out, err := runCmd(t, a.m.DatabaseURL, "verify"); err != nil {
		t.Fatalf("verify after the goodwill: %v\n%s", err, out)
	}
}

// The coach's pages show the same figures, charts and downloads, behind the
// web session rather than the API key.
func TestReportPages(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("pages@example.com")
	ten := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "10", "kind": "sessions", "sessions": 10, "price_amount": 45000})
	c := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Zoé Brun", "email": "zoe@example.com"})
	a.must(201, "POST", "/v1/clients/"+id(c)+"/packs", key, map[string]any{"offer_id": ten["id"], "method": "cash"})
	a.attend(key, c["id"])
	_, token, err := auth.SignInWithKey(context.Background(), a.m.DB, key, "127.0.0.1", a.clock())
	if err != nil {
		t.Fatal(err)
	}
	page := func(path string) reply {
		t.Helper()
		req, _ := http.NewRequest("GET", a.base+path, nil)
		req.AddCookie(&http.Cookie{Name: "carnet_session", Value: token})
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return reply{Status: res.StatusCode, Body: b, Header: res.Header}
	}
	month := a.clock().In(paris(t)).Format("2006-01")
	r := page("/app/reports")
	body := string(r.Body)
	// The coach reads French by default: 450,00 € received, 45,00 € earned.
	if r.Status != 200 || !strings.Contains(body, "Encaissé et acquis, par mois") || !strings.Contains(body, "450,00 €") ||
		!strings.Contains(body, "45,00 €") || !strings.Contains(body, `/app/reports/data/revenue?format=svg&amp;month=`+month) {
		t.Fatalf("reports page: %d %s", r.Status, body)
	}
	if svg := page("/app/reports/data/revenue?format=svg"); svg.Status != 200 || !strings.HasPrefix(svg.Header.Get("Content-Type"), "image/svg+xml") {
		t.Fatalf("chart behind the session: %d %s", svg.Status, svg.Header)
	}
	if csv := page("/app/reports/data/owed?format=csv"); csv.Status != 200 || !strings.Contains(string(csv.Body), "Zoé Brun") {
		t.Fatalf("download behind the session: %d %s", csv.Status, csv.Body)
	}
	// One paying client is one, in the singular.
	if conc := html.UnescapeString(string(page("/app/reports/concentration").Body)); !strings.Contains(conc, "Encaissé net sur douze mois : 450,00 €, de 1 client.") {
		t.Fatalf("concentration of one client: %s", conc)
	}
	sheet := page("/app/reports/attendance?month=" + month)
	if sheet.Status != 200 || !strings.Contains(string(sheet.Body), "Zoé Brun") || !strings.Contains(string(sheet.Body), "présent") ||
		!strings.Contains(string(sheet.Body), "une séance") {
		t.Fatalf("attendance sheet: %d %s", sheet.Status, sheet.Body)
	}
	// Without a session, the sign-in page.
	if r := a.do("GET", "/app/reports", "", nil); r.Status != 200 || !strings.Contains(string(r.Body), "signin") {
		t.Fatalf("reports without a session: %d", r.Status)
	}
}

// A report longer than a page lists its first lines, says so, and still
// counts and adds up every line: 51 paying clients, 51 installments due.
func TestReportPagesShowTheFirstLinesOfLongLists(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("long-reports@example.com")
	ten := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "10", "kind": "sessions", "sessions": 10, "price_amount": 45000})
	const n = 51 // one line more than a page shows
	for i := range n {
		c := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": fmt.Sprintf("Client %02d", i), "email": fmt.Sprintf("c%02d@example.com", i)})
		a.must(201, "POST", "/v1/clients/"+id(c)+"/packs", key, map[string]any{"offer_id": ten["id"], "method": "cash"})
	}
	coachID := a.sum(`SELECT id FROM coaches WHERE email = 'long-reports@example.com'`)
	// A second installment due next week on each pack (written here: packs
	// paid by hand have one installment, and a checkout per client would
	// only slow the test down).
	if _, err := a.m.DB.Exec(`INSERT INTO installments (coach_id, pack_id, seq, due_at, amount, currency)
		SELECT coach_id, id, 2, $2::timestamptz + interval '7 days', 15000, 'EUR' FROM packs WHERE coach_id = $1`, coachID, a.clock()); err != nil {
		t.Fatal(err)
	}
	cookie := "carnet_session=" + coachSession(t, a, key)
	page := func(path string) string {
		t.Helper()
		r := a.do("GET", path, "", nil, "Cookie", cookie)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
		return html.UnescapeString(string(r.Body))
	}
	rows := func(body, prefix string) int { return strings.Count(body, `<tr id="`+prefix) }
	const firstOnly = "Les 50 premiers seulement ; le téléchargement les contient tous."

	received := a.sum(`SELECT sum(amount) FROM payments WHERE coach_id = $1 AND kind = 'manual'`, coachID)
	paying := a.count(`SELECT count(DISTINCT client_id) FROM payments WHERE coach_id = $1 AND kind = 'manual'`, coachID)
	body := page("/app/reports/concentration")
	if want := fmt.Sprintf("Encaissé net sur douze mois : %s, de %d clients.", i18n.Money(received, "EUR", "fr"), paying); paying != n ||
		!strings.Contains(body, want) || !strings.Contains(body, firstOnly) || rows(body, "share-") != 50 {
		t.Errorf("concentration: want %q, %q and 50 lines (%d shown) in\n%s", want, firstOnly, rows(body, "share-"), body)
	}

	due := a.count(`SELECT count(*) FROM installments WHERE coach_id = $1 AND status = 'due' AND due_at > $2`, coachID, a.clock())
	dueSum := a.sum(`SELECT sum(amount) FROM installments WHERE coach_id = $1 AND status = 'due' AND due_at > $2`, coachID, a.clock())
	body = page("/app/reports/payments-due")
	if want := fmt.Sprintf("%d mensualités, %s en tout.", due, i18n.Money(dueSum, "EUR", "fr")); due != n ||
		!strings.Contains(body, want) || !strings.Contains(body, firstOnly) || rows(body, "installment-") != 50 {
		t.Errorf("payments due: want %q, %q and 50 lines (%d shown) in\n%s", want, firstOnly, rows(body, "installment-"), body)
	}
	if csv := page("/app/reports/data/concentration?format=csv"); strings.Count(csv, "Client ") != n {
		t.Errorf("the download lists %d clients of %d:\n%s", strings.Count(csv, "Client "), n, csv)
	}
}
