package notify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"carnet/internal/db"
	"carnet/internal/jobs"
	"carnet/internal/mailtest"
	"carnet/internal/testdb"
	. "carnet/notify"
)

// BenchmarkOutbox measures how fast River delivers a backlog: 500 messages
// enqueued in one transaction, then one process's River client (the queue
// serve runs) sends them all to a real SMTP server. It prints messages per
// second (docs/RELIABILITY.md, "The outbox"). Run it with
// go test -run XXX -bench BenchmarkOutbox -benchtime 3x ./notify
func BenchmarkOutbox(b *testing.B) {
	const backlog = 500
	mail, _ := mailtest.Start(b, mailtest.PlainSMTP)
	d := testdb.New(b)
	var coachID int64
	if err := d.Get(&coachID, `INSERT INTO coaches (name, email, currency) VALUES ('Marc', 'marc@example.com', 'EUR') RETURNING id`); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	workers := river.NewWorkers()
	river.AddWorker(workers, &SendWorker{Dispatcher: &Dispatcher{DB: d, SMTPURL: mail.URL("smtp"), From: "carnet@example.com", Log: log}})
	client, err := jobs.New(d.DB, log, workers, nil, map[string]river.QueueConfig{Queue: QueueConfig})
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Stop(context.Background()) })
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		err := db.InTx(context.Background(), d, func(tx *sqlx.Tx) error {
			for j := range backlog {
				m := Message{CoachID: coachID, Cause: fmt.Sprintf("bench:%d:%d", i, j), Template: AnomalyOpenedClient,
					Locale: "fr", To: "lea@example.com", Data: Documented[AnomalyOpenedClient]}
				if err := Enqueue(context.Background(), tx, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for {
			var left int
			if err := d.Get(&left, `SELECT count(*) FROM notifications WHERE status = 'pending'`); err != nil {
				b.Fatal(err)
			}
			if left == 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		total += time.Since(start)
	}
	sent := float64(b.N * backlog)
	// The sending itself, from each backlog's first send to its last: without
	// the wait for River's next poll (up to a second) before the first.
	var sending float64
	if err := d.Get(&sending, `SELECT sum(s) FROM (SELECT extract(epoch FROM max(sent_at) - min(sent_at))::float8 AS s
		FROM notifications GROUP BY split_part(cause_key, ':', 2)) per`); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(sent/total.Seconds(), "msgs/s")
	b.ReportMetric(sent/sending, "sending-msgs/s")
	b.Logf("%d messages sent in %v (%.0f a second), %.2f s of it sending (%.0f a second)",
		int(sent), total.Round(time.Millisecond), sent/total.Seconds(), sending, sent/sending)
}
