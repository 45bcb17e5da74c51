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
	"path"
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
	reader
	write      *sql.DB
	read       *sql.DB
	writeStmts *stmtCache // the write pool's prepared statements

	// The group commit (commit.go): Updates reach the committer through
	// writes; closing stops it, and committed is closed when it has.
	writes    chan *writeRequest
	closing   chan struct{}
	committed chan struct{}
	closeOnce sync.Once
	batches   atomic.Int64 // transactions the committer began, for tests
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
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}

	read, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)

	readStmts := newStmtCache(read)
	s := &Store{reader: reader{q: cachedPool{read, readStmts}, stmts: readStmts},
		write: write, read: read, writeStmts: newStmtCache(write),
		writes: make(chan *writeRequest), closing: make(chan struct{}), committed: make(chan struct{})}
	go s.commitLoop()
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
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
	if latest := s.LatestVersion(); v > latest {
		return fmt.Errorf("sqlite: the database schema is at version %d, newer than this binary's %d: upgrade profiled", v, latest)
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
	rows, err := s.read.QueryContext(ctx, `SELECT group_concat(username, ', ') FROM
		(SELECT username FROM users WHERE lower(username) IN
			(SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1) ORDER BY lower(username), username)
		GROUP BY lower(username)`)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer rows.Close()
	var clashes []string
	for rows.Next() {
		var names string
		if err := rows.Scan(&names); err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		clashes = append(clashes, names)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if len(clashes) > 0 {
		return fmt.Errorf("sqlite: migrate: usernames must now be unique regardless of case, and these differ only in case: %s. "+
			"Rename all but one of each (UPDATE users SET username = 'new-name' WHERE username = 'Carol'), then start profiled again",
			strings.Join(clashes, "; "))
	}
	return nil
}

// SchemaVersion returns the version of the last migration applied to the
// database, 0 if none ever was. It only reads.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var tables int
	if err := s.read.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'goose_db_version'`).Scan(&tables); err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	if tables == 0 {
		return 0, nil
	}
	// What goose's GetDBVersion asks, without its side effect of creating
	// the table.
	var v int64
	if err := s.read.QueryRowContext(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return v, nil
}

// LatestVersion is the version of the newest migration built into this
// binary: a database whose SchemaVersion is higher was migrated by a newer
// profiled, and this one must not serve it.
func (s *Store) LatestVersion() int64 { return latestVersion() }

var latestVersion = sync.OnceValue(func() int64 {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		panic(err) // the pattern is valid
	}
	var latest int64
	for _, name := range names {
		v, err := goose.NumericComponent(path.Base(name))
		if err != nil {
			panic(fmt.Sprintf("sqlite: migration %s: %v", name, err))
		}
		latest = max(latest, v)
	}
	return latest
})

// Ping runs a query on the read pool.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

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
	return errors.Join(s.stmts.close(), s.writeStmts.close(), s.read.Close(), s.write.Close())
}

// querier is what a pool and a transaction have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader implements core.Reader on a pool or inside a transaction.
type reader struct {
	q querier
	// stmts are the read pool's prepared statements, set when q is the
	// read pool.
	stmts *stmtCache
}

// tx implements core.Tx inside one write transaction.
type tx struct{ reader }

var _ core.Tx = tx{}

// storeErr turns a driver error into the store's contract: ErrNotFound for
// a missing row or a reference to one (a foreign key naming a user or an
// authorization that is not there), ErrDuplicate for a unique violation,
// and anything else wrapped with what was being done.
func storeErr(op string, err error) error {
	if err == nil {
		return nil
	}
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
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// isBusy reports whether err is SQLite's SQLITE_BUSY, in any of its extended forms.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// affectedOne maps a change that touched no row to ErrNotFound: the row is
// absent or belongs to another user, which callers must not tell apart.
func affectedOne(op string, res sql.Result, err error) error {
	if err != nil {
		return storeErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return storeErr(op, err)
	}
	if n == 0 {
		return core.ErrNotFound
	}
	return nil
}

// Times are stored as INTEGER unix seconds and returned in UTC. The zero
// time round-trips: it is stored as its (negative) unix seconds.
func unix(t time.Time) int64 { return t.Unix() }

func fromUnix(s int64) time.Time { return time.Unix(s, 0).UTC() }

// nullUnix stores a nil time, meaning "never", as NULL.
func nullUnix(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.Unix()
}

func fromNullUnix(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromUnix(n.Int64)
	return &t
}

// nonEmpty reads an absent or zero-length BLOB back as nil, so callers can
// test secrets with == nil whatever was stored.
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }
