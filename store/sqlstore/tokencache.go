package sqlstore

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/profiled/profiled/core"
)

// tokenCacheSize bounds the tokens a TokenCache remembers; past it the
// cache starts again empty. 65,536 entries are about 50 MB at most (a
// token and its user, with their strings).
const tokenCacheSize = 1 << 16

// TokenCache remembers what TokenByHash found, each entry tagged with the
// generation of the database it was read at. What a generation is belongs
// to the engine: a number that changes whenever a commit may have changed
// a token or a user (store/sqlite: the WAL-index header; store/postgres: a
// notification of its triggers). An entry is good only while the
// generation is still the one it was read at, so a revoked token, a
// disabled user or an edited profile is never answered from memory once
// its change is committed (issue 16). The generation must be read before
// the lookup it tags: then a commit during the lookup ends it. Misses are
// not remembered, so made-up tokens cannot fill memory.
type TokenCache struct {
	// A sync.Map: a hit reads it without writing any shared memory, where
	// a read lock made the two cores of the benchmark machine trade one
	// cache line at every request.
	entries sync.Map // [32]byte -> *tokenEntry
	size    atomic.Int64
}

type tokenEntry struct {
	gen  uint64
	tok  core.Token
	user core.User
}

// NewTokenCache returns an empty cache.
func NewTokenCache() *TokenCache { return &TokenCache{} }

// Get returns what was remembered for hash and the generation it was read
// at; the caller decides whether that generation is still current.
func (c *TokenCache) Get(hash []byte) (gen uint64, tok core.Token, u core.User, ok bool) {
	if len(hash) != 32 {
		return 0, core.Token{}, core.User{}, false
	}
	v, ok := c.entries.Load([32]byte(hash))
	if !ok {
		return 0, core.Token{}, core.User{}, false
	}
	e := v.(*tokenEntry)
	return e.gen, e.tok, withOwnKeys(e.user), true
}

// Put remembers what a lookup of hash found at generation gen.
func (c *TokenCache) Put(gen uint64, hash []byte, tok core.Token, u core.User) {
	if len(hash) != 32 {
		return
	}
	if c.size.Load() >= tokenCacheSize {
		c.entries.Clear()
		c.size.Store(0)
	}
	if _, loaded := c.entries.Swap([32]byte(hash), &tokenEntry{gen: gen, tok: tok, user: withOwnKeys(u)}); !loaded {
		c.size.Add(1)
	}
}

// withOwnKeys gives u a slice of authorized keys of its own, so that no
// caller can change what the cache hands to the next one. An empty list
// costs nothing.
func withOwnKeys(u core.User) core.User {
	u.AuthorizedKeys = slices.Clone(u.AuthorizedKeys)
	return u
}
