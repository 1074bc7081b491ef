package packs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"carnet/internal/errs"
	"carnet/internal/i18n"
	"carnet/notify"
	"carnet/notify/notifytest"
)

// message returns the newest message of template to the client, rendered
// from the outbox as the dispatcher renders it.
func (w *world) message(clientID int64, template string) string {
	w.t.Helper()
	notifytest.Work(w.t, w.s.DB, &notify.Dispatcher{DB: w.s.DB, Now: w.clock})
	list, err := notify.List(context.Background(), w.s.DB, w.coach.ID, notify.Query{Limit: 100})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, n := range list {
		if n.ClientID != nil && *n.ClientID == clientID && n.Template == template {
			return n.Body
		}
	}
	w.t.Fatalf("no %s message to client %d", template, clientID)
	return ""
}

func (w *world) localeClient(name, locale string) Client {
	w.t.Helper()
	c := w.client(name)
	if _, err := w.s.UpdateClient(context.Background(), w.coach.ID, c.ID, ClientInput{Locale: &locale}); err != nil {
		w.t.Fatal(err)
	}
	return c
}

// Point 16 of issue 11: one goodwill session is spoken of in the singular,
// two in the plural, in every language.
func TestGoodwillMessageAgreesWithItsCount(t *testing.T) {
	t.Parallel()
	available := map[string][2]string{
		"fr": {"Elle est déjà disponible", "Elles sont déjà disponibles"},
		"es": {"Ya está disponible", "Ya están disponibles"},
		"en": {"It is available", "They are available"},
	}
	gift := map[string][2]string{"fr": {"séance offerte", "séances offertes"}, "es": {"sesión de regalo", "sesiones de regalo"},
		"en": {"free session", "free sessions"}}
	w := newWorld(t)
	for _, l := range i18n.Locales {
		for _, n := range []int{1, 2} {
			c := w.localeClient(l+string(rune('a'+n)), l)
			w.pack(c.ID, 5)
			if _, err := w.s.GrantGoodwill(context.Background(), w.coach, GoodwillInput{ClientIDs: []int64{c.ID}, Sessions: n,
				Incident: "séance du 3 annulée", Note: "séance du 3 annulée"}); err != nil {
				t.Fatal(err)
			}
			var given int64
			_ = w.s.DB.Get(&given, `SELECT delta FROM ledger_entries WHERE client_id = $1 AND kind = 'goodwill'`, c.ID)
			body := w.message(c.ID, notify.GoodwillGranted)
			form := 0
			if !i18n.One(l, given) {
				form = 1
			}
			if !strings.Contains(body, available[l][form]) || strings.Contains(body, available[l][1-form]) ||
				!strings.Contains(body, i18n.Plural(l, given, gift[l][0], gift[l][1])) {
				t.Errorf("(%s) %d goodwill sessions told as:\n%s", l, given, body)
			}
		}
	}
}

// Point 16 too: a period pack has no balance to run low; its purchase
// message promises only what will be sent, and states its weekly cap.
func TestPeriodPurchaseMessage(t *testing.T) {
	t.Parallel()
	lowPromise := map[string]string{"fr": "il vous restera", "es": "te quede", "en": "left and"}
	capWords := map[string][2]string{"fr": {"séance", "séances"}, "es": {"sesión", "sesiones"}, "en": {"session", "sessions"}}
	w := newWorld(t)
	months, capped, price := 2, 2, int64(20000)
	o, err := w.s.CreateOffer(context.Background(), w.coach, OfferInput{Name: "2 mois", Kind: KindPeriod, Months: &months,
		WeeklyCap: &capped, PriceAmount: &price})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range i18n.Locales {
		c := w.localeClient("p"+l, l)
		p, err := w.s.RecordManualPack(context.Background(), w.coach, c.ID, ManualPackInput{OfferID: o.ID, Method: "cash"})
		if err != nil {
			t.Fatal(err)
		}
		body := w.message(c.ID, notify.PackPurchased)
		loc, _ := time.LoadLocation(w.coach.Timezone)
		for _, want := range []string{i18n.Money(p.PriceAmount, p.Currency, l), i18n.Date(p.ValidUntil.In(loc), l),
			i18n.Plural(l, int64(*p.WeeklyCap), capWords[l][0], capWords[l][1])} {
			if !strings.Contains(body, want) {
				t.Errorf("(%s) the period pack's purchase message lacks %q:\n%s", l, want, body)
			}
		}
		if strings.Contains(body, lowPromise[l]) || strings.Contains(body, " 0 "+capWords[l][0]) || strings.Contains(body, " 0 "+capWords[l][1]) {
			t.Errorf("(%s) the period pack's purchase message speaks of sessions left:\n%s", l, body)
		}
	}
}

// Point 10 of issue 11: the preview a client reads before cancelling is in
// their language and states the fee the charter sets, and until when
// cancelling is free, in the coach's time zone.
func TestCancellationPreviewInTheClientsLanguage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	notice := 24
	if _, err := w.s.PublishCharter(context.Background(), w.coach, CharterInput{NoticeHours: &notice, LateCancelAction: ActionFee,
		LateCancelFee: 1500, NoShowAction: ActionDeduct}); err != nil {
		t.Fatal(err)
	}
	fee := map[string]string{"fr": "des frais de", "es": "un cargo de", "en": "a fee of"}
	free := map[string]string{"fr": "gratuitement", "es": "gratis", "en": "for free"}
	loc, _ := time.LoadLocation(w.coach.Timezone)
	for _, l := range i18n.Locales {
		c := w.localeClient("v"+l, l)
		w.pack(c.ID, 5)
		late := w.session(w.now.Add(2*time.Hour), c.ID).Bookings[0]
		early := w.session(w.now.Add(72*time.Hour), c.ID).Bookings[0]
		p, err := w.s.PreviewCancellation(context.Background(), w.coach.ID, c.ID, late.ID)
		if err != nil {
			t.Fatal(err)
		}
		until := p.FreeUntil.In(loc)
		for _, want := range []string{fee[l] + " " + i18n.Money(p.FeeAmount, p.Currency, l), i18n.Date(until, l), i18n.Clock(until, l)} {
			if p.FeeAmount != 1500 || !strings.Contains(p.Message, want) {
				t.Errorf("(%s) late preview (fee %d) lacks %q: %s", l, p.FeeAmount, want, p.Message)
			}
		}
		p, err = w.s.PreviewCancellation(context.Background(), w.coach.ID, c.ID, early.ID)
		if err != nil || p.Late || !strings.Contains(p.Message, free[l]) || !strings.Contains(p.Message, i18n.Date(p.FreeUntil.In(loc), l)) {
			t.Errorf("(%s) early preview: %+v %v", l, p, err)
		}
	}
}

// Point 11: past a period pack's weekly cap, the coach is told that the cap
// is reached (not "no usable pack"), with the counts the database holds.
func TestWeeklyCapIsTheReasonGiven(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	months, capped, price := 1, 1, int64(10000)
	o, err := w.s.CreateOffer(context.Background(), w.coach, OfferInput{Name: "1 mois", Kind: KindPeriod, Months: &months,
		WeeklyCap: &capped, PriceAmount: &price})
	if err != nil {
		t.Fatal(err)
	}
	c := w.client("capped")
	if _, err := w.s.RecordManualPack(context.Background(), w.coach, c.ID, ManualPackInput{OfferID: o.ID, Method: "cash"}); err != nil {
		t.Fatal(err)
	}
	w.setNow(w.now.Add(time.Hour)) // the pack is active before the sessions start
	first := w.session(w.now.Add(24*time.Hour), c.ID).Bookings[0]
	second := w.session(w.now.Add(26*time.Hour), c.ID).Bookings[0]
	w.setNow(w.now.Add(30 * time.Hour))
	if _, err := w.outcome(first.ID, Attended); err != nil {
		t.Fatal(err)
	}
	_, err = w.outcome(second.ID, Attended)
	var counted int
	_ = w.s.DB.Get(&counted, `SELECT count(*) FROM ledger_entries WHERE client_id = $1 AND kind = 'attended'`, c.ID)
	if errs.CodeOf(err) != errs.InsufficientBalance || !strings.Contains(err.Error(), "weekly cap") ||
		!strings.Contains(err.Error(), fmt.Sprintf("%d of %d sessions", counted, capped)) {
		t.Fatalf("second session of the week: %v (counted %d)", err, counted)
	}
}

// Point 12: a cancellation cannot be announced before the booking existed.
func TestCancellationBeforeTheBookingIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client("backdated")
	p := w.pack(c.ID, 5)
	b := w.session(w.now.Add(3*time.Hour), c.ID).Bookings[0]
	long := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := w.s.RecordOutcome(context.Background(), w.coach.ID, b.ID, OutcomeInput{Outcome: Cancelled, AnnouncedAt: &long})
	if e := (*errs.Error)(nil); !errors.As(err, &e) || e.Code != errs.Invalid || e.Field != "announced_at" {
		t.Fatalf("backdated cancellation: %v", err)
	}
	var outcome *string
	_ = w.s.DB.Get(&outcome, `SELECT outcome FROM bookings WHERE id = $1`, b.ID)
	if outcome != nil || w.remaining(p.ID) != 5 {
		t.Fatalf("after the refusal: outcome %v, %d left", outcome, w.remaining(p.ID))
	}
	// Announced now, it is late and counted.
	if bk, err := w.outcome(b.ID, Cancelled); err != nil || *bk.Outcome != LateCancelled || w.remaining(p.ID) != 4 {
		t.Fatalf("cancellation now: %+v %v, %d left", bk, err, w.remaining(p.ID))
	}
}

// Point 9: the month's summary lists each session (day, outcome, cost) and
// the balance left, and the coach's own cancellation is not the client's.
func TestMonthlySummaryIsATrackingSheet(t *testing.T) {
	t.Parallel()
	byYou := map[string]string{"fr": "- annulées par vous : ", "es": "- canceladas por ti: ", "en": "- cancelled by you: "}
	missed := map[string]string{"fr": "- manquées : ", "es": "- perdidas: ", "en": "- missed: "}
	for _, l := range i18n.Locales {
		t.Run(l, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			ctx := context.Background()
			w.setNow(time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC))
			c := w.localeClient("m"+l, l)
			p := w.pack(c.ID, 10)
			day := func(d int) time.Time { return time.Date(2026, 10, d, 8, 0, 0, 0, time.UTC) } // 10:00 in Paris
			attended := w.session(day(6), c.ID).Bookings[0]
			noShow := w.session(day(8), c.ID).Bookings[0]
			late := w.session(day(13), c.ID).Bookings[0]
			byCoach := w.session(day(15), c.ID)
			w.setNow(day(13).Add(-2 * time.Hour))
			if _, err := w.outcome(late.ID, Cancelled); err != nil {
				t.Fatal(err)
			}
			if _, err := w.s.CancelSession(ctx, w.coach.ID, byCoach.ID); err != nil {
				t.Fatal(err)
			}
			w.setNow(day(20))
			for id, o := range map[int64]string{attended.ID: Attended, noShow.ID: NoShow} {
				if _, err := w.outcome(id, o); err != nil {
					t.Fatal(err)
				}
			}
			w.setNow(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
			if err := Remind(ctx, w.s.DB, w.now); err != nil {
				t.Fatal(err)
			}
			body := w.message(c.ID, notify.MonthlySummary)
			loc, _ := time.LoadLocation(w.coach.Timezone)
			var rows []struct {
				StartsAt time.Time `db:"starts_at"`
				Outcome  string    `db:"outcome"`
				Taken    int64     `db:"taken"`
			}
			_ = w.s.DB.Select(&rows, `SELECT s.starts_at, b.outcome, -coalesce((SELECT sum(delta) FROM ledger_entries e
				WHERE e.booking_id = b.id), 0) AS taken FROM bookings b JOIN sessions s ON s.id = b.session_id
				WHERE b.client_id = $1 ORDER BY s.starts_at`, c.ID)
			cancelledByClient := 0
			for _, r := range rows {
				cost := notify.Words.T(l, "cost.free")
				if r.Taken > 0 {
					cost = notify.Words.T(l, "cost.sessions", "Count", r.Taken)
				}
				at := r.StartsAt.In(loc)
				row := i18n.Day(at, l) + " " + i18n.Clock(at, l)
				value := notify.Words.T(l, "outcome."+r.Outcome, "Coach", w.coach.Name) + ", " + cost
				if !strings.Contains(body, row) || !strings.Contains(body, value) {
					t.Errorf("(%s) the summary lacks %q / %q:\n%s", l, row, value, body)
				}
				if r.Outcome == Cancelled || r.Outcome == LateCancelled {
					cancelledByClient++
				}
			}
			if len(rows) != 4 || !strings.Contains(body, fmt.Sprintf("%s%d\n", byYou[l], cancelledByClient)) ||
				!strings.Contains(body, missed[l]+"1\n") {
				t.Errorf("(%s) counts wrong (%d by the client):\n%s", l, cancelledByClient, body)
			}
			n := int64(w.remaining(p.ID))
			left := map[string]string{"fr": "Il vous reste " + i18n.Plural(l, n, "séance", "séances"),
				"es": "Te quedan " + i18n.Plural(l, n, "sesión", "sesiones"), "en": "You have " + i18n.Plural(l, n, "session", "sessions")}[l]
			if !strings.Contains(body, left) {
				t.Errorf("(%s) the balance %d is not stated:\n%s", l, w.remaining(p.ID), body)
			}
		})
	}
}

// Points 14 and 15 of issue 11: a period pack's balance says its days left
// and this week's sessions against its cap, not "0 sessions left"; a pack
// whose validity ended shows it, and until when sessions held before the
// end can still be marked.
func TestBalancesSayWhatAPackHas(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	months, capped, price := 1, 2, int64(12000)
	o, err := w.s.CreateOffer(ctx, w.coach, OfferInput{Name: "1 mois", Kind: KindPeriod, Months: &months, WeeklyCap: &capped, PriceAmount: &price})
	if err != nil {
		t.Fatal(err)
	}
	c := w.client("period")
	period, err := w.s.RecordManualPack(ctx, w.coach, c.ID, ManualPackInput{OfferID: o.ID, Method: "cash"})
	if err != nil {
		t.Fatal(err)
	}
	sessions := w.pack(c.ID, 5)
	w.setNow(w.now.Add(time.Hour))
	b := w.session(w.now.Add(time.Hour), c.ID).Bookings[0]
	w.setNow(w.now.Add(2 * time.Hour))
	if _, err := w.outcome(b.ID, Attended); err != nil {
		t.Fatal(err)
	}
	bal, err := w.s.ClientBalance(ctx, w.coach.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var counted int
	_ = w.s.DB.Get(&counted, `SELECT count(*) FROM ledger_entries WHERE pack_id = $1 AND kind = 'attended'`, period.ID)
	for _, p := range bal.Packs {
		if p.ID != period.ID {
			continue
		}
		days := int(math.Ceil(p.ValidUntil.Sub(w.now).Hours() / 24))
		if p.DaysLeft == nil || *p.DaysLeft != days || p.SessionsThisWeek == nil || *p.SessionsThisWeek != counted || counted != 1 ||
			*p.WeeklyCap != capped || p.Ended {
			t.Fatalf("period pack balance: %+v (want %d days, %d this week)", p, days, counted)
		}
	}
	// The sessions pack's validity ends with a session held just before.
	held := w.session(sessions.ValidUntil.Add(-2*time.Hour), c.ID).Bookings[0]
	w.setNow(sessions.ValidUntil.Add(time.Hour))
	bal, _ = w.s.ClientBalance(ctx, w.coach.ID, c.ID)
	for _, p := range bal.Packs {
		if p.ID == sessions.ID && (!p.Ended || p.MarkableUntil == nil || !p.MarkableUntil.Equal(sessions.ValidUntil.Add(ExpiryGrace))) {
			t.Fatalf("a pack past its validity: %+v", p)
		}
	}
	if _, err := w.outcome(held.ID, Attended); err != nil || w.remaining(sessions.ID) != 4 {
		t.Fatalf("marking a session held before the end: %v, %d left", err, w.remaining(sessions.ID))
	}
}

// The reminders about a pack state its sessions left and its dates as the
// database holds them, in each client's language (low balance after an
// attendance, the week before the end).
func TestPackRemindersStateTheRows(t *testing.T) {
	t.Parallel()
	words := map[string][2]string{"fr": {"séance", "séances"}, "es": {"sesión", "sesiones"}, "en": {"session", "sessions"}}
	w := newWorld(t)
	ctx := context.Background()
	loc, _ := time.LoadLocation(w.coach.Timezone)
	for _, l := range i18n.Locales {
		c := w.localeClient("r"+l, l)
		p := w.pack(c.ID, 5)
		for range 5 - LowBalanceAt {
			b := w.session(w.now.Add(-time.Hour), c.ID).Bookings[0]
			if _, err := w.outcome(b.ID, Attended); err != nil {
				t.Fatal(err)
			}
		}
		left := int64(w.remaining(p.ID))
		body := w.message(c.ID, notify.LowBalance)
		for _, want := range []string{i18n.Plural(l, left, words[l][0], words[l][1]), i18n.Date(p.ValidUntil.In(loc), l)} {
			if left != LowBalanceAt || !strings.Contains(body, want) {
				t.Errorf("(%s) low balance (%d left) lacks %q:\n%s", l, left, want, body)
			}
		}
	}
	// A week before the packs end, each client is reminded.
	var until time.Time
	_ = w.s.DB.Get(&until, `SELECT min(valid_until) FROM packs WHERE coach_id = $1`, w.coach.ID)
	if err := Remind(ctx, w.s.DB, until.AddDate(0, 0, -6)); err != nil {
		t.Fatal(err)
	}
	for _, l := range i18n.Locales {
		var p Pack
		_ = w.s.DB.Get(&p, `SELECT p.* FROM packs p JOIN clients c ON c.id = p.client_id WHERE c.name = $1`, "r"+l)
		var id int64
		_ = w.s.DB.Get(&id, `SELECT id FROM clients WHERE name = $1`, "r"+l)
		body := w.message(id, notify.PackExpiring)
		for _, want := range []string{i18n.Plural(l, int64(p.SessionsRemaining), words[l][0], words[l][1]), i18n.Date(p.ValidUntil.In(loc), l)} {
			if !strings.Contains(body, want) {
				t.Errorf("(%s) expiry reminder lacks %q:\n%s", l, want, body)
			}
		}
	}
}

// Issue 14: a consultation given as goodwill is told to each client in
// their language: what, how long, its value and the session it makes up
// for, as the grant's rows hold them; a client with no pack gets it too,
// and a grant for an incident names the incident.
func TestConsultationGoodwillMessage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	var clients []Client
	for _, l := range i18n.Locales {
		clients = append(clients, w.localeClient("consult-"+l, l))
	}
	w.pack(clients[0].ID, 5) // the others hold no pack: a consultation needs none
	title := "Groupe du soir"
	start := time.Date(2026, 11, 3, 17, 30, 0, 0, time.UTC) // 18:30 in Paris
	ids := []int64{clients[0].ID, clients[1].ID, clients[2].ID}
	s, err := w.s.Schedule(ctx, w.coach.ID, SessionInput{Title: &title, StartsAt: &start, ClientIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.GrantGoodwill(ctx, w.coach, GoodwillInput{ClientIDs: ids, SessionID: &s.ID, Item: ItemConsultation,
		Minutes: 30, ValueAmount: 8200, Note: "coupure de courant"}); err != nil {
		t.Fatal(err)
	}
	var grant struct {
		Minutes int   `db:"minutes"`
		Value   int64 `db:"value_amount"`
	}
	if err := w.s.DB.Get(&grant, `SELECT minutes, value_amount FROM goodwill_grants WHERE coach_id = $1 AND session_id = $2`,
		w.coach.ID, s.ID); err != nil {
		t.Fatal(err)
	}
	minute := map[string][2]string{"fr": {"minute", "minutes"}, "es": {"minuto", "minutos"}, "en": {"minute", "minutes"}}
	paris, _ := time.LoadLocation("Europe/Paris")
	for i, c := range clients {
		var value int64
		if err := w.s.DB.Get(&value, `SELECT value_amount FROM ledger_entries WHERE client_id = $1 AND kind = 'goodwill'`, c.ID); err != nil {
			t.Fatal(err)
		}
		body := w.message(c.ID, notify.GoodwillConsultation)
		l := i18n.Locales[i]
		for _, want := range []string{
			i18n.Plural(l, int64(grant.Minutes), minute[l][0], minute[l][1]),
			i18n.Money(value, "EUR", l),
			title,
			i18n.Day(start.In(paris), l) + ", " + i18n.Clock(start.In(paris), l),
			"coupure de courant",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("(%s) the consultation's message lacks %q:\n%s", l, want, body)
			}
		}
		var sessionNews int
		if err := w.s.DB.Get(&sessionNews, `SELECT count(*) FROM notifications WHERE client_id = $1 AND template = $2`,
			c.ID, notify.GoodwillGranted); err != nil || sessionNews != 0 {
			t.Errorf("(%s) a consultation was told as %d session messages (%v)", l, sessionNews, err)
		}
	}
	// For an incident, no session: the incident's words, and no value line when it has none.
	if _, err := w.s.GrantGoodwill(ctx, w.coach, GoodwillInput{ClientIDs: ids[2:], Incident: "panne du site de réservation",
		Item: ItemConsultation, Minutes: 45, Note: "désolé"}); err != nil {
		t.Fatal(err)
	}
	notifytest.Work(t, w.s.DB, &notify.Dispatcher{DB: w.s.DB, Now: w.clock})
	list, err := notify.List(ctx, w.s.DB, w.coach.ID, notify.Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	told := 0
	for _, n := range list {
		if n.Template == notify.GoodwillConsultation && n.ClientID != nil && *n.ClientID == clients[2].ID &&
			strings.Contains(n.Body, "panne du site de réservation") {
			told++
			if !strings.Contains(n.Body, "45 minutes") || strings.Contains(n.Body, "Its value") || strings.Contains(n.Body, title) {
				t.Errorf("the incident's consultation:\n%s", n.Body)
			}
		}
	}
	if told != 1 {
		t.Errorf("the incident's consultation was told %d times", told)
	}
}
