package reports

import (
	"bytes"
	"encoding/csv"
	"github.com/lib/pq"
	"strconv"
	"strings"
	"testing"
	"time"

	"carnet/internal/testdb"
	"carnet/packs"
)

var paris, _ = time.LoadLocation("Europe/Paris")

func TestParseMonthAndMonths(t *testing.T) {
	now := time.Date(2026, 10, 31, 23, 30, 0, 0, time.UTC) // already 1 November in Paris
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"", time.Date(2026, 11, 1, 0, 0, 0, 0, paris), false},
		{"2026-02", time.Date(2026, 2, 1, 0, 0, 0, 0, paris), false},
		{"2026-13", time.Time{}, true},
		{"26-1", time.Time{}, true},
		{"1999-12", time.Time{}, true},
	} {
		got, err := ParseMonth(tc.in, paris, now)
		if (err != nil) != tc.bad || !got.Equal(tc.want) {
			t.Errorf("ParseMonth(%q) = %v, %v", tc.in, got, err)
		}
	}
	ms := Months(time.Date(2026, 3, 15, 0, 0, 0, 0, paris), 12, paris)
	if len(ms) != 12 || ms[0].Format("2006-01") != "2025-04" || ms[11].Format("2006-01") != "2026-03" {
		t.Fatalf("Months: %v", ms)
	}
}

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		from, to, want string
		bad            bool
	}{
		{"", "", "2025-12..2026-12", false},
		{"2026-01", "2026-06", "2026-01..2026-07", false},
		{"2026-06", "2026-06", "2026-06..2026-07", false},
		{"2026-07", "2026-06", "", true},
		{"2020-01", "2026-06", "", true}, // more than 36 months
		{"x", "", "", true},
	} {
		p, err := ParsePeriod(tc.from, tc.to, paris, now)
		got := ""
		if err == nil {
			got = p.From.Format("2006-01") + ".." + p.To.Format("2006-01")
		}
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParsePeriod(%q, %q) = %q, %v", tc.from, tc.to, got, err)
		}
	}
}

func TestConcentrate(t *testing.T) {
	got, total := Concentrate([]Share{{ClientID: 1, Amount: 500}, {ClientID: 2, Amount: 9000}, {ClientID: 3, Amount: 500},
		{ClientID: 4, Amount: 0}, {ClientID: 5, Amount: -100}})
	if total != 10000 || len(got) != 3 || got[0].ClientID != 2 || !got[0].Flagged || got[1].ClientID != 1 || got[1].Flagged ||
		got[0].Share != 0.9 {
		t.Fatalf("%d %+v", total, got)
	}
	// Exactly 10 % is not above 10 %.
	got, _ = Concentrate([]Share{{ClientID: 1, Amount: 100}, {ClientID: 2, Amount: 900}})
	if got[1].Flagged || !got[0].Flagged {
		t.Fatalf("%+v", got)
	}
	if got, total := Concentrate(nil); len(got) != 0 || total != 0 {
		t.Fatalf("empty: %v %d", got, total)
	}
}

func TestJudge(t *testing.T) {
	rows := Judge([]Reliability{
		{ClientID: 1, LateCancelled: 1, Waived: 1},
		{ClientID: 2, NoShows: 2, FailedPayments: 1},
		{ClientID: 3, LatePayments: 3},
	}, 3)
	if rows[0].ClientID != 2 || rows[0].Score != 3 || !rows[0].Flagged || rows[1].ClientID != 3 || !rows[1].Flagged ||
		rows[2].Flagged || rows[2].Score != 1 {
		t.Fatalf("%+v", rows)
	}
}

func TestBookingCostAndRate(t *testing.T) {
	if BookingCost(false, 0) != CostNone || BookingCost(true, 0) != CostSession || BookingCost(true, 2000) != CostFee {
		t.Fatal("booking cost")
	}
	if Rate(1, 0) != 0 || Rate(1, 4) != 0.25 {
		t.Fatal("rate")
	}
}

func TestCSVIsRFC4180WithABOM(t *testing.T) {
	b := CSV([][]string{{"Client", "Note"}, {"Zoé", `a "quoted", text`}, {Text("=SUM(A1)"), Text("-2")}, {"Léa", "line\nbreak"}})
	if !bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		t.Fatal("no BOM")
	}
	want := "Client,Note\r\nZoé,\"a \"\"quoted\"\", text\"\r\n'=SUM(A1),'-2\r\nLéa,\"line\r\nbreak\"\r\n" // a break inside a field is CRLF too
	if got := string(b[3:]); got != want {
		t.Fatalf("got %q", got)
	}
	recs, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil || recs[3][1] != "line\nbreak" {
		t.Fatalf("%v %v", err, recs)
	}
}

func TestSVGChart(t *testing.T) {
	svg := string(Chart{Title: "Revenue <2026>", Labels: []string{"oct.", "nov."},
		Series: []Series{{Name: "Net", Values: []int64{1000, -500}}, {Name: "Earned", Values: []int64{800, 200}}},
		Format: func(v int64) string { return "€" + strconv.FormatInt(v, 10) }}.SVG())
	if !strings.HasPrefix(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"") || !strings.HasSuffix(svg, "</svg>") ||
		strings.Count(svg, "<rect x=") != 4+2 || !strings.Contains(svg, "Revenue &lt;2026&gt;") || strings.Contains(svg, "<script") {
		t.Fatalf("%s", svg)
	}
	// The axis reaches down to the negative month.
	if !strings.Contains(svg, ">€-500<") {
		t.Fatalf("axis: %s", svg)
	}
	if empty := string((Chart{Title: "none"}).SVG()); !strings.HasSuffix(empty, "</svg>") {
		t.Fatalf("empty chart: %s", empty)
	}
}

func TestConcentrationChartLabels(t *testing.T) {
	shares, _ := Concentrate([]Share{{ClientID: 1, Name: "Zoé", Amount: 2000},
		{ClientID: 2, Name: "Maximilienne de la Tour-Sainte-Croix", Amount: 1000}})
	ch := ConcentrationChart(ConcentrationReport{Shares: shares}, "EUR", "fr")
	// The share in the reader's way of writing it, a flag on each above
	// 10 %, a long name cut but never its share.
	if len(ch.Labels) != 2 || ch.Labels[0] != "⚠ Zoé 66,7 %" || ch.Labels[1] != "⚠ Maximilienne… 33,3 %" {
		t.Fatalf("labels %q", ch.Labels)
	}
	if en := ConcentrationChart(ConcentrationReport{Shares: shares}, "EUR", "en"); en.Labels[0] != "⚠ Zoé 66.7%" {
		t.Fatalf("en label %q", en.Labels[0])
	}
	svg := string(ch.SVG())
	if !strings.Contains(svg, "⚠ Zoé 66,7 %") || !strings.Contains(svg, "Maximilienne… 33,3 %") {
		t.Fatalf("%s", svg)
	}
}

// The schema's report_earned (run on every ledger entry) and EarnedSessions
// (run on packs) are one rule: they must agree.
func TestEarnedRuleMatchesTheSchema(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	for _, price := range []int64{0, 1, 9999, 45000, 123457} {
		for credited := 0; credited <= 12; credited += 3 {
			for left := -1; left <= credited+2; left++ {
				var got int64
				if err := d.Get(&got, `SELECT report_earned($1, $2, $3)`, price, credited, left); err != nil {
					t.Fatal(err)
				}
				if want := packs.EarnedSessions(price, credited, left); got != want {
					t.Fatalf("report_earned(%d, %d, %d) = %d, EarnedSessions %d", price, credited, left, got, want)
				}
			}
		}
	}
}

func TestIncidentsGroupAndAddUp(t *testing.T) {
	s1, s2 := int64(7), int64(8)
	title := "Groupe"
	nine := pq.Int64Array{1, 2, 3, 4, 5, 6, 7, 8, 9}
	got := Incidents([]GrantRow{
		{ID: 1, SessionID: &s1, SessionTitle: &title, Item: "consultation", Minutes: 30, Value: 8200, Clients: 9, ClientIDs: nine, ValueGiven: 73800},
		{ID: 2, Incident: "Coupure", Item: "sessions", Sessions: 1, Minutes: 60, Clients: 2, ClientIDs: pq.Int64Array{20, 21}, ValueGiven: 0},
		{ID: 3, SessionID: &s1, Item: "sessions", Sessions: 1, Minutes: 45, Clients: 9, ClientIDs: nine},
		{ID: 4, SessionID: &s2, Item: "sessions", Sessions: 2, Minutes: 120, Clients: 1, ClientIDs: pq.Int64Array{3}, ValueGiven: 5000},
	})
	// The group's nine clients got two grants each: nine clients, not 18.
	if len(got) != 3 || got[0].SessionTitle != "Groupe" || len(got[0].Grants) != 2 || got[0].ValueGiven != 73800 ||
		got[0].MinutesGiven != 9*30+9*45 || got[0].SessionsGiven != 9 || got[0].Clients != 9 || got[1].Clients != 2 ||
		got[1].Incident != "Coupure" || got[1].MinutesGiven != 120 || got[2].SessionsGiven != 2 || got[2].Clients != 1 {
		t.Fatalf("%+v", got)
	}
	if len(Incidents(nil)) != 0 {
		t.Fatal("no grants, no incidents")
	}
}

func TestReportRules(t *testing.T) {
	now := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	// Payments due: a failed one stays failed whatever its date; a due one
	// past its date is overdue; the anomalies' money is added up.
	due := SortDue([]DueInstallment{
		{ID: 1, Status: "failed", DueAt: now.AddDate(0, 0, -3), Amount: 15000},
		{ID: 2, Status: "due", DueAt: now.Add(-time.Hour), Amount: 10000},
		{ID: 3, Status: "due", DueAt: now.AddDate(0, 0, 5), Amount: 9000},
		{ID: 4, Status: "due", DueAt: now.AddDate(0, 0, 20), Amount: 1000},
	}, []HeldAnomaly{{Excess: 300}, {Excess: 200}}, now)
	if len(due.Failed) != 1 || due.FailedSum != 15000 || len(due.Overdue) != 1 || due.Overdue[0].Status != "overdue" ||
		due.OverdueSum != 10000 || len(due.Upcoming) != 2 || due.UpcomingSum != 10000 || due.Held != 500 {
		t.Fatalf("%+v", due)
	}
	// The coach's cancellations: the period's rates from the sums, the
	// client who cancels most above their usual rate first.
	cc := Cancellations(Period{}, []CancellationMonth{{Bookings: 10, CoachCancelled: 1}, {Bookings: 30, CoachCancelled: 3}},
		[]AfterCoach{{ClientID: 1, AfterCoach: 2, CancelledAfter: 0, ClientBookings: 10, ClientCancelled: 1},
			{ClientID: 2, AfterCoach: 2, CancelledAfter: 2, ClientBookings: 10, ClientCancelled: 2}})
	if cc.Rate() != 0.1 || cc.Months[1].Rate != 0.1 || cc.Clients[0].ClientID != 2 || cc.Clients[0].RateAfter != 1 ||
		cc.RateAfter() != 0.5 || cc.UsualRate() != 0.15 {
		t.Fatalf("%+v", cc)
	}
	// Owed, by client: each client's packs together, what expires soon apart.
	owed := ByClient([]OwedPack{{ClientID: 1, Remaining: 3, Value: 300, Expiring: true}, {ClientID: 1, Remaining: 2, Value: 200},
		{ClientID: 2, Remaining: 1, Value: 100}})
	if len(owed) != 2 || owed[0].Sessions != 5 || owed[0].Value != 500 || owed[0].ExpiringValue != 300 || len(owed[0].Packs) != 2 ||
		owed[1].Value != 100 || len(ByClient(nil)) != 0 {
		t.Fatalf("%+v", owed)
	}
	// An incident report's totals are its incidents' sums.
	s := int64(7)
	inc := CostOf(Period{}, []GrantRow{{SessionID: &s, Sessions: 1, Minutes: 45, Clients: 2, ValueGiven: 100},
		{Incident: "Panne", Minutes: 30, Clients: 3, ValueGiven: 50}})
	if len(inc.Incidents) != 2 || inc.ValueGiven != 150 || inc.MinutesGiven != 2*45+3*30 || inc.SessionsGiven != 2 {
		t.Fatalf("%+v", inc)
	}
}
