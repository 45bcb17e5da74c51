package sqlite

import (
	"context"
	"sync/atomic"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlstore"
)

// walGenerations numbers the states of the database for the token cache
// (sqlstore.TokenCache). The number is the auth generation (migration
// 00100), which every change of a token or a user raises; the WAL-index
// header (walindex_unix.go), which every commit by anyone rewrites, says
// when to read it again. So a request pays 24 memory loads while nothing
// was committed, one small query after a commit, and a token lookup only
// when a token or a user changed.
type walGenerations struct {
	wal  *walIndex
	auth func(context.Context) (uint64, error) // reads auth_generation.n
	last atomic.Pointer[walGeneration]         // read without a lock at every request
}

type walGeneration struct {
	seen walHeader
	gen  uint64
}

// current returns the generation the database is at now, and false when
// it cannot tell (the header is being rewritten, or the query failed):
// then nothing may be answered from the cache nor put in it.
func (g *walGenerations) current(ctx context.Context) (uint64, bool) {
	h, ok := g.wal.header()
	if !ok {
		return 0, false
	}
	last := g.last.Load()
	if last != nil && last.seen == h {
		return last.gen, true
	}
	// The header is read before the number: the number is then at least
	// what it was at that header, so a request that later sees this
	// header again answers nothing a change before it has ended. A commit
	// in between only makes the number newer than the header, and the
	// next request, seeing another header, reads it again.
	n, err := g.auth(ctx)
	if err != nil {
		return 0, false
	}
	// Not over a newer pair that another request stored meanwhile.
	g.last.CompareAndSwap(last, &walGeneration{seen: h, gen: n})
	return n, true
}

// cachedTokenByHash answers from cache while no token or user has changed
// since the entry was read, else through lookup, remembering what it found.
func cachedTokenByHash(ctx context.Context, gens *walGenerations, cache *sqlstore.TokenCache, hash []byte,
	lookup func(context.Context, []byte) (core.Token, core.User, error)) (core.Token, core.User, error) {
	gen, ok := gens.current(ctx)
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
