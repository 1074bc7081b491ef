package db

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"sync/atomic"

	"github.com/lib/pq"
)

// Each connection keeps the parameterised statements it has run prepared
// (named, server side), so a statement seen before costs one round trip
// (Bind/Execute) instead of two (Parse/Describe, then Bind/Execute) and is
// neither parsed nor analysed again. lib/pq stays the driver: only its
// connector is wrapped, and every query of the process (sqlx, River) goes
// through it unchanged. Parameters still travel as text, exactly as on
// lib/pq's unnamed path, so JSON []byte columns are written as before
// (its binary_parameters mode would send them as bytea).

// stmtCacheSize bounds the statements one connection keeps: Carnet and
// River send a few hundred distinct texts; past this the least recently
// used is closed.
const stmtCacheSize = 256

// StatementStats count, for the whole process, the statements sent:
// Prepared (a text a connection had not seen: two round trips), Reused
// (one round trip) and Simple (no parameters: lib/pq's simple protocol).
type StatementStats struct{ Prepared, Reused, Simple uint64 }

var stmtPrepared, stmtReused, stmtSimple atomic.Uint64

// Statements returns the process's statement counters (see /metrics).
func Statements() StatementStats {
	return StatementStats{Prepared: stmtPrepared.Load(), Reused: stmtReused.Load(), Simple: stmtSimple.Load()}
}

// cachingConnector opens lib/pq connections that keep their statements.
type cachingConnector struct{ pq *pq.Connector }

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.pq.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &cachingConn{inner: cn, byText: map[string]*list.Element{}, lru: list.New()}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.pq.Driver() }

// pqConn is what lib/pq's connection offers database/sql.
type pqConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

// pqStmt is what a lib/pq prepared statement offers.
type pqStmt interface {
	driver.Stmt
	driver.StmtQueryContext
	driver.StmtExecContext
}

type cachedStmt struct {
	text string
	stmt pqStmt
}

// cachingConn is one connection and its statements. database/sql uses a
// connection from one goroutine at a time, so the cache needs no lock.
type cachingConn struct {
	inner  driver.Conn
	byText map[string]*list.Element
	lru    *list.List
}

func (c *cachingConn) pq() pqConn { return c.inner.(pqConn) }

// statement returns the connection's prepared statement for text,
// preparing it on first use. It evicts only after a successful prepare:
// the connection is then healthy and outside an aborted transaction, so
// closing the oldest statement cannot fail for that reason.
func (c *cachingConn) statement(ctx context.Context, text string) (pqStmt, error) {
	if e, ok := c.byText[text]; ok {
		c.lru.MoveToFront(e)
		stmtReused.Add(1)
		return e.Value.(*cachedStmt).stmt, nil
	}
	s, err := c.pq().PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	st, ok := s.(pqStmt)
	if !ok { // not lib/pq's statement (a COPY): use it once
		_ = s.Close()
		return nil, driver.ErrSkip
	}
	stmtPrepared.Add(1)
	c.byText[text] = c.lru.PushFront(&cachedStmt{text: text, stmt: st})
	if c.lru.Len() > stmtCacheSize {
		old := c.lru.Remove(c.lru.Back()).(*cachedStmt)
		delete(c.byText, old.text)
		// A failure here marks the connection bad: lib/pq then refuses
		// the next use and the pool replaces it.
		_ = old.stmt.Close()
	}
	return st, nil
}

// forget drops text's statement after an error that says the server no
// longer runs it as prepared: a schema change altered its result (0A000,
// "cached plan must not change result type") or it is gone (26000). It is
// not closed: the connection may be in an aborted transaction; the server
// frees it with the connection.
func (c *cachingConn) forget(text string, err error) {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || (pqErr.Code != "0A000" && pqErr.Code != "26000") {
		return
	}
	if e, ok := c.byText[text]; ok {
		c.lru.Remove(e)
		delete(c.byText, text)
	}
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return send(ctx, c, query, args, c.pq().QueryContext, func(st pqStmt) (driver.Rows, error) { return st.QueryContext(ctx, args) })
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return send(ctx, c, query, args, c.pq().ExecContext, func(st pqStmt) (driver.Result, error) { return st.ExecContext(ctx, args) })
}

// send runs query through the connection's prepared statement, or through
// lib/pq's own path (direct) when it has no parameters or cannot be kept.
func send[T any](ctx context.Context, c *cachingConn, query string, args []driver.NamedValue,
	direct func(context.Context, string, []driver.NamedValue) (T, error), prepared func(pqStmt) (T, error)) (T, error) {
	if len(args) == 0 {
		stmtSimple.Add(1)
		return direct(ctx, query, args)
	}
	st, err := c.statement(ctx, query)
	if errors.Is(err, driver.ErrSkip) {
		return direct(ctx, query, args)
	}
	if err != nil {
		var none T
		return none, err
	}
	out, err := prepared(st)
	if err != nil {
		c.forget(query, err)
	}
	return out, err
}

// The rest is lib/pq's own: explicit statements (sqlx.Preparex, COPY),
// transactions, pings, the pool's health checks and argument conversion
// (pq.Array and []byte, as lib/pq does them).

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.pq().PrepareContext(ctx, query)
}
func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.pq().BeginTx(context.Background(), driver.TxOptions{})
}
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.pq().BeginTx(ctx, opts)
}
func (c *cachingConn) Close() error                                { return c.inner.Close() }
func (c *cachingConn) Ping(ctx context.Context) error              { return c.pq().Ping(ctx) }
func (c *cachingConn) ResetSession(ctx context.Context) error      { return c.pq().ResetSession(ctx) }
func (c *cachingConn) IsValid() bool                               { return c.pq().IsValid() }
func (c *cachingConn) CheckNamedValue(nv *driver.NamedValue) error { return c.pq().CheckNamedValue(nv) }
