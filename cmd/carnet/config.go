package main

import (
	"log/slog"
	"os"
	"strconv"
	"strings"
)

// Config is everything Carnet reads from its environment.
type Config struct {
	DatabaseURL   string // DATABASE_URL
	DBConns       int    // CARNET_DB_CONNS, the database pool's size (0: db.DefaultConns)
	Addr          string // CARNET_ADDR, where serve listens
	OpsAddr       string // CARNET_OPS_ADDR, /metrics and pprof for operators ("" or "off": none)
	BaseURL       string // CARNET_BASE_URL, how people reach it (client links)
	LinkSecret    string // CARNET_LINK_SECRET, optional: signs client links
	StripeKey     string // STRIPE_SECRET_KEY
	StripeAPIBase string // STRIPE_API_BASE, to point stripe-go at stripe-mock
	WebhookSecret string // STRIPE_WEBHOOK_SECRET
	SMTPURL       string // SMTP_URL
	MailFrom      string // CARNET_MAIL_FROM
	LogLevel      slog.Level
	// TrustedProxies (CARNET_TRUSTED_PROXIES, comma-separated addresses or
	// CIDRs): the load balancers whose X-Forwarded-For names the caller.
	// None by default: the caller is the connection's peer.
	TrustedProxies []string
}

// ConfigFromEnv reads the environment, with the defaults README.md lists.
func ConfigFromEnv() Config {
	c := Config{
		DatabaseURL:   env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carnet?sslmode=disable"),
		Addr:          env("CARNET_ADDR", "127.0.0.1:8080"),
		OpsAddr:       env("CARNET_OPS_ADDR", "127.0.0.1:9090"),
		LinkSecret:    os.Getenv("CARNET_LINK_SECRET"),
		StripeKey:     os.Getenv("STRIPE_SECRET_KEY"),
		StripeAPIBase: os.Getenv("STRIPE_API_BASE"),
		WebhookSecret: os.Getenv("STRIPE_WEBHOOK_SECRET"),
		SMTPURL:       os.Getenv("SMTP_URL"),
		MailFrom:      env("CARNET_MAIL_FROM", "carnet@localhost"),
	}
	for _, p := range strings.Split(os.Getenv("CARNET_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	if c.OpsAddr == "off" {
		c.OpsAddr = ""
	}
	if n, err := strconv.Atoi(os.Getenv("CARNET_DB_CONNS")); err == nil && n > 0 {
		c.DBConns = n
	}
	c.BaseURL = strings.TrimRight(env("CARNET_BASE_URL", "http://"+c.Addr), "/")
	_ = c.LogLevel.UnmarshalText([]byte(env("CARNET_LOG_LEVEL", "info")))
	return c
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
