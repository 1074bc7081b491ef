package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func (g *dbGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	failed := 0.0
	type count struct {
		Kind  string  `db:"kind"`
		State string  `db:"state"`
		N     float64 `db:"n"`
	}
	grouped := func(desc *prometheus.Desc, query string) {
		var rows []count
		if err := g.db.SelectContext(ctx, &rows, query); err != nil {
			failed = 1
			return
		}
		for _, r := range rows {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, r.N, r.Kind, r.State)
		}
	}
	// River deletes finished jobs after a day, so this stays small.
	grouped(jobsDesc, `SELECT kind, state::text AS state, count(*) AS n FROM river_job GROUP BY 1, 2`)
	grouped(anomaliesDesc, `SELECT kind, state, count(*) AS n FROM anomalies GROUP BY 1, 2`)
	var outbox struct {
		N      float64 `db:"n"`
		Oldest float64 `db:"oldest"`
	}
	// Both read the partial index on pending messages only. A message is
	// waiting from the moment it is due: written, or its hold over.
	if err := g.db.GetContext(ctx, &outbox, `SELECT count(*) AS n,
		coalesce(extract(epoch FROM now() - min(greatest(created_at, not_before))), 0)::float8 AS oldest
		FROM notifications WHERE status = 'pending' AND (not_before IS NULL OR not_before <= now())`); err != nil {
		failed = 1
	} else {
		ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, outbox.N)
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, max(outbox.Oldest, 0))
	}
	var unapplied float64
	if err := g.db.GetContext(ctx, &unapplied, `SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`); err != nil {
		failed = 1
	} else {
		ch <- prometheus.MustNewConstMetric(unappliedDesc, prometheus.GaugeValue, unapplied)
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, failed)
}
