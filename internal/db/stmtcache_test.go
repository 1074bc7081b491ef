package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/testdb"
)

// preparedOn counts the statements the server keeps prepared for conn's
// session, among those whose text contains like.
func preparedOn(t *testing.T, conn *sql.Conn, like string) int {
	t.Helper()
	var n int
	// No parameters: the simple protocol, so this count prepares nothing.
	if err := conn.QueryRowContext(context.Background(), fmt.Sprintf(
		`SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%%%s%%'`, like)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// pinned is one connection of d's pool, for the test's life: the server's
// prepared statements are per connection.
func pinned(t *testing.T, d *sqlx.DB) *sql.Conn {
	t.Helper()
	conn, err := d.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// answers checks that query, given arg, answers want.
func answers(t *testing.T, conn *sql.Conn, query string, arg, want int) {
	t.Helper()
	var got int
	if err := conn.QueryRowContext(context.Background(), query, arg).Scan(&got); err != nil || got != want {
		t.Fatalf("%s with %d: %d %v, want %d", query, arg, got, err, want)
	}
}

// A parameterised statement is prepared once per connection and then only
// executed: the server holds one prepared statement for it, and each run
// answers for its own arguments.
func TestStatementPreparedOncePerConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := pinned(t, testdb.New(t))
	for i := range 3 {
		answers(t, conn, `SELECT $1::int + 1000 AS once`, i, i+1000)
		if _, err := conn.ExecContext(ctx, `SELECT $1::int + 2000 AS exec_once`, i); err != nil {
			t.Fatal(err)
		}
	}
	if n := preparedOn(t, conn, "AS once"); n != 1 {
		t.Fatalf("prepared %d times on one connection, want 1", n)
	}
	if n := preparedOn(t, conn, "AS exec_once"); n != 1 {
		t.Fatalf("exec prepared %d times on one connection, want 1", n)
	}
}

// A connection keeps at most a bounded number of statements: past it the
// least recently used is closed on the server, and a statement evicted is
// prepared again when it comes back.
func TestStatementCacheIsBounded(t *testing.T) {
	t.Parallel()
	conn := pinned(t, testdb.New(t))
	for i := range 300 {
		answers(t, conn, fmt.Sprintf(`SELECT $1::int + %d AS bounded`, i), 1, i+1)
	}
	if n := preparedOn(t, conn, "AS bounded"); n != 256 {
		t.Fatalf("%d statements kept on one connection, want 256", n)
	}
	answers(t, conn, `SELECT $1::int + 0 AS bounded`, 7, 7) // evicted, prepared again
}

// After a migration changes what a prepared statement returns, the
// statement is prepared again: at worst its next run fails with
// PostgreSQL's "cached plan must not change result type" (0A000), and the
// one after answers with the new shape.
func TestStatementAfterSchemaChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := testdb.New(t)
	if _, err := d.Exec(`CREATE TABLE shapes (id int PRIMARY KEY, a int); INSERT INTO shapes VALUES (1, 10)`); err != nil {
		t.Fatal(err)
	}
	conn := pinned(t, d)
	columns := func() (int, error) {
		rows, err := conn.QueryContext(ctx, `SELECT * FROM shapes WHERE id = $1`, 1)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return 0, err
		}
		return len(cols), rows.Err()
	}
	if n, err := columns(); err != nil || n != 2 {
		t.Fatalf("before: %d columns, %v", n, err)
	}
	if _, err := d.Exec(`ALTER TABLE shapes ADD COLUMN b int`); err != nil {
		t.Fatal(err)
	}
	n, err := columns()
	var pqErr *pq.Error
	if err != nil {
		if !errors.As(err, &pqErr) || pqErr.Code != "0A000" {
			t.Fatalf("after the change: %v, want 0A000 at worst", err)
		}
		n, err = columns()
	}
	if err != nil || n != 3 {
		t.Fatalf("after the change: %d columns, %v; want the new shape", n, err)
	}
}
