package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/profiled/profiled/store/sqlstore"
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

// cached is a sqlstore.Querier that runs queries as the cached prepared
// statements of its pool, on the pool itself (tx nil) or in a transaction
// of it: there database/sql reuses a statement already prepared on the
// transaction's connection (Tx.StmtContext), so a transaction prepares
// nothing that an earlier one on its connection prepared.
//
// detached runs statements without watching their context once they
// start. On the read pool, whose queries are bounded (an indexed lookup,
// a page of at most MaxPageSize rows and its count), watching a context
// costs database/sql and the driver a goroutine each per query, more than
// the query itself. In a transaction that serves several callers (the
// group commit), the driver would interrupt a statement whose context
// ends, and SQLite rolls back the whole transaction of an interrupted
// write. A context already done still fails the call at once.
type cached struct {
	conn interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
	stmts    *stmtCache
	tx       *sql.Tx
	detached bool
}

// stmt returns the context to run query with and its prepared statement,
// or nil to run it unprepared.
func (c cached) stmt(ctx context.Context, query string) (context.Context, *sql.Stmt) {
	if c.detached && ctx.Err() == nil {
		ctx = context.WithoutCancel(ctx)
	}
	if c.tx == nil {
		s, err := c.stmts.get(ctx, query)
		if err != nil {
			return ctx, nil
		}
		return ctx, s
	}
	s := c.stmts.lookup(query)
	if s == nil {
		c.stmts.want(query)
		return ctx, nil
	}
	return ctx, c.tx.StmtContext(ctx, s)
}

func (c cached) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return affected(c.exec(ctx, query, args...))
}

// exec runs query prepared when it can, unprepared otherwise.
func (c cached) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx, s := c.stmt(ctx, query)
	if s != nil {
		return s.ExecContext(ctx, args...)
	}
	return c.conn.ExecContext(ctx, query, args...)
}

var _ sqlstore.IDInserter = cached{}

// ExecInsert runs an INSERT and returns the rowid it made
// (sqlstore.IDInserter).
func (c cached) ExecInsert(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func (c cached) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	ctx, s := c.stmt(ctx, query)
	if s != nil {
		return rowsOf(s.QueryContext(ctx, args...))
	}
	return rowsOf(c.conn.QueryContext(ctx, query, args...))
}

func (c cached) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	ctx, s := c.stmt(ctx, query)
	if s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return c.conn.QueryRowContext(ctx, query, args...)
}

// affected is the number of rows an Exec changed.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// rows gives *sql.Rows the Close of sqlstore.Rows; being one pointer, it
// is stored in the interface without an allocation.
type rows struct{ *sql.Rows }

func (r rows) Close() { _ = r.Rows.Close() }

func rowsOf(r *sql.Rows, err error) (sqlstore.Rows, error) {
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}
