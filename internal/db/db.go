// Package db opens PostgreSQL, applies the embedded migrations and runs
// read-modify-write work in one transaction.
package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"carnet/migrations"
)

// Open connects to url and checks that the server answers.
func Open(ctx context.Context, url string) (*sqlx.DB, error) {
	c, err := pq.NewConnector(url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	d := sqlx.NewDb(sql.OpenDB(cachingConnector{pq: c}), "postgres")
	SizePool(d, DefaultConns)
	d.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("reach database: %w", err)
	}
	return d, nil
}

// DefaultConns is the pool's size when CARNET_DB_CONNS does not set it:
// measured with make bench (32 workers marking attendance), 40 connections
// served 20 % more than 20 and a third more than 8; fewer leave requests
// queueing for a connection while PostgreSQL has cores to spare.
const DefaultConns = 40

// SizePool lets d hold n connections, as many idle as open: under load a
// connection given back is reused rather than closed and opened again (a
// new backend costs milliseconds), and it keeps its prepared statements.
func SizePool(d *sqlx.DB, n int) {
	d.SetMaxOpenConns(n)
	d.SetMaxIdleConns(n)
}

// Migrator returns a goose provider over the embedded schema. The session
// lock lets many processes start at once: one migrates, the others wait.
// Work lands with version numbers reserved per change, in any order, so a
// database that already has 00030 must still take a 00025 that lands after
// it: out-of-order versions are applied, not refused.
func Migrator(d *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, d, migrations.FS, goose.WithSessionLocker(locker),
		goose.WithAllowOutofOrder(true))
}

// Migrate applies every pending migration of ours (River's own are
// jobs.Migrate: the caller runs both).
func Migrate(ctx context.Context, d *sql.DB) error {
	p, err := Migrator(d)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Current reports whether the schema is at the newest embedded version or
// ahead of it: during a rolling deploy the newer release migrates first, and
// its migrations are written so that this binary still runs on them.
func Current(ctx context.Context, d *sql.DB) (bool, error) {
	p, err := Migrator(d)
	if err != nil {
		return false, err
	}
	// Pending, not "highest applied == highest known": a lower version that
	// landed late is pending too.
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, err
	}
	return !pending, nil
}

// IsUniqueViolation tells a unique-constraint violation (SQLSTATE 23505),
// optionally of one named constraint, by code, never by message text.
func IsUniqueViolation(err error, constraint string) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "23505" {
		return false
	}
	return constraint == "" || pqErr.Constraint == constraint
}

// IsCheckViolation tells a CHECK constraint violation (SQLSTATE 23514).
func IsCheckViolation(err error, constraint string) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "23514" {
		return false
	}
	return constraint == "" || pqErr.Constraint == constraint
}

// NoRows reports whether err is sql.ErrNoRows.
func NoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// Secret returns the named random secret shared by every process, creating
// it on first use.
func Secret(ctx context.Context, d *sqlx.DB, name string, size int) ([]byte, error) {
	fresh := make([]byte, size)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	var value []byte
	err := InTx(ctx, d, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_secrets (name, value) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, name, fresh); err != nil {
			return err
		}
		return tx.GetContext(ctx, &value, `SELECT value FROM app_secrets WHERE name = $1`, name)
	})
	return value, err
}
