package sqlite

import (
	"context"
	"slices"
	"sync"

	"github.com/profiled/profiled/core"
)

// tokenCacheSize bounds the tokens remembered between commits; past it the
// cache starts again empty. 65,536 entries are about 50 MB at most (a
// token and its user, with their strings).
const tokenCacheSize = 1 << 16

// tokenCache remembers what TokenByHash found, for as long as nothing at
// all has been committed to the database since: every entry is tagged with
// the generation of the WAL-index header seen before its query, and any
// new header, whoever committed, starts a new generation. A revoked token,
// a disabled user or a changed profile is therefore never answered from
// memory once its transaction has committed, in this process or any other
// (issue 16). Misses are not remembered: an unknown token costs a query
// every time, so no flood of made-up tokens fills memory.
type tokenCache struct {
	wal *walIndex

	mu      sync.RWMutex
	seen    walHeader
	gen     uint64
	entries map[[32]byte]tokenEntry
}

type tokenEntry struct {
	gen  uint64
	tok  core.Token
	user core.User
}

func newTokenCache(wal *walIndex) *tokenCache {
	return &tokenCache{wal: wal, entries: make(map[[32]byte]tokenEntry)}
}

// generation returns the generation the database is at now, and false when
// it cannot tell (the header is being rewritten): then nothing may be
// answered from the cache nor put in it.
func (c *tokenCache) generation() (uint64, bool) {
	h, ok := c.wal.header()
	if !ok {
		return 0, false
	}
	c.mu.RLock()
	seen, gen := c.seen, c.gen
	c.mu.RUnlock()
	if h == seen {
		return gen, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h != c.seen {
		c.seen = h
		c.gen++
	}
	return c.gen, true
}

// tokenByHash answers from the cache when it can, else through lookup,
// remembering what lookup found.
func (c *tokenCache) tokenByHash(ctx context.Context, hash []byte,
	lookup func(context.Context, []byte) (core.Token, core.User, error)) (core.Token, core.User, error) {
	if len(hash) != 32 {
		return lookup(ctx, hash)
	}
	key := [32]byte(hash)
	gen, ok := c.generation()
	if !ok {
		return lookup(ctx, hash)
	}
	c.mu.RLock()
	e, hit := c.entries[key]
	c.mu.RUnlock()
	if hit && e.gen == gen {
		return e.tok, withOwnKeys(e.user), nil
	}
	tok, u, err := lookup(ctx, hash)
	if err != nil {
		return tok, u, err
	}
	c.mu.Lock()
	// Only if nothing was committed since gen was read: a lookup that
	// began before a commit may have read the data it changed.
	if c.gen == gen {
		if len(c.entries) >= tokenCacheSize {
			clear(c.entries)
		}
		c.entries[key] = tokenEntry{gen: gen, tok: tok, user: withOwnKeys(u)}
	}
	c.mu.Unlock()
	return tok, u, nil
}

// withOwnKeys gives u a slice of authorized keys of its own, so that no
// caller can change what the cache hands to the next one. An empty list
// costs nothing.
func withOwnKeys(u core.User) core.User {
	u.AuthorizedKeys = slices.Clone(u.AuthorizedKeys)
	return u
}
