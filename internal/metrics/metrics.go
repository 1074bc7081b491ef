// Package metrics is what an operator watches, in Prometheus format: the
// process's own counters (requests, Stripe calls, webhook deliveries,
// messages sent) and gauges read from the database on each scrape (jobs,
// anomalies, the outbox's backlog), served with pprof on the operator
// address only, never on the public one.
package metrics

import (
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"carnet/internal/db"
)

// Metrics holds one process's registry and its instruments.
type Metrics struct {
	Registry *prometheus.Registry

	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	stripeCalls   *prometheus.CounterVec
	stripeLatency *prometheus.HistogramVec
	webhooks      *prometheus.CounterVec
	messages      *prometheus.CounterVec
	keyCache      *prometheus.CounterVec
}

// New registers the instruments, the Go runtime's and the process's
// collectors, the database pool's statistics and the database gauges.
func New(d *sqlx.DB) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "carnet_http_requests_total",
		Help: "HTTP requests answered, by route template, method and status."}, []string{"route", "method", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "carnet_http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route template and method.", Buckets: latencyBuckets},
		[]string{"route", "method"})
	m.stripeCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "carnet_stripe_requests_total",
		Help: "Calls to Stripe's API, by endpoint and result (status code, or error when no answer came)."},
		[]string{"endpoint", "result"})
	m.stripeLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "carnet_stripe_request_duration_seconds",
		Help: "Time Stripe took to answer, by endpoint.", Buckets: latencyBuckets}, []string{"endpoint"})
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "carnet_webhook_events_total",
		Help: "Stripe webhook deliveries, by event type and outcome (applied, stored: kept but not applicable, duplicate, refused, failed)."},
		[]string{"type", "outcome"})
	m.messages = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "carnet_notifications_total",
		Help: "Outbox messages this process's notify.send jobs handled, by outcome (sent, kept, retry, failed)."},
		[]string{"outcome"})
	m.keyCache = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "carnet_auth_key_cache_total",
		Help: "API-key lookups, by result: hit (from memory), miss (checked in the database, then remembered), bypass (checked in the database: the cache's listener is not connected)."},
		[]string{"result"})
	for _, r := range []string{"hit", "miss", "bypass"} {
		m.keyCache.WithLabelValues(r)
	}
	m.Registry.MustRegister(m.requests, m.latency, m.stripeCalls, m.stripeLatency, m.webhooks, m.messages, m.keyCache,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(d.DB, "carnet"), &dbGauges{db: d})
	for kind, n := range map[string]func(db.StatementStats) uint64{
		"prepared": func(s db.StatementStats) uint64 { return s.Prepared },
		"reused":   func(s db.StatementStats) uint64 { return s.Reused },
		"simple":   func(s db.StatementStats) uint64 { return s.Simple },
	} {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "carnet_db_statements_total",
			Help:        "Statements sent to PostgreSQL, by how: prepared (first on its connection), reused (already prepared there), simple (no parameters).",
			ConstLabels: prometheus.Labels{"kind": kind}}, func() float64 { return float64(n(db.Statements())) }))
	}
	return m
}

var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Gin counts every request by its route template (never the raw path, so
// ids and tokens neither leak nor multiply the series).
func (m *Metrics) Gin() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		m.latency.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
	}
}

// Webhook counts one delivery of an event of type t.
func (m *Metrics) Webhook(t, outcome string) { m.webhooks.WithLabelValues(t, outcome).Inc() }

// Message counts one outbox message handled.
func (m *Metrics) Message(outcome string) { m.messages.WithLabelValues(outcome).Inc() }

// KeyCache counts one API-key lookup by its result (auth.KeyCache.Observe).
func (m *Metrics) KeyCache(result string) { m.keyCache.WithLabelValues(result).Inc() }

// KeyCacheAnswering reports, at each scrape, whether the API-key cache
// answers (its listener connected and heard): 0 means every key is checked
// in the database.
func (m *Metrics) KeyCacheAnswering(answering func() bool) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "carnet_auth_key_cache_answering",
		Help: "1 when this process's API-key cache answers from memory, 0 while its listener is not connected or not heard (every key checked in the database)."},
		func() float64 {
			if answering() {
				return 1
			}
			return 0
		}))
}

// Handler serves /metrics and pprof for the operator address.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// dbGauges reads the state every process shares from the database at each
// scrape: the same figures on every instance (take one, or max()).
type dbGauges struct{ db *sqlx.DB }

var (
	jobsDesc = prometheus.NewDesc("carnet_jobs", "River jobs in the database, by kind and state.",
		[]string{"kind", "state"}, nil)
	anomaliesDesc = prometheus.NewDesc("carnet_anomalies", "Anomalies ever opened, by kind and current state.",
		[]string{"kind", "state"}, nil)
	backlogDesc = prometheus.NewDesc("carnet_notifications_pending", "Outbox messages due and waiting to be sent.", nil, nil)
	oldestDesc  = prometheus.NewDesc("carnet_notifications_oldest_pending_seconds",
		"How long the oldest message due has waited to be sent (0 when none).", nil, nil)
	unappliedDesc = prometheus.NewDesc("carnet_webhook_events_unapplied",
		"Stored webhook events whose application failed and awaits a retry.", nil, nil)
	scrapeErrDesc = prometheus.NewDesc("carnet_database_scrape_errors",
		"1 when the last scrape could not read the database gauges.", nil, nil)
)

func (g *dbGauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{jobsDesc, anomaliesDesc, backlogDesc, oldestDesc, unappliedDesc, scrapeErrDesc} {
		ch <- d
	}
}

// Transport counts and times every call stripe-go makes, by endpoint: the
// path with its object ids replaced ("/v1/refunds", "/v1/payment_intents/:id").
func (m *Metrics) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		start := time.Now()
		endpoint := r.Method + " " + Endpoint(r.URL.Path)
		res, err := next.RoundTrip(r)
		result := "error"
		if err == nil {
			result = strconv.Itoa(res.StatusCode)
		}
		m.stripeCalls.WithLabelValues(endpoint, result).Inc()
		m.stripeLatency.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
		return res, err
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
