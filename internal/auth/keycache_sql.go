package auth

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// authChannel is where migration 00049's triggers NOTIFY.
const authChannel = "carnet_auth"

// KeyCache is one process's cache of checked API keys (keycache.go says
// what it holds and when it answers). It adds two connections to the
// database: its listener's and its heartbeats'.
type KeyCache struct {
	d   *sqlx.DB
	dsn string
	// beats sends the heartbeats on a connection of their own: on the
	// request pool, a heartbeat waiting behind a busy pool would turn the
	// cache off, adding a statement to every request, when load is highest.
	beats *sqlx.DB
	now   func() time.Time
	log   *slog.Logger
	// Observe, when set, counts each key lookup: "hit" (answered from
	// memory), "miss" (checked in the database, then remembered), "bypass"
	// (checked in the database because the listener has no recent proof).
	Observe func(result string)

	heartbeats string // this cache's own channel, for the heartbeats it sends itself

	mu          sync.Mutex
	entries     keyEntries
	provenAt    time.Time            // when the last heartbeat that came back was sent
	sent        map[uint64]time.Time // heartbeats not back yet, by sequence number
	seq, heard  uint64               // the last heartbeat sent, the last one back
	disconnects int                  // listener connections lost so far

	listener *pq.Listener
	stop     context.CancelFunc
	kick     chan struct{} // a heartbeat now (the listener just connected)
	done     sync.WaitGroup
}

// caches finds a pool's key cache, so that what changes a key, a coach or a
// block through that pool flushes it at once, without waiting for its own
// notification (a process has one pool and one cache).
var caches sync.Map // *sqlx.DB → *KeyCache

// NewKeyCache makes the key cache of pool d, whose listener will connect to
// dsn. Until Start, and whenever its listener cannot prove that it hears the
// database, every key is checked in the database.
func NewKeyCache(d *sqlx.DB, dsn string, now func() time.Time, log *slog.Logger) *KeyCache {
	if log == nil {
		log = slog.Default()
	}
	k := &KeyCache{d: d, dsn: dsn, now: now, log: log, heartbeats: authChannel + "_" + randomToken(8),
		sent: map[uint64]time.Time{}, kick: make(chan struct{}, 1)}
	caches.Store(d, k)
	return k
}

func cacheOf(d *sqlx.DB) *KeyCache {
	k, _ := caches.Load(d)
	c, _ := k.(*KeyCache)
	return c
}

// forgetLocal flushes the cache of pool d, if it has one.
func forgetLocal(d *sqlx.DB) {
	if k := cacheOf(d); k != nil {
		k.flush()
	}
}

// coachByKey authenticates key from addr, through d's key cache when it has
// one.
func coachByKey(ctx context.Context, d *sqlx.DB, key, addr string, now time.Time) (Coach, error) {
	if k := cacheOf(d); k != nil {
		return k.coach(ctx, key, addr, now)
	}
	return coachByKeyFrom(ctx, d, key, addr, now)
}

// coach answers from memory when it can, else from the database, and
// remembers a success unless a flush came while it was being read.
func (k *KeyCache) coach(ctx context.Context, key, addr string, now time.Time) (Coach, error) {
	ck := cacheKey(hashKey(key), addr)
	k.mu.Lock()
	at := k.now()
	usable := proven(k.provenAt, at)
	gen := k.entries.gen
	c, hit := k.entries.get(ck, at)
	k.mu.Unlock()
	switch {
	case usable && hit:
		k.observe("hit")
		return c, nil
	case usable:
		k.observe("miss")
	default:
		k.observe("bypass")
	}
	c, err := coachByKeyFrom(ctx, k.d, key, addr, now)
	if err == nil && usable {
		k.mu.Lock()
		if at := k.now(); proven(k.provenAt, at) {
			k.entries.put(ck, c, gen, at)
		}
		k.mu.Unlock()
	}
	return c, err
}

// Answering says whether the cache answers from memory now: its listener
// is connected and its last heartbeat came back less than proofMaxAge ago.
func (k *KeyCache) Answering() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return proven(k.provenAt, k.now())
}

func (k *KeyCache) observe(result string) {
	if k.Observe != nil {
		k.Observe(result)
	}
}

func (k *KeyCache) flush() {
	k.mu.Lock()
	k.entries.flush()
	k.mu.Unlock()
}

// Start connects the listener (in the background: serving does not wait for
// it) and sends the heartbeats. Close stops both.
func (k *KeyCache) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	k.stop = cancel
	k.listener = pq.NewListener(k.dsn, 250*time.Millisecond, 10*time.Second, k.event)
	beats, err := sqlx.Open("postgres", k.dsn) // only parses the DSN the pool was opened with
	if err != nil {
		k.log.Error("key cache: no heartbeats, every key is checked in the database", "err", err)
	} else {
		beats.SetMaxOpenConns(1)
		beats.SetMaxIdleConns(1)
		k.beats = beats
	}
	k.done.Add(3)
	go func() {
		defer k.done.Done()
		for n := range k.listener.Notify {
			k.notified(n)
		}
	}()
	go func() {
		defer k.done.Done()
		// The changes' channel first: a heartbeat heard proves it is listened to.
		for _, channel := range []string{authChannel, k.heartbeats} {
			if err := k.listener.Listen(channel); err != nil {
				if !errors.Is(err, net.ErrClosed) {
					k.log.Error("key cache: cannot listen, every key is checked in the database", "err", err)
				}
				return
			}
		}
		k.beatNow()
	}()
	go func() {
		defer k.done.Done()
		if k.beats != nil {
			k.heartbeat(ctx)
		}
	}()
}

// Close stops the listener and the heartbeats, and leaves every key to the
// database.
func (k *KeyCache) Close() error {
	caches.CompareAndDelete(k.d, k)
	if k.stop == nil {
		return nil
	}
	k.stop()
	err := k.listener.Close()
	waited := make(chan struct{})
	go func() { k.done.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second): // a connection attempt that hangs ends on its own
	}
	if k.beats != nil {
		_ = k.beats.Close()
	}
	k.mu.Lock()
	k.provenAt = time.Time{}
	k.entries.flush()
	k.mu.Unlock()
	return err
}

// notified handles what the listener hears, in the order PostgreSQL sent
// it: a heartbeat proves every change committed before it was sent has been
// heard; anything else (a change, or nil after a reconnection: some may have
// been missed) flushes.
func (k *KeyCache) notified(n *pq.Notification) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if n == nil || n.Channel != k.heartbeats {
		k.entries.flush()
		return
	}
	seq, err := strconv.ParseUint(n.Extra, 10, 64)
	at, ok := k.sent[seq]
	if err != nil || !ok {
		return // sent before the connection it came on was lost
	}
	if at.After(k.provenAt) {
		k.provenAt = at
	}
	k.heard = max(k.heard, seq)
	for s := range k.sent {
		if s <= seq {
			delete(k.sent, s)
		}
	}
}

// event follows the listener's connection: once lost, the cache stops
// answering (its proof and the heartbeats in flight are dropped, since
// notifications may be lost with it) and is flushed; once connected again it
// is flushed again (what was read meanwhile may have missed a change) and
// answers as soon as a heartbeat comes back.
func (k *KeyCache) event(ev pq.ListenerEventType, err error) {
	k.mu.Lock()
	switch ev {
	case pq.ListenerEventDisconnected:
		k.provenAt = time.Time{}
		clear(k.sent)
		k.entries.flush()
		k.disconnects++
	case pq.ListenerEventReconnected:
		k.entries.flush()
	}
	k.mu.Unlock()
	switch ev {
	case pq.ListenerEventDisconnected, pq.ListenerEventConnectionAttemptFailed:
		k.log.Warn("key cache: listener not connected, every key is checked in the database", "event", ev.String(), "err", err)
	case pq.ListenerEventReconnected:
		k.log.Info("key cache: listener connected again")
		k.beatNow()
	}
}

func (k *KeyCache) beatNow() {
	select {
	case k.kick <- struct{}{}:
	default:
	}
}

// heartbeat sends a NOTIFY on the cache's own channel every heartbeatEvery
// (one short statement a second, on the cache's own connection).
func (k *KeyCache) heartbeat(ctx context.Context) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-k.kick:
		}
		k.mu.Lock()
		k.seq++
		seq := k.seq
		if len(k.sent) >= 16 { // lost while the listener was away
			clear(k.sent)
		}
		k.sent[seq] = k.now()
		k.mu.Unlock()
		bctx, cancel := context.WithTimeout(ctx, heartbeatEvery)
		_, err := k.beats.ExecContext(bctx, `SELECT pg_notify($1, $2)`, k.heartbeats, strconv.FormatUint(seq, 10))
		cancel()
		if err != nil && ctx.Err() == nil {
			k.log.Debug("key cache: heartbeat not sent", "err", err)
		}
	}
}
