// Package postgres implements core.Store on PostgreSQL, the backend for
// running several replicas of profiled against one database.
//
// Queries go through a pgx connection pool (pgxpool) with pgx's statement
// cache; only the migrations use database/sql, because goose needs it.
// Every Update is one READ COMMITTED transaction. Rules that read before
// they write call Tx.LockUser first, which takes the user's row lock
// (SELECT ... FOR UPDATE), so the same rule running on two replicas for one
// user runs one after the other. A transaction that PostgreSQL aborts with
// a serialization failure or a deadlock is run again from the start, a
// bounded number of times.
//
// The semantics are those of store/sqlite, checked by store/storetest: a
// statement that fails (a duplicate, a reference to a missing row) fails
// alone, as in SQLite, instead of aborting the whole transaction, because
// every write that can violate a constraint runs under a savepoint.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/profiled/profiled/core"
)

// Options tunes the connection pool. Zero values take the DSN's setting
// where it has one (pool_max_conns, pool_min_conns, connect_timeout,
// statement_timeout) and the defaults below otherwise.
type Options struct {
	// MaxConns bounds the pool; 0 means the DSN's pool_max_conns or
	// pgxpool's default, the larger of 4 and the number of CPUs.
	MaxConns int32
	// MinConns is how many idle connections the pool keeps open; 0 means
	// the DSN's pool_min_conns or none.
	MinConns int32
	// ConnectTimeout bounds dialing one connection; 0 means the DSN's
	// connect_timeout or DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// StatementTimeout is PostgreSQL's statement_timeout on every
	// connection of the pool, which also bounds how long a statement
	// waits for a row lock; 0 means the DSN's statement_timeout or
	// DefaultStatementTimeout. Migrations run without it.
	StatementTimeout time.Duration
	// Migrate applies pending migrations in Open.
	Migrate bool
}

// Defaults of Options.
const (
	DefaultConnectTimeout   = 5 * time.Second
	DefaultStatementTimeout = 30 * time.Second
)

// updateAttempts bounds how often Update runs fn when PostgreSQL aborts
// the transaction with a serialization failure or a deadlock.
const updateAttempts = 5

// Store is a core.Store on a PostgreSQL database. Its Reader methods read
// committed data through the pool; reads that must see a transaction's own
// writes go through the core.Tx that Update passes to fn.
type Store struct {
	reader
	pool *pgxpool.Pool
}

var _ core.Store = (*Store)(nil)

// Open connects to the database named by dsn, a postgres:// or
// postgresql:// URL. The schema the store lives in is chosen the usual
// way, with a search_path parameter in the DSN
// (postgres://host/db?search_path=profiled); the schema must exist. With
// opts.Migrate, Open applies pending migrations; it fails either way if
// the database cannot be reached.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	scheme, rest, ok := strings.Cut(dsn, "://")
	scheme = strings.ToLower(scheme) // URL schemes are case-insensitive; pgx wants lower case
	if !ok || (scheme != "postgres" && scheme != "postgresql") {
		return nil, errors.New("postgres: the DSN must be a postgres:// or postgresql:// URL")
	}
	dsn = scheme + "://" + rest
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgconn's parse errors can repeat the DSN, password included.
		return nil, errors.New("postgres: the DSN is not a valid connection URL")
	}
	if opts.MaxConns < 0 || opts.MinConns < 0 || opts.ConnectTimeout < 0 || opts.StatementTimeout < 0 {
		return nil, errors.New("postgres: Options may not be negative")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.MinConns > 0 {
		cfg.MinConns = opts.MinConns
	}
	if cfg.MinConns > cfg.MaxConns {
		return nil, fmt.Errorf("postgres: MinConns %d exceeds MaxConns %d", cfg.MinConns, cfg.MaxConns)
	}
	switch {
	case opts.ConnectTimeout > 0:
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	case cfg.ConnConfig.ConnectTimeout == 0:
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	switch {
	case opts.StatementTimeout > 0:
		// In whole milliseconds, at least one: 0 would turn the timeout off.
		ms := max(1, opts.StatementTimeout.Milliseconds())
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(ms, 10)
	case cfg.ConnConfig.RuntimeParams["statement_timeout"] == "":
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(DefaultStatementTimeout.Milliseconds(), 10)
	}

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{reader: reader{q: pool}, pool: pool}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if opts.Migrate {
		if err := s.Migrate(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return s, nil
}

// Ping runs a query on a pooled connection.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// PoolStat reports on the connection pool, for the metrics.
func (s *Store) PoolStat() *pgxpool.Stat { return s.pool.Stat() }

// Close closes every connection of the pool, waiting for those in use.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Update runs fn in one READ COMMITTED transaction and commits it if fn
// returns nil; otherwise it rolls back and returns fn's error unchanged.
// When PostgreSQL aborts the transaction with a serialization failure
// (40001) or a deadlock (40P01), at any statement or at commit, the whole
// transaction runs again, up to updateAttempts in all, after a short
// jittered pause; fn's result from an aborted run is discarded even if fn
// swallowed the error.
//
// fn must use only the Tx it is given: the Store's own Reader methods do
// not see the transaction's writes.
func (s *Store) Update(ctx context.Context, fn func(core.Tx) error) error {
	for attempt := 1; ; attempt++ {
		retry, err := s.update(ctx, fn)
		if !retry || attempt == updateAttempts {
			return err
		}
		// 10ms, 20ms, 40ms, 80ms, each plus up to as much again at random,
		// so two transactions that collided do not collide again.
		base := 10 * time.Millisecond << (attempt - 1)
		pause := base + rand.N(base)
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}
	}
}

// update makes one attempt of Update. retry reports that PostgreSQL
// aborted the transaction in a way that running it again can cure.
func (s *Store) update(ctx context.Context, fn func(core.Tx) error) (retry bool, err error) {
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return false, fmt.Errorf("postgres: begin: %w", err)
	}
	done := false
	// Deferred so that a panic in fn also ends the transaction and
	// returns the connection.
	defer func() {
		if !done {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = pgTx.Rollback(rctx)
		}
	}()
	state := &txState{}
	fnErr := fn(tx{reader: reader{q: pgTx, state: state}, pgTx: pgTx})
	if state.retryErr != nil {
		if fnErr == nil {
			fnErr = state.retryErr
		}
		return true, fnErr
	}
	if fnErr != nil {
		return false, fnErr
	}
	done = true
	if err := pgTx.Commit(ctx); err != nil {
		return retryable(err), fmt.Errorf("postgres: commit: %w", err)
	}
	return false, nil
}

// txState is shared by the values of one transaction's tx.
type txState struct {
	// retryErr is the first serialization failure or deadlock a
	// statement of the transaction met.
	retryErr error
}

// querier is what the pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// reader implements core.Reader on the pool or inside a transaction.
type reader struct {
	q     querier
	state *txState // nil on the pool
}

// tx implements core.Tx inside one transaction of Update.
type tx struct {
	reader
	pgTx pgx.Tx
}

var _ core.Tx = tx{}

// SQLSTATEs the store maps or retries.
const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

// retryable reports whether err is PostgreSQL aborting a transaction that
// may well succeed if run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == serializationFailure || pe.Code == deadlockDetected)
}

// err turns a driver error into the store's contract: ErrNotFound for a
// missing row or a reference to one (a foreign key naming a user or an
// authorization that is not there), ErrDuplicate for a unique violation,
// and anything else wrapped with what was being done. Inside a
// transaction it also notes an error that calls for running it again.
func (r reader) err(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return core.ErrNotFound
	}
	if r.state != nil && r.state.retryErr == nil && retryable(err) {
		r.state.retryErr = fmt.Errorf("postgres: %s: %w", op, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case uniqueViolation:
			return core.ErrDuplicate
		case foreignKeyViolation:
			return core.ErrNotFound
		}
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// affectedOne maps a change that touched no row to ErrNotFound: the row is
// absent or belongs to another user, which callers must not tell apart.
func (r reader) affectedOne(op string, tag pgconn.CommandTag, err error) error {
	if err != nil {
		return r.err(op, err)
	}
	if tag.RowsAffected() == 0 {
		return core.ErrNotFound
	}
	return nil
}

// savepoint names the savepoint of guarded writes. Reusing one name is
// fine: each guarded write releases or rolls back its own before the next.
const savepoint = "profiled_write"

// stmt is one statement of a guarded write. scan reads its one row of
// RETURNING; without scan, the statement's command tag is kept.
type stmt struct {
	sql  string
	args []any
	scan func(pgx.Row) error
}

// write runs statements that may violate a constraint under a savepoint,
// so that their failure leaves the transaction usable and as it was
// before them, as a failed statement does in SQLite. The savepoint, the
// statements and the release go to the server in one round trip. It
// returns the command tag of the last statement without scan.
func (t tx) write(ctx context.Context, op string, stmts ...stmt) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	b := &pgx.Batch{}
	b.Queue("SAVEPOINT " + savepoint)
	for _, s := range stmts {
		q := b.Queue(s.sql, s.args...)
		if s.scan != nil {
			q.QueryRow(s.scan)
		} else {
			q.Exec(func(ct pgconn.CommandTag) error { tag = ct; return nil })
		}
	}
	b.Queue("RELEASE SAVEPOINT " + savepoint)
	err := t.pgTx.SendBatch(ctx, b).Close()
	if err == nil {
		return tag, nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// The server refused a statement, and the transaction is
		// aborted until it returns to the savepoint. If the refusal
		// came before the savepoint existed, this fails too and the
		// transaction stays aborted, as it was already.
		_, _ = t.pgTx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+savepoint+"; RELEASE SAVEPOINT "+savepoint)
	}
	return tag, t.err(op, err)
}

// storable reports whether PostgreSQL can hold s in a text column: valid
// UTF-8 without NUL. A lookup by a string it cannot hold finds nothing,
// and is answered so without asking the server, which would refuse it
// with an error (and abort the transaction).
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// Times are written truncated to whole seconds, as SQLite's unix seconds
// keep them, and returned in UTC.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// nullTS writes a nil time, meaning "never", as NULL.
func nullTS(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ts(*t)
	return &v
}

// fromNullTS returns a nullable time read from the database in UTC.
func fromNullTS(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

// nonEmpty reads and writes a zero-length secret as nil (NULL), so callers
// can test secrets with == nil whatever was stored.
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
