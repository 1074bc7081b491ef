// Package testdb gives each test its own real PostgreSQL database, cloned
// from a template migrated once per schema version, so tests and packages run
// in parallel without seeing each other's rows.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"carnet/internal/db"
	"carnet/internal/jobs"
	"carnet/migrations"
)

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// URL returns DATABASE_URL with its database replaced by name.
func URL(t testing.TB, name string) string {
	t.Helper()
	raw := os.Getenv("DATABASE_URL")
	if raw == "" {
		t.Fatal("DATABASE_URL is not set: run the tests with `make test`, which brings up PostgreSQL")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		t.Fatalf("DATABASE_URL must be a postgres:// URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// New returns a fresh, migrated database that is dropped when the test ends.
func New(t testing.TB) *sqlx.DB {
	t.Helper()
	ctx := context.Background()
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(t) })
	if templateErr != nil {
		t.Fatalf("test database template: %v", templateErr)
	}
	admin := adminDB(t)
	name := "carnet_t_" + randomHex(8)
	if _, err := admin.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, templateName)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	d, err := db.Open(ctx, URL(t, name))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	d.SetMaxOpenConns(25)
	t.Cleanup(func() {
		d.Close()
		_, _ = admin.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
		admin.Close()
	})
	return d
}

// Empty returns the URL of a new database with no schema at all (for the
// commands that build one), dropped when the test ends.
func Empty(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	admin := adminDB(t)
	name := "carnet_e_" + randomHex(8)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create empty database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
		admin.Close()
	})
	return URL(t, name)
}

// URLOf returns the URL of a database New made, for code that opens its own.
func URLOf(t testing.TB, d *sqlx.DB) string {
	t.Helper()
	var name string
	if err := d.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	return URL(t, name)
}

func adminDB(t testing.TB) *sqlx.DB {
	t.Helper()
	d, err := db.Open(context.Background(), URL(t, "postgres"))
	if err != nil {
		t.Fatalf("connect to PostgreSQL (is it up? run `make test`): %v", err)
	}
	d.SetMaxOpenConns(2)
	return d
}

// ensureTemplate migrates a template database named after the schema's hash,
// once across every test process (an advisory lock serialises them).
func ensureTemplate(t testing.TB) (string, error) {
	ctx := context.Background()
	hash, err := schemaHash()
	if err != nil {
		return "", err
	}
	name := "carnet_tpl_" + hash
	admin := adminDB(t)
	defer admin.Close()
	conn, err := admin.Connx(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727274)`); err != nil {
		return "", err
	}
	defer func() { _, _ = conn.ExecContext(ctx, `SELECT pg_advisory_unlock(727274)`) }()

	var exists bool
	if err := conn.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	// Build under another name and rename at the end, so a crash halfway
	// never leaves a half-migrated template behind.
	building := name + "_building"
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building)); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s`, building)); err != nil {
		return "", err
	}
	d, err := db.Open(ctx, URL(t, building))
	if err != nil {
		return "", err
	}
	err = db.Migrate(ctx, d.DB)
	if err == nil {
		_, err = jobs.Migrate(ctx, d.DB)
	}
	d.Close()
	if err != nil {
		return "", err
	}
	_, err = conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, name))
	return name, err
}

// schemaHash names the schema: our migrations plus River's, as the River
// version this binary is built with has them (so a River upgrade that
// brings migrations builds a new template by itself).
func schemaHash() (string, error) {
	river, err := jobs.Schema()
	if err != nil {
		return "", fmt.Errorf("read River's migrations: %w", err)
	}
	return schemaHashFor(river), nil
}

func schemaHashFor(river string) string {
	h := sha256.New()
	h.Write([]byte(river))
	_ = fs.WalkDir(migrations.FS, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
