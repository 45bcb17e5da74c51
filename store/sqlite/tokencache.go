package sqlite

import (
	"context"
	"sync/atomic"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlstore"
)

// walGenerations numbers the states of the database for the token cache
// (sqlstore.TokenCache): a new number whenever the WAL-index header
// differs from the one seen before, that is, after any commit by anyone
// (walindex_unix.go).
type walGenerations struct {
	wal  *walIndex
	last atomic.Pointer[walGeneration] // read without a lock at every request
}

type walGeneration struct {
	seen walHeader
	gen  uint64
}

// current returns the generation the database is at now, and false when
// it cannot tell (the header is being rewritten): then nothing may be
// answered from the cache nor put in it.
func (g *walGenerations) current() (uint64, bool) {
	h, ok := g.wal.header()
	if !ok {
		return 0, false
	}
	for {
		last := g.last.Load()
		if last != nil && last.seen == h {
			return last.gen, true
		}
		next := &walGeneration{seen: h, gen: 1}
		if last != nil {
			next.gen = last.gen + 1
		}
		if g.last.CompareAndSwap(last, next) {
			return next.gen, true
		}
	}
}

// cachedTokenByHash answers from cache while nothing was committed since
// the entry was read, else through lookup, remembering what it found.
func cachedTokenByHash(ctx context.Context, gens *walGenerations, cache *sqlstore.TokenCache, hash []byte,
	lookup func(context.Context, []byte) (core.Token, core.User, error)) (core.Token, core.User, error) {
	gen, ok := gens.current()
	if !ok {
		return lookup(ctx, hash)
	}
	if at, tok, u, hit := cache.Get(hash); hit && at == gen {
		return tok, u, nil
	}
	tok, u, err := lookup(ctx, hash)
	if err == nil {
		cache.Put(gen, hash, tok, u)
	}
	return tok, u, err
}
