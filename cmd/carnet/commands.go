package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/i18n"
	"carnet/internal/jobs"
	"carnet/localstripe"
	"carnet/packs"
	"carnet/reconcile"
)

func (m *Main) migrate(ctx context.Context, args []string, out io.Writer) error {
	d, err := db.Open(ctx, m.DatabaseURL)
	if err != nil {
		return err
	}
	defer d.Close()
	p, err := db.Migrator(d.DB)
	if err != nil {
		return err
	}
	verb := "up"
	if len(args) > 0 {
		verb = args[0]
	}
	switch verb {
	case "up":
		res, err := p.Up(ctx)
		for _, r := range res {
			fmt.Fprintf(out, "applied %s\n", r.Source.Path)
		}
		if err != nil {
			return err
		}
		// River's tables too, as serve does: a schema migrated ahead of a
		// deploy is whole. (internal/db and internal/jobs do not know each other.)
		river, err := jobs.Migrate(ctx, d.DB)
		for _, v := range river {
			fmt.Fprintf(out, "applied %s\n", v)
		}
		if err == nil && len(res) == 0 && len(river) == 0 {
			fmt.Fprintln(out, "schema is current")
		}
		return err
	case "down":
		r, err := p.Down(ctx)
		if r != nil {
			fmt.Fprintf(out, "rolled back %s\n", r.Source.Path)
		}
		return err
	case "status":
		st, err := p.Status(ctx)
		for _, s := range st {
			fmt.Fprintf(out, "%-8s %s\n", s.State, s.Source.Path)
		}
		return err
	}
	return usageError("usage: carnet migrate [up|down|status]")
}

func (m *Main) coach(ctx context.Context, args []string, out io.Writer) error {
	if len(args) < 3 || args[0] != "create" {
		return usageError("usage: carnet coach create NAME EMAIL [CURRENCY] [TIMEZONE]")
	}
	n := auth.NewCoach{Name: args[1], Email: args[2], Currency: "EUR", Timezone: "Europe/Paris"}
	if len(args) > 3 {
		n.Currency = args[3]
	}
	if len(args) > 4 {
		n.Timezone = args[4]
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	c, key, err := auth.CreateCoach(ctx, m.DB, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "coach %d created: %s <%s>\nAPI key (shown once, keep it): %s\n", c.ID, c.Name, c.Email, key)
	return nil
}

// verify proves the ledger's invariants on the database and exits non-zero,
// naming each offending row, when one breaks.
func (m *Main) verify(ctx context.Context, out io.Writer) error {
	d, err := db.Open(ctx, m.DatabaseURL)
	if err != nil {
		return err
	}
	defer d.Close()
	problems, err := packs.Verify(ctx, d)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(out, p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("verify: %d invariant violations", len(problems))
	}
	fmt.Fprintln(out, "verify: every balance matches its ledger; nothing negative; no booking charged twice")
	return nil
}

// stripe send ACTION --pack N [--url URL]: sends the signed events Stripe
// would send for a test payment, to this Carnet or to any endpoint.
func (m *Main) stripeCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("stripe send", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	pack := fs.Int64("pack", 0, "the pack the payment is for")
	url := fs.String("url", "", "where to send (default: this Carnet's /webhooks/stripe)")
	usage := "usage: carnet stripe send ACTION --pack N [--url URL]\n\nactions:\n"
	for _, a := range slices.Sorted(maps.Keys(localstripe.Actions)) {
		usage += fmt.Sprintf("  %-13s %s\n", a, localstripe.Actions[a])
	}
	if len(args) < 2 || args[0] != "send" || fs.Parse(args[2:]) != nil || *pack <= 0 {
		return usageError(usage)
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	payloads, err := localstripe.Simulate(ctx, m.DB, *pack, args[1], m.Now().UTC())
	if err != nil {
		return err
	}
	target := cmp.Or(*url, m.BaseURL+"/webhooks/stripe")
	answers, err := localstripe.Send(ctx, target, m.webhookSecret, payloads)
	for _, a := range answers {
		fmt.Fprintln(out, a)
	}
	return err
}

// unmatched [list|all] / unmatched settle ID NOTE: the payments from Stripe
// customers no coach knows, which only whoever runs Carnet can see.
func (m *Main) unmatched(ctx context.Context, args []string, out io.Writer) error {
	usage := usageError("usage: carnet unmatched [list|all]\n       carnet unmatched settle ID NOTE")
	verb := "list"
	if len(args) > 0 {
		verb = args[0]
	}
	if (verb == "settle") != (len(args) >= 3) || (verb != "list" && verb != "all" && verb != "settle") {
		return usage
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	show := func(a reconcile.Anomaly) {
		var ev struct {
			Stripe   string    `json:"stripe_id"`
			Customer string    `json:"customer"`
			At       time.Time `json:"at"`
		}
		_ = json.Unmarshal(a.Evidence, &ev)
		line := fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%s", a.ID, i18n.Money(a.Excess, cmp.Or(deref(a.Currency), "EUR"), "en"),
			ev.Stripe, ev.Customer, ev.At.UTC().Format(time.RFC3339), a.State)
		if a.Resolution != "" {
			line += "\t" + a.Resolution
		}
		fmt.Fprintln(out, line)
	}
	if verb == "settle" {
		id, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil {
			return usage
		}
		a, err := reconcile.SettleOrphan(ctx, m.DB, id, strings.Join(args[2:], " "), m.Now().UTC())
		if err != nil {
			return err
		}
		show(a)
		return nil
	}
	list, err := reconcile.Orphans(ctx, m.DB, verb == "list")
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(out, "no payment from an unknown customer to settle")
	}
	for _, a := range list {
		show(a)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
