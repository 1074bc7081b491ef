package auth

import "time"

// The API-key cache spares a valid key's request its authentication
// statement. Each process remembers, for KeyCacheTTL, the Coach a key sent
// from an address was found to be (the key valid, the address not blocked),
// and forgets everything the moment PostgreSQL says something it may hold
// changed: triggers (migration 00049) NOTIFY carnet_auth when a key is
// revoked or deleted, a coach's columns or preferences change, or an address
// is newly blocked, whoever wrote it. The cache answers only while this
// process's listener has proved, within proofMaxAge, that notifications
// reach it (a heartbeat NOTIFY it sends itself comes back after every
// notification committed before it); otherwise every request checks the
// database, as without a cache (docs/OPERATIONS.md).
const (
	// KeyCacheTTL is how long a checked key is trusted without a word from
	// the database: a bound in case a change escapes the triggers.
	KeyCacheTTL = 5 * time.Second
	// keyCacheMax bounds the entries (key and address pairs); past it the
	// cache starts again empty.
	keyCacheMax = 10_000
	// heartbeatEvery is how often the listener's delivery is proved, and
	// proofMaxAge how old the last proof may be for the cache to answer: a
	// listener whose connection died without a word (no reset from the
	// network) stops the cache within proofMaxAge.
	heartbeatEvery = time.Second
	proofMaxAge    = 3 * time.Second
)

// keyEntries is the cache's memory: entries by key hash and address, with
// a generation that every flush advances, so that a lookup begun before a
// flush never stores what it read (it may predate the change).
type keyEntries struct {
	m   map[string]keyEntry
	gen uint64
}

type keyEntry struct {
	coach   Coach
	expires time.Time
}

// cacheKey is what an entry is filed under: the key's hash (never the key)
// and the address it came from, since the throttle's block is per address.
func cacheKey(hash []byte, addr string) string { return string(hash) + "\x00" + addr }

// get returns the entry's Coach while it has not expired at now.
func (e *keyEntries) get(k string, now time.Time) (Coach, bool) {
	en, ok := e.m[k]
	if !ok || !now.Before(en.expires) {
		return Coach{}, false
	}
	return en.coach, true
}

// put stores c, read at generation gen, until now+KeyCacheTTL; it stores
// nothing when a flush came since (and says so).
func (e *keyEntries) put(k string, c Coach, gen uint64, now time.Time) bool {
	if gen != e.gen {
		return false
	}
	if e.m == nil || len(e.m) >= keyCacheMax {
		e.m = make(map[string]keyEntry)
	}
	e.m[k] = keyEntry{coach: c, expires: now.Add(KeyCacheTTL)}
	return true
}

// flush forgets every entry and outdates the lookups in flight.
func (e *keyEntries) flush() {
	e.m = nil
	e.gen++
}

// proven says whether a heartbeat sent at provenAt (zero: none since the
// listener connected) is recent enough at now for the cache to answer. A
// clock gone backwards proves nothing.
func proven(provenAt, now time.Time) bool {
	age := now.Sub(provenAt)
	return !provenAt.IsZero() && age >= 0 && age < proofMaxAge
}
