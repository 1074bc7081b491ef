// Command carnet is Carnet's one binary: serve, migrate, coach, demo.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // coach time zones must load on machines without tzdata
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, ConfigFromEnv(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "carnet:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError string

func (u usageError) Error() string { return string(u) }

const usage = `usage: carnet <command>

  serve                      run the HTTP API (migrates first)
  migrate [up|down|status]   manage the database schema (default up; up applies
                             River's migrations too)
  coach create NAME EMAIL [CURRENCY] [TIMEZONE]
                             create a coach and print its API key once
  verify                     check the ledger invariants; non-zero exit names each bad row
  stripe send ACTION --pack N [--url URL]
                             send the signed events Stripe would send for a test
                             payment (card, sepa, sepa_ok, next_paid, refund, ...)
  unmatched [list|all]       payments from Stripe customers no coach knows
  unmatched settle ID NOTE   settle one, saying what was done
  messages render DIR        write every message in fr, es and en, from the demo's
                             situations (docs/messages)
  demo                       seed the demo coach, offers and clients (idempotent)
                             and print a fresh API key and a curl line to try

configuration comes from the environment; see README.md`

func run(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError(usage)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	// Anything that logs through slog's or the log package's default (a
	// library, a stray call) writes the same JSON lines.
	slog.SetDefault(log)
	m := &Main{Config: cfg, Log: log}
	switch args[0] {
	case "serve":
		softMemoryLimit()
		if err := m.Run(ctx); err != nil {
			return err
		}
		<-ctx.Done()
		return m.Close()
	case "migrate":
		return m.migrate(ctx, args[1:], stdout)
	case "coach":
		return m.coach(ctx, args[1:], stdout)
	case "demo":
		return m.demo(ctx, stdout)
	case "verify":
		return m.verify(ctx, stdout)
	case "stripe":
		return m.stripeCmd(ctx, args[1:], stdout)
	case "messages":
		return m.messages(args[1:], stdout)
	case "unmatched":
		return m.unmatched(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usageError(fmt.Sprintf("unknown command %q\n\n%s", args[0], usage))
}

// defaultMemoryLimit is the Go heap the collector aims to stay under when
// GOMEMLIMIT does not say: with GOGC's default alone the heap doubles
// before each collection, and under the bench's loads resident memory
// peaked at 63–69 MiB (55 MiB with this limit, the same throughput). It
// is soft: a larger live heap is still served, at more collection work.
const defaultMemoryLimit = 32 << 20

func softMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
