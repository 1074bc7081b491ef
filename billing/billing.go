package billing

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"carnet/internal/db"
	"carnet/packs"
)

// Service talks to Stripe for one Carnet deployment.
type Service struct {
	DB      *sqlx.DB
	Stripe  *client.API
	Packs   *packs.Service
	Now     func() time.Time
	BaseURL string
	// Local is true without a Stripe account: stripe-go talks to stripe-mock
	// and checkout happens on Carnet's own test page.
	Local bool
	// Jobs inserts follow-up work (schedules, fees) in the caller's transaction.
	Jobs interface {
		InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	}
	// EndIfReversed is the reconciler's rule for when money going back ends
	// a pack, run where a refund, a dispute or the charge they reverse is
	// recorded, so that the rest of the event sees the pack ended. Imports
	// point webhooks → reconcile → billing, so the wiring gives it; nil:
	// money going back ends no pack.
	EndIfReversed func(ctx context.Context, tx *sqlx.Tx, packID int64) error

	keyPrefix string
}

// StripeTimeout bounds one HTTP call to Stripe, retries included in none:
// a call that hangs fails after it instead of holding a request for ever.
const StripeTimeout = 20 * time.Second

// NewStripeVia returns a stripe-go client whose calls time out after
// timeout (StripeTimeout when 0) and go through transport (nil: Go's
// default; serve's counts and times each call for the metrics); apiBase,
// when set, points it at another server (stripe-mock). Every call also
// carries its caller's context.
func NewStripeVia(key, apiBase string, timeout time.Duration, transport http.RoundTripper) *client.API {
	if key == "" {
		key = "sk_test_123" // what stripe-mock accepts
	}
	if timeout <= 0 {
		timeout = StripeTimeout
	}
	httpClient := &http.Client{Timeout: timeout, Transport: transport}
	// One config each: stripe-go fills in a missing URL with the backend's own.
	cfg := func() *stripe.BackendConfig {
		c := &stripe.BackendConfig{HTTPClient: httpClient, LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}}
		if apiBase != "" {
			c.URL = stripe.String(strings.TrimRight(apiBase, "/"))
		}
		return c
	}
	return client.New(key, &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, cfg()),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg()),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg()),
	})
}

// Init loads the deployment's idempotency-key prefix: Stripe keeps keys per
// account for a day, and two databases (a test one, a fresh one) both have a
// pack 1; the prefix keeps their keys apart while a retry of ours still
// sends the very same key.
func (s *Service) Init(ctx context.Context) error {
	b, err := db.Secret(ctx, s.DB, "stripe_idempotency_prefix", 6)
	s.keyPrefix = hex.EncodeToString(b)
	return err
}

// key derives a Stripe idempotency key from our own row.
func (s *Service) key(format string, args ...any) *string {
	k := "carnet-" + s.keyPrefix + "-" + fmt.Sprintf(format, args...)
	return &k
}

// enqueueOnce inserts a job in the caller's transaction, at most one per args.
func (s *Service) enqueueOnce(ctx context.Context, tx *sqlx.Tx, args river.JobArgs) error {
	_, err := s.Jobs.InsertTx(ctx, tx.Tx, args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

// Mode names the Stripe account Carnet uses, from its secret key: "local"
// (none: stripe-mock and the local checkout page), "test" or "live".
func Mode(secretKey string) string {
	switch {
	case secretKey == "":
		return "local"
	case strings.HasPrefix(secretKey, "sk_live_") || strings.HasPrefix(secretKey, "rk_live_"):
		return "live"
	}
	return "test"
}
