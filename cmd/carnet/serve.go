package main

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"carnet/billing"
	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/jobs"
	"carnet/internal/metrics"
	"carnet/localstripe"
	"carnet/notify"
	"carnet/packs"
	"carnet/reconcile"
	"carnet/reports"
	"carnet/web"
	"carnet/webhooks"
)

// Main is the running program, so that tests start the real thing.
type Main struct {
	Config
	Log *slog.Logger
	Now func() time.Time

	DB      *sqlx.DB
	Handler http.Handler
	Addr    string // where it listens, once Run returned

	// How often the periodic jobs run, unless set: expiry every minute, the
	// Stripe sweep every 10 min, the reports' fold every minute (negative:
	// never, for a test that folds at a moment of its choosing). (Each
	// message has its own job.)
	ExpiryEvery, SweepEvery, FoldEvery time.Duration
	// How long a retry waits for the first request with its
	// Idempotency-Key before answering 409 (api.DefaultIdempotencyWait).
	IdempotencyWait time.Duration

	// StripeTimeout bounds one call to Stripe (billing.StripeTimeout unless set).
	StripeTimeout time.Duration
	// Timeouts of the HTTP server, unless set: ReadTimeout (headers and
	// body) 30 s, WriteTimeout 60 s, IdleTimeout 120 s.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration

	Metrics *metrics.Metrics
	OpsAddr string // where /metrics and pprof listen, once Run returned ("" when off)
	Keys    *auth.KeyCache

	srv           *http.Server
	ops           *http.Server
	jobs          *jobs.Client
	billing       *billing.Service
	webhookSecret string // the one webhooks are checked against
}

// Open connects to the database, migrates it and builds the handler.
func (m *Main) Open(ctx context.Context) error {
	if m.Now == nil {
		m.Now = time.Now
	}
	if m.Log == nil {
		m.Log = slog.Default()
	}
	if err := notify.CheckSMTPURL(m.SMTPURL); m.SMTPURL != "" && err != nil {
		return fmt.Errorf("SMTP_URL: %w", err)
	}
	d, err := db.Open(ctx, m.DatabaseURL)
	if err != nil {
		return err
	}
	if m.DBConns > 0 {
		db.SizePool(d, m.DBConns)
	}
	m.DB = d
	m.Metrics = metrics.New(d)
	m.Keys = auth.NewKeyCache(d, m.DatabaseURL, m.Now, m.Log)
	m.Keys.Observe = m.Metrics.KeyCache
	m.Metrics.KeyCacheAnswering(m.Keys.Answering)
	if err := db.Migrate(ctx, d.DB); err != nil {
		return err
	}
	if _, err := jobs.Migrate(ctx, d.DB); err != nil {
		return err
	}
	links, err := auth.NewLinks(ctx, d, m.LinkSecret, m.Now)
	if err != nil {
		return err
	}
	svc := &packs.Service{DB: d, Now: m.Now, Links: links, BaseURL: m.BaseURL}
	bill := &billing.Service{DB: d, Packs: svc, Now: m.Now, BaseURL: m.BaseURL, Local: m.StripeKey == "",
		Stripe: billing.NewStripeVia(m.StripeKey, m.StripeAPIBase, m.StripeTimeout, m.Metrics.Transport(nil))}
	if err := bill.Init(ctx); err != nil {
		return err
	}
	m.billing = bill
	secret := m.WebhookSecret
	if secret == "" {
		// Without a configured secret (no Stripe account), Carnet signs its
		// own test events with one it keeps in the database.
		b, err := db.Secret(ctx, d, "stripe_webhook_secret", 24)
		if err != nil {
			return err
		}
		secret = "whsec_" + hex.EncodeToString(b)
	}
	m.webhookSecret = secret
	recon := &reconcile.Reconciler{DB: d, Billing: bill, Now: m.Now, Log: m.Log}
	bill.EndIfReversed = recon.EndIfReversed
	intake := &webhooks.Intake{DB: d, Billing: bill, Reconciler: recon, Secret: secret, Now: m.Now, Log: m.Log,
		Observe: m.Metrics.Webhook}
	dispatcher := &notify.Dispatcher{DB: d, SMTPURL: m.SMTPURL, From: m.MailFrom, Now: m.Now, Log: m.Log,
		Observe: m.Metrics.Message}

	workers := river.NewWorkers()
	river.AddWorker(workers, &packs.ExpiryWorker{DB: d, Now: m.Now})
	river.AddWorker(workers, &jobs.Func[purgeArgs]{Fn: func(ctx context.Context) error {
		_, err := api.PurgeIdempotencyKeys(ctx, d)
		return err
	}})
	river.AddWorker(workers, &packs.RemindWorker{DB: d, Now: m.Now})
	river.AddWorker(workers, &billing.ScheduleWorker{Billing: bill})
	river.AddWorker(workers, &billing.FeeWorker{Billing: bill})
	river.AddWorker(workers, &billing.StopPlanWorker{Billing: bill})
	river.AddWorker(workers, &billing.PaymentMethodWorker{Billing: bill})
	river.AddWorker(workers, &billing.EndRefundWorker{Billing: bill})
	river.AddWorker(workers, &reports.FoldWorker{DB: d})
	river.AddWorker(workers, &reconcile.RefundWorker{Reconciler: recon})
	river.AddWorker(workers, &webhooks.SweepWorker{Intake: intake})
	river.AddWorker(workers, &notify.SendWorker{Dispatcher: dispatcher})
	river.AddWorker(workers, &jobs.Func[notify.AdoptArgs]{Fn: func(ctx context.Context) error {
		_, err := notify.Adopt(ctx, d)
		return err
	}})
	periodic := []*river.PeriodicJob{
		jobs.Every(cmp.Or(m.ExpiryEvery, time.Minute), func() river.JobArgs { return packs.ExpireArgs{} }),
		jobs.Every(time.Hour, func() river.JobArgs { return purgeArgs{} }),
		jobs.Every(time.Hour, func() river.JobArgs { return packs.RemindArgs{} }),
		jobs.Every(time.Minute, func() river.JobArgs { return notify.AdoptArgs{} }),
		jobs.Every(cmp.Or(m.SweepEvery, 10*time.Minute), func() river.JobArgs { return webhooks.SweepArgs{} }),
	}
	if m.FoldEvery >= 0 {
		periodic = append(periodic, jobs.Every(cmp.Or(m.FoldEvery, time.Minute), func() river.JobArgs { return reports.FoldArgs{} }))
	}
	m.jobs, err = jobs.New(d.DB, m.Log, workers, periodic, map[string]river.QueueConfig{notify.Queue: notify.QueueConfig})
	if err != nil {
		return err
	}
	bill.Jobs = m.jobs
	svc.OnFee = bill.EnqueueFee
	m.Handler = m.router(svc, bill, intake, recon, links)
	return nil
}

func (m *Main) router(svc *packs.Service, bill *billing.Service, intake *webhooks.Intake, recon *reconcile.Reconciler, links *auth.Links) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// The caller's address decides the throttle of failed authentications:
	// X-Forwarded-For is believed only from the proxies the operator names.
	if err := r.SetTrustedProxies(m.TrustedProxies); err != nil {
		m.Log.Error("CARNET_TRUSTED_PROXIES", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	rep := &reports.Service{DB: m.DB, Now: m.Now}
	app := &web.App{DB: m.DB, Packs: svc, Billing: bill, Anomalies: recon, Reports: rep, Now: m.Now, BaseURL: m.BaseURL,
		Mailer: m.SMTPURL != "", StripeMode: billing.Mode(m.StripeKey)}
	r.NoRoute(app.NotFound(api.NotFound))
	r.NoMethod(api.MethodNotAllowed)
	r.Use(api.Observe(m.Log), m.Metrics.Gin(), api.LimitBody(api.MaxBody))

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", m.ready)
	web.Routes(r)
	app.Routes(r)
	app.ClientRoutes(r, links)

	idem := api.Idempotent(m.DB, m.IdempotencyWait)
	coach := r.Group("/v1", auth.RequireCoach(m.DB, m.Now), idem)
	client := r.Group("/v1", links.RequireClient(), idem)
	svc.Routes(coach, client)
	bill.Routes(coach, client)
	recon.Routes(coach)
	rep.Routes(coach)
	coach.GET("/notifications", notify.Handler(m.DB, func(c *gin.Context) int64 { return auth.CoachOf(c).ID }))
	r.POST("/webhooks/stripe", intake.Handle)
	if bill.Local {
		(&localstripe.LocalCheckout{Intake: intake, Links: links}).Routes(r)
	}
	return r
}

// ready answers 200 only when the database answers and its schema is
// current or ahead (a newer release migrated it, compatibly, during a
// rolling deploy); otherwise 503 with the reason.
func (m *Main) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	current, err := db.Current(ctx, m.DB.DB)
	switch {
	case err != nil:
		m.Log.Warn("not ready", "err", err)
		c.Header("Retry-After", strconv.Itoa(api.RetryAfterSeconds))
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "database unreachable"})
	case !current:
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "migrations pending"})
	default:
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
	}
}

// Run opens everything and starts serving; it returns once listening.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Open(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	m.Addr = ln.Addr().String()
	// A client that sends its headers and never finishes its body loses the
	// connection after ReadTimeout; a reader that stops reading, after
	// WriteTimeout (longer than any Stripe call, so an answer can be sent).
	m.srv = &http.Server{Handler: m.Handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:  cmp.Or(m.ReadTimeout, 30*time.Second),
		WriteTimeout: cmp.Or(m.WriteTimeout, 60*time.Second),
		IdleTimeout:  cmp.Or(m.IdleTimeout, 120*time.Second),
		ErrorLog:     slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn)}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("serve", "err", err)
		}
	}()
	if m.Config.OpsAddr != "" {
		m.serveOps()
	}
	if err := m.jobs.Start(context.Background()); err != nil {
		return fmt.Errorf("start jobs: %w", err)
	}
	m.Keys.Start()
	m.Log.Info("carnet serving", "addr", m.Addr, "base_url", m.BaseURL, "ops_addr", m.OpsAddr)
	return nil
}

// serveOps serves /metrics and pprof on the operator address. A busy
// address (a second process on one machine) costs the metrics, not the
// service: it is logged as an error and serving goes on.
func (m *Main) serveOps() {
	ln, err := net.Listen("tcp", m.Config.OpsAddr)
	if err != nil {
		m.Log.Error("no metrics: cannot listen on CARNET_OPS_ADDR", "addr", m.Config.OpsAddr, "err", err)
		return
	}
	m.OpsAddr = ln.Addr().String()
	m.ops = &http.Server{Handler: m.Metrics.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() {
		if err := m.ops.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("serve operator address", "err", err)
		}
	}()
}

// Close stops accepting requests, lets the ones in flight finish (up to 20 s),
// stops the job workers, then closes the database.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var err error
	if m.srv != nil {
		err = m.srv.Shutdown(ctx)
		err = errors.Join(err, m.jobs.Stop(ctx))
	}
	if m.ops != nil {
		err = errors.Join(err, m.ops.Shutdown(ctx))
	}
	if m.Keys != nil {
		err = errors.Join(err, m.Keys.Close())
	}
	if m.DB != nil {
		err = errors.Join(err, m.DB.Close())
	}
	return err
}
