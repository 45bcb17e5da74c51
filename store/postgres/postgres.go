// Package postgres implements core.Store on PostgreSQL, the backend for
// running several replicas of profiled against one database.
//
// The statements are store/sqlstore's, their ? placeholders numbered here
// ($1, $2, ...). Queries go through a pgx connection pool (pgxpool) with
// pgx's statement cache; only the migrations use database/sql, because
// goose needs it.
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
// every write that can violate a constraint runs under a savepoint, or,
// as the transaction's first statement, begins it again when it fails.
// A transaction's statements go to the server in as few round trips as
// their results allow (pipeline.go).
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlstore"
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

	// dial, when set, opens the pool's connections (tests count what
	// goes over them).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
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
	sqlstore.Reader
	pool *pgxpool.Pool
	auth *authWatch // by WatchTokens; nil: every token is looked up
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

	if opts.dial != nil {
		cfg.ConnConfig.DialFunc = opts.dial
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{Reader: sqlstore.NewReader(pgQuerier{pool}, &dialect), pool: pool}
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

// PoolStat reports on the connection pool, for the metrics.
func (s *Store) PoolStat() *pgxpool.Stat { return s.pool.Stat() }

// Close closes every connection of the pool, waiting for those in use.
func (s *Store) Close() error {
	if s.auth != nil {
		s.auth.close()
	}
	s.pool.Close()
	return nil
}

// WatchTokens makes TokenByHash answer from memory what no replica has
// changed since (authwatch.go), at the cost of one more connection. A
// server calls it once, after migrating; short-lived commands need not.
// It returns once the watcher listens, or after the pool's connect
// timeout: until then, and whenever its connection is down, every token
// is looked up.
func (s *Store) WatchTokens(ctx context.Context) error {
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if v < authWatchVersion {
		return fmt.Errorf("postgres: the schema is at version %d; watching tokens needs %d", v, authWatchVersion)
	}
	s.auth = newAuthWatch(s.pool.Config().ConnConfig)
	s.auth.start()
	wait := time.NewTimer(s.pool.Config().ConnConfig.ConnectTimeout)
	defer wait.Stop()
	select {
	case <-s.auth.ready:
	case <-wait.C:
	case <-ctx.Done():
	}
	return nil
}

// TokenByHash is the hot path of every request (core.Reader).
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (core.Token, core.User, error) {
	if s.auth == nil {
		return s.Reader.TokenByHash(ctx, hash)
	}
	return s.auth.tokenByHash(ctx, hash, s.Reader.TokenByHash)
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
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: begin: %w", err)
	}
	// Released last: a connection left inside a transaction (a rollback
	// that failed) is closed by the pool instead of reused.
	defer conn.Release()
	p := &pipeTx{conn: conn}
	done := false
	// Deferred so that a panic in fn also ends the transaction.
	defer func() {
		if !done {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = p.rollback(rctx)
		}
	}()
	t := tx{Tx: sqlstore.NewTx(p, &dialect), p: p}
	fnErr := fn(t)
	if retryErr := t.RetryErr(); retryErr != nil {
		if fnErr == nil {
			fnErr = retryErr
		}
		return true, fnErr
	}
	if fnErr != nil {
		return false, fnErr
	}
	if err := p.commit(ctx); err != nil {
		return retryable(err), t.Err("commit", err)
	}
	done = true
	return false, nil
}

// dialect is PostgreSQL's: native timestamptz and boolean, usernames
// compared through the lower() their unique index holds, row locks for the
// rules that read before they write, and SKIP LOCKED for the outbox.
var dialect = sqlstore.Dialect{
	Name:     "postgres",
	Contains: func(col, ph string) string { return "strpos(" + col + ", " + ph + ") > 0" },
	// Times are compared and kept in whole seconds, as SQLite keeps them.
	Time:       func(t time.Time) any { return t.UTC().Truncate(time.Second) },
	EqualFold:  func(col string) string { return "lower(" + col + ") = lower(?)" },
	Limit:      "LIMIT ? OFFSET ?",
	ForUpdate:  " FOR UPDATE",
	SkipLocked: " FOR UPDATE SKIP LOCKED",
	Classify:   classify,
	Retryable:  retryable,
}

// SQLSTATEs the store maps or retries.
const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	checkViolation       = "23514"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

// retryable reports whether err is PostgreSQL aborting a transaction that
// may well succeed if run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == serializationFailure || pe.Code == deadlockDetected)
}

// classify maps a missing row or a reference to one (a foreign key naming
// a user or an authorization that is not there) to ErrNotFound, a
// unique violation to ErrDuplicate, and a quota guard's refusal to
// ErrOverQuota.
func classify(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return core.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case uniqueViolation:
			return core.ErrDuplicate
		case foreignKeyViolation:
			return core.ErrNotFound
		case checkViolation:
			if pe.ConstraintName == "over_quota" {
				return core.ErrOverQuota // a quota guard (sqlstore's HoldQuota)
			}
		}
	}
	return nil
}

// pgQuerier runs the store's statements on the pool or in a transaction
// (pgx.Tx), their ? placeholders numbered as PostgreSQL wants them.
type pgQuerier struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
}

func (p pgQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := p.q.Exec(ctx, numbered(query), args...)
	return tag.RowsAffected(), err
}

func (p pgQuerier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return p.q.Query(ctx, numbered(query), args...)
}

func (p pgQuerier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return p.q.QueryRow(ctx, numbered(query), args...)
}

// savepoint names the savepoint of guarded writes. Reusing one name is
// fine: each guarded write releases or rolls back its own before the next.
const savepoint = "profiled_write"

// tx is the store's transaction, with what PostgreSQL does better alone.
type tx struct {
	sqlstore.Tx
	p *pipeTx
}

// PutPreferences sends the value, which may be 100 MB, through pgconn,
// which copies it once, into the message it sends: pgx's own batch would
// copy it twice (encoding the parameter, then the message), and
// string(value) once more. It keeps the contract of a guarded write as
// pipeTx.Write does: as the transaction's first statement it goes with
// BEGIN (one round trip, not two), otherwise under a savepoint.
func (t tx) PutPreferences(ctx context.Context, userID int64, clientID string, value json.RawMessage) error {
	if len(t.p.deferred) > 0 {
		if err := t.p.flush(ctx); err != nil {
			return t.Err("put preferences", err)
		}
	}
	if t.p.failed != nil {
		return t.Err("put preferences", t.p.failed)
	}
	first := t.p.untouched()
	b := &pgconn.Batch{}
	if first {
		b.ExecParams(beginSQL, nil, nil, nil, nil)
	} else {
		b.ExecParams("SAVEPOINT "+savepoint, nil, nil, nil, nil)
	}
	user := strconv.AppendInt(nil, userID, 10)
	// The user's row lock first, in the same round trip: the quota guard
	// that follows (HoldPreferenceBytes) then counts every other write
	// to the user's preferences, and writers with and without If-Match
	// (which locks the user before it reads) lock in the same order.
	b.ExecParams(numbered(sqlstore.UserRowSQL+dialect.ForUpdate), [][]byte{user}, []uint32{pgtype.Int8OID}, nil, nil)
	b.ExecParams(numbered(sqlstore.PutPreferencesSQL), [][]byte{user, []byte(clientID), value, strconv.AppendInt(nil, int64(len(value)), 10)},
		[]uint32{pgtype.Int8OID, pgtype.TextOID, pgtype.TextOID, pgtype.Int8OID}, nil, nil)
	if !first {
		b.ExecParams("RELEASE SAVEPOINT "+savepoint, nil, nil, nil, nil)
	}
	t.p.begun = true
	_, err := t.p.conn.Conn().PgConn().ExecBatch(ctx, b).ReadAll()
	t.p.undo(ctx, err, first)
	return t.Err("put preferences", err)
}

// numbered rewrites the ? placeholders of query as $1, $2, ..., leaving
// quoted text and identifiers alone.
//
// It runs at every statement: a pass over the text and one allocation,
// 0.6 µs for the token lookup (BenchmarkNumbered) against the 50 µs of
// CPU a request takes, where a cache would have to be bounded against the
// shapes of filter clients choose.
func numbered(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
