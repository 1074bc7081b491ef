package auth

import (
	"sync"
	"time"
)

// KeyCacheTTL is how long this process trusts an API key it has checked.
// A key revoked, or a coach's settings changed, through this process take
// effect at once here; another process behind the same load balancer sees
// it within KeyCacheTTL (docs/OPERATIONS.md).
const KeyCacheTTL = 5 * time.Second

// keyCacheMax bounds the cache: past it, it starts again empty.
const keyCacheMax = 10_000

type cachedKey struct {
	coach   Coach
	keyID   int64
	expires time.Time
}

// keyCache saves the key lookup on every coach request: one statement of a
// deduction's few. It is keyed by the key's hash, never the key.
var keyCache = struct {
	sync.Mutex
	m map[string]cachedKey
}{m: map[string]cachedKey{}}

func cachedCoach(hash []byte, now time.Time) (Coach, bool) {
	keyCache.Lock()
	defer keyCache.Unlock()
	e, ok := keyCache.m[string(hash)]
	if !ok || !now.Before(e.expires) {
		return Coach{}, false
	}
	return e.coach, true
}

func cacheCoach(hash []byte, c Coach, keyID int64, now time.Time) {
	keyCache.Lock()
	defer keyCache.Unlock()
	if len(keyCache.m) >= keyCacheMax {
		keyCache.m = map[string]cachedKey{}
	}
	keyCache.m[string(hash)] = cachedKey{coach: c, keyID: keyID, expires: now.Add(KeyCacheTTL)}
}

// forgetKeys drops the cached keys of a coach (all of them when keyID is 0):
// a revocation or a change of settings is honoured at once in this process.
func forgetKeys(coachID, keyID int64) {
	keyCache.Lock()
	defer keyCache.Unlock()
	for h, e := range keyCache.m {
		if e.coach.ID == coachID && (keyID == 0 || e.keyID == keyID) {
			delete(keyCache.m, h)
		}
	}
}
