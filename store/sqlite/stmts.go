package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxCachedStmts bounds the prepared statements of one pool. The store's
// fixed queries are a few dozen; lists add one per shape of X-Filter a
// client sends, which a client chooses, so past the bound a query runs
// unprepared instead of growing the cache.
const maxCachedStmts = 128

// stmtCache prepares each query of one pool once and keeps it: SQLite
// then parses and plans it once per connection instead of at every call,
// which was most of the cost of a token check (see tools/profiled-bench).
// database/sql prepares a cached *sql.Stmt again by itself on each
// connection of the pool the first time it runs there.
//
// Preparing takes a connection of the pool, so it is never done inside a
// transaction, which holds one (the write pool has only that one): a
// transaction that meets a query not yet prepared runs it unprepared and
// leaves it pending, and the pool prepares it after the transaction.
type stmtCache struct {
	db      *sql.DB
	mu      sync.RWMutex
	m       map[string]*sql.Stmt
	pending map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// lookup returns the prepared query, or nil.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.RLock()
	s := c.m[query]
	c.mu.RUnlock()
	return s
}

// get returns the prepared query, preparing it if need be, or nil when
// the cache is full (the caller then runs the query unprepared). It must
// not be called inside a transaction of the pool.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if s := c.lookup(query); s != nil {
		return s, nil
	}
	c.mu.RLock()
	full := len(c.m) >= maxCachedStmts
	c.mu.RUnlock()
	if full {
		return nil, nil
	}
	// Prepared without the lock: preparing waits for a connection of the
	// pool, and the transaction holding it may be looking a query up.
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, query)
	if prev := c.m[query]; prev != nil || len(c.m) >= maxCachedStmts {
		s.Close() // another goroutine was first, or the cache filled meanwhile
		return prev, nil
	}
	c.m[query] = s
	return s, nil
}

// want notes a query that a transaction ran unprepared.
func (c *stmtCache) want(query string) {
	c.mu.Lock()
	if len(c.m)+len(c.pending) < maxCachedStmts {
		c.pending[query] = true
	}
	c.mu.Unlock()
}

// preparePending prepares the queries transactions wanted. It must not
// be called inside a transaction of the pool. A query that fails to
// prepare is forgotten: it runs unprepared, as before.
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.RLock()
	n := len(c.pending)
	c.mu.RUnlock()
	if n == 0 {
		return
	}
	c.mu.Lock()
	var queries []string
	for q := range c.pending {
		queries = append(queries, q)
		delete(c.pending, q)
	}
	c.mu.Unlock()
	for _, q := range queries {
		_, _ = c.get(ctx, q)
	}
}

// close finalizes every statement; the pool must not be used after.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, s := range c.m {
		errs = append(errs, s.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}

// cachedPool is a querier on the read pool that runs every query as a
// cached prepared statement.
//
// Its queries do not watch the request's context once they start: the
// read pool's queries are bounded (an indexed lookup, a page of at most
// MaxPageSize rows and its count), and watching a context costs
// database/sql and the driver a goroutine each per query, more than the
// query itself. A context already done still fails the call at once.
type cachedPool struct {
	db    *sql.DB
	stmts *stmtCache
}

// detach returns ctx without its cancellation, or ctx's error if it is
// done.
func detach(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return ctx, err
	}
	return context.WithoutCancel(ctx), nil
}

func (p cachedPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx, err := detach(ctx)
	if err != nil {
		return nil, err
	}
	s, err := p.stmts.get(ctx, query)
	if err != nil || s == nil {
		return p.db.ExecContext(ctx, query, args...)
	}
	return s.ExecContext(ctx, args...)
}

func (p cachedPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx, err := detach(ctx)
	if err != nil {
		return nil, err
	}
	s, err := p.stmts.get(ctx, query)
	if err != nil || s == nil {
		return p.db.QueryContext(ctx, query, args...)
	}
	return s.QueryContext(ctx, args...)
}

func (p cachedPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	// A done context reaches the driver as it is, which fails the query
	// at once: *sql.Row cannot be made with an error from outside.
	if ctx.Err() == nil {
		ctx = context.WithoutCancel(ctx)
	}
	s, err := p.stmts.get(ctx, query)
	if err != nil || s == nil {
		return p.db.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// cachedTx is a querier in a transaction of a pool whose statements are
// cached: database/sql reuses a statement already prepared on the
// transaction's connection (Tx.StmtContext), so a transaction prepares
// nothing that an earlier one on its connection prepared.
//
// detached runs statements without watching their context once they
// start, as cachedPool does, for a transaction that serves several
// callers (the group commit): the driver interrupts a statement whose
// context ends, and SQLite rolls back the whole transaction of an
// interrupted write. A context already done still fails the statement.
type cachedTx struct {
	tx       *sql.Tx
	stmts    *stmtCache
	detached bool
}

func (t cachedTx) context(ctx context.Context) context.Context {
	if t.detached && ctx.Err() == nil {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (t cachedTx) stmt(ctx context.Context, query string) *sql.Stmt {
	s := t.stmts.lookup(query)
	if s == nil {
		t.stmts.want(query)
		return nil
	}
	return t.tx.StmtContext(ctx, s)
}

func (t cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.context(ctx)
	if s := t.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.context(ctx)
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = t.context(ctx)
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}
