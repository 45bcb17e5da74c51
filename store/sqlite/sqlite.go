// Package sqlite implements core.Store on an SQLite database file, the
// embedded default backend of profiled.
//
// The file is opened twice: a write pool of exactly one connection, on
// which every Update runs as BEGIN IMMEDIATE, and a read pool of several
// connections for the Reader methods called on the Store. SQLite allows one
// writer at a time anyway; queueing writers on one Go connection instead of
// in SQLite's lock means a writer waits for its turn instead of failing
// with "database is locked", and WAL mode lets the readers go on meanwhile.
// Every acknowledged write is synced to disk (synchronous=FULL).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// busyTimeout is how long a connection waits for another process's lock
// before SQLite reports SQLITE_BUSY. Within one process writers queue on
// the write pool and never reach it.
const busyTimeout = 10 * time.Second

// updateAttempts bounds how often Update runs fn when SQLite still reports
// SQLITE_BUSY after busyTimeout (another process holding the write lock).
const updateAttempts = 3

// Store is a core.Store on one SQLite file. Its Reader methods read
// committed data on the read pool; reads that must see a transaction's own
// writes go through the core.Tx that Update passes to fn.
type Store struct {
	sqlstore.Reader
	write      *sql.DB
	read       *sql.DB
	stmts      *stmtCache // the read pool's prepared statements
	writeStmts *stmtCache // the write pool's

	// The group commit (commit.go): Updates reach the committer through
	// writes; closing stops it, and committed is closed when it has.
	writes    chan *writeRequest
	closing   chan struct{}
	committed chan struct{}
	closeOnce sync.Once
	batches   atomic.Int64 // transactions the committer began, for tests

	// wal, gens and tokens answer TokenByHash from memory while no token
	// or user has changed (tokencache.go); nil where the WAL-index cannot
	// be read.
	wal    *walIndex
	gens   *walGenerations
	tokens *sqlstore.TokenCache
}

var _ core.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite database at path and applies
// any pending migrations. path is a file name, optionally prefixed with
// "sqlite:"; in-memory databases are not supported, since the two pools
// must share one file.
func Open(ctx context.Context, path string) (*Store, error) {
	path = strings.TrimPrefix(path, "sqlite:")
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: %q is not a database file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// The write pool opens the file first: it creates the file and switches
	// it to WAL, which the read pool's query_only connections cannot do.
	write, err := sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	write.SetMaxOpenConns(1) // kept open: idle and lifetime limits are off by default
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}

	read, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// One more than the readers: the WAL-index watcher pins one.
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers + 1)
	read.SetMaxIdleConns(readers + 1)

	readStmts := newStmtCache(read)
	s := &Store{Reader: sqlstore.NewReader(cached{conn: read, stmts: readStmts, detached: true}, &dialect), stmts: readStmts,
		write: write, read: read, writeStmts: newStmtCache(write),
		writes: make(chan *writeRequest), closing: make(chan struct{}), committed: make(chan struct{})}
	go s.commitLoop(nil)
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// Without the watcher every token is looked up in the database, which
	// is correct, only slower.
	if s.wal, err = openWALIndex(ctx, read, abs); err == nil {
		q := cached{conn: read, stmts: readStmts, detached: true}
		auth := func(ctx context.Context) (uint64, error) {
			var n int64
			err := q.QueryRow(ctx, `SELECT n FROM auth_generation WHERE id = 1`).Scan(&n)
			return uint64(n), err
		}
		s.gens, s.tokens = &walGenerations{wal: s.wal, auth: auth}, sqlstore.NewTokenCache()
	}
	return s, nil
}

// TokenByHash is the hot path of every request (core.Reader): answered
// from memory while no token or user changed since it was last looked up.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (core.Token, core.User, error) {
	if s.tokens == nil {
		return s.Reader.TokenByHash(ctx, hash)
	}
	return cachedTokenByHash(ctx, s.gens, s.tokens, hash, s.Reader.TokenByHash)
}

// dsn builds the connection string of one pool. Pragmas go in the DSN,
// not in a statement after Open, because database/sql opens connections
// lazily and replaces them at will: the driver runs the DSN's pragmas on
// every connection it opens.
func dsn(path string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL syncs the WAL at every commit: an acknowledged write survives
	// the process being killed and the machine losing power. NORMAL
	// would only survive the former.
	q.Add("_pragma", "synchronous(FULL)")
	if write {
		// Take the write lock at BEGIN rather than at the first write, so
		// a transaction that reads first cannot fail to upgrade its lock.
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return (&url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}).String()
}

// Migrate applies every embedded migration the database lacks, each in
// its own transaction; on an up-to-date database it changes nothing. It
// refuses a database migrated by a newer profiled, which this binary must
// not write to. Open calls it; it must not be called inside Update.
func (s *Store) Migrate(ctx context.Context) error {
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if pending, err := sqlstore.Pending("sqlite", v, s.LatestVersion()); !pending {
		return err
	}
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	// On the write pool, so goose's transactions begin IMMEDIATE like any
	// Update's and two processes opening one new file take turns.
	p, err := goose.NewProvider(goose.DialectSQLite3, s.write, files, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if v < 93 {
		if err := s.refuseCaseClashes(ctx); err != nil {
			return err
		}
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// refuseCaseClashes is the check of migration 00093 that SQL alone cannot
// word: usernames that differ only in case, named, before the unique index
// would fail on them without saying which.
func (s *Store) refuseCaseClashes(ctx context.Context) error {
	var users int
	if err := s.read.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'users'`).Scan(&users); err != nil || users == 0 {
		return err
	}
	// Each group of names that differ only in case, in byte order, the
	// groups separated by "; ".
	var clashes string
	if err := s.read.QueryRowContext(ctx, `SELECT coalesce(group_concat(names, '; '), '') FROM
		(SELECT group_concat(username, ', ') AS names FROM (SELECT username FROM users ORDER BY lower(username), username)
		GROUP BY lower(username) HAVING count(*) > 1)`).Scan(&clashes); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if clashes != "" {
		return fmt.Errorf("sqlite: migrate: usernames must now be unique regardless of case, and these differ only in case: %s. "+
			"Rename all but one of each (UPDATE users SET username = 'new-name' WHERE username = 'Carol'), then start profiled again",
			clashes)
	}
	return nil
}

// SchemaVersion returns the version of the last migration applied to the
// database, 0 if none ever was. It only reads.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	return sqlstore.SchemaVersion(ctx, "sqlite",
		`SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'goose_db_version'`,
		func(ctx context.Context, q string) sqlstore.Row { return s.read.QueryRowContext(ctx, q) })
}

// LatestVersion is the version of the newest migration built into this
// binary: a database whose SchemaVersion is higher was migrated by a newer
// profiled, and this one must not serve it.
func (s *Store) LatestVersion() int64 { return latestVersion() }

var latestVersion = sync.OnceValue(func() int64 {
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sqlstore.LatestVersion(files)
})

// PoolStats reports on the write pool (one connection, the committer's)
// and the read pool, for the metrics.
func (s *Store) PoolStats() (write, read sql.DBStats) {
	return s.write.Stats(), s.read.Stats()
}

// Close stops the committer, once the batch it may be running is done,
// and closes both pools. Updates after Close fail.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.committed
	})
	var walErr error
	if s.wal != nil {
		walErr = s.wal.close()
	}
	err := errors.Join(walErr, s.stmts.close(), s.writeStmts.close(), s.read.Close(), s.write.Close())
	if s.wal != nil {
		// Only now that no connection of this process has the file open.
		err = errors.Join(err, s.wal.closeFile())
		s.wal = nil
	}
	return err
}

// dialect is SQLite's: times as INTEGER unix seconds, bools as 0 or 1,
// usernames compared with the NOCASE collation their unique index uses,
// and no row locks, since one write transaction runs at a time.
var dialect = sqlstore.Dialect{
	Name:      "sqlite",
	Contains:  func(col, ph string) string { return "instr(" + col + ", " + ph + ") > 0" },
	Time:      func(t time.Time) any { return t.Unix() },
	EqualFold: func(col string) string { return col + " = ? COLLATE NOCASE" },
	// LIMIT takes its value as +?, not ?: SQLite re-plans a prepared
	// statement at every run when a value is bound to a bare LIMIT
	// parameter (the planner may use it), which made each list parse its
	// query again. The unary plus hides the value from the planner; the
	// page is cut at the limit all the same.
	Limit:    "LIMIT +? OFFSET ?",
	Classify: classify,
}

// classify maps a missing row or a reference to one (a foreign key naming
// a user or an authorization that is not there) to ErrNotFound, a
// unique violation to ErrDuplicate, and a quota guard's refusal to
// ErrOverQuota.
func classify(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return core.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return core.ErrDuplicate
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return core.ErrNotFound
		case sqlite3.SQLITE_CONSTRAINT_CHECK:
			if strings.Contains(se.Error(), "CHECK constraint failed: over_quota") {
				return core.ErrOverQuota // a quota guard (sqlstore's HoldQuota)
			}
		}
	}
	return nil
}

// isBusy reports whether err is SQLite's SQLITE_BUSY, in any of its extended forms.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
