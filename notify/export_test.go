package notify

import (
	"context"
	"crypto/x509"

	"github.com/jmoiron/sqlx"
)

// What the outbox's external tests (dispatch_test.go, package notify_test,
// which uses notifytest) reach inside the package for.

var Documented = documented

// TrustRoots makes the dispatcher trust a test server's certificate.
func (d *Dispatcher) TrustRoots(p *x509.CertPool) { d.rootCAs = p }

// MessageIDOf is the Message-ID d gives the message of cause.
func (d *Dispatcher) MessageIDOf(ctx context.Context, cause string) (string, error) {
	salt, err := d.saltOf(ctx)
	return messageID(salt, cause, d.from()), err
}

// AdoptIn is Adopt in batches of n.
func AdoptIn(ctx context.Context, d *sqlx.DB, n int) (int, error) { return adopt(ctx, d, n) }
