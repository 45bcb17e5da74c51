// Package sqlstore holds every SQL statement of profiled's stores, written
// once for SQLite and PostgreSQL: the resources' queries, scans and
// inserts, the lists' filters and orders, and the mapping of driver errors
// to the store's contract. It implements core.Reader and core.Tx over a
// Querier and a Dialect.
//
// An engine (store/sqlite, store/postgres) keeps only what differs: how it
// opens its pools, runs a transaction (the group commit, the retries),
// migrates, and the Dialect that names its few differences of SQL. The
// statements here are written with ? placeholders; an engine that numbers
// them ($1) rewrites them in its Querier. Both schemas keep the same
// columns with the same meanings: times as whole seconds (SQLite INTEGER
// unix seconds, PostgreSQL timestamptz), lists of strings as JSON text,
// secrets as bytes.
//
// The model is dex's storage/sql (a flavor per engine, one crud.go).
package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/profiled/profiled/core"
)

// Row is one row of a result.
type Row interface{ Scan(dest ...any) error }

// Rows is a result of any number of rows; Close may be called twice.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Querier runs statements written with ? placeholders, on a pool or in a
// transaction. Exec returns the number of rows the statement changed.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Stmt is one statement of a write that may violate a constraint. Scan
// reads the one row it returns (RETURNING); without Scan it is executed.
type Stmt struct {
	SQL  string
	Args []any
	Scan func(Row) error
}

// GuardedWriter is a Querier of an engine on which a failed statement
// aborts the whole transaction (PostgreSQL). Write runs stmts so that, if
// one fails, the transaction is left as it was before them and usable, as
// a failed statement leaves it in SQLite; the store's contract promises
// that (a duplicate is an error the core may recover from). Without it,
// the statements run one after the other.
type GuardedWriter interface {
	Write(ctx context.Context, stmts ...Stmt) error
}

// Deferrer is a Querier of a transaction that may hold a write back and
// send it with the transaction's next statement or its commit, sparing
// the write a round trip of its own (store/postgres). A held write that
// fails fails the statement or the commit it went with, and every
// statement after it. A held write's Scan, if it has one, runs when its
// row arrives: at the latest when the commit returns. Without a Deferrer,
// the write runs at once.
type Deferrer interface {
	Defer(s Stmt)
}

// IDInserter is a Querier of an engine that tells the id of the row an
// INSERT made without reading it back as a row (SQLite's
// last_insert_rowid): there, INSERT ... RETURNING id read through QueryRow
// took 9.1 µs and 29 allocations, the same INSERT executed 3.4 µs and 9
// (modernc.org/sqlite, in a transaction). insert then runs its statement
// without the RETURNING clause.
type IDInserter interface {
	ExecInsert(ctx context.Context, query string, args ...any) (id int64, err error)
}

// Dialect is what differs between the engines' SQL.
type Dialect struct {
	// Name prefixes the store's errors ("sqlite", "postgres").
	Name string
	// Contains returns a condition true when column holds the text of the
	// placeholder as a case-sensitive substring.
	Contains func(column, placeholder string) string
	// Time converts a time to the engine's argument for a time column, in
	// whole seconds.
	Time func(time.Time) any
	// EqualFold returns a condition true when column equals the one
	// placeholder it holds, regardless of ASCII case, as the engine's
	// index on the column compares.
	EqualFold func(column string) string
	// Limit is the clause that cuts a list to a page: a limit then an
	// offset placeholder.
	Limit string
	// ForUpdate follows a SELECT whose rows the transaction must lock
	// until it ends (empty where transactions run one at a time), and
	// SkipLocked a SELECT that takes only the rows no one else locked.
	ForUpdate, SkipLocked string
	// Classify maps a driver error to core.ErrNotFound (no row, or a
	// foreign key naming a missing row), core.ErrDuplicate (a unique
	// violation) or core.ErrOverQuota (the CHECK of over_quota, which
	// HoldQuota trips), and returns nil for any other error.
	Classify func(error) error
	// Retryable reports an error after which the engine runs the whole
	// transaction again (nil: none).
	Retryable func(error) bool
}

// Reader implements core.Reader on a pool or inside a transaction.
type Reader struct {
	q Querier
	d *Dialect
	// retry is the transaction's first error after which it must run
	// again (Dialect.Retryable), shared by the copies of its Tx; nil on
	// a pool.
	retry *error
}

// NewReader reads through q, a pool.
func NewReader(q Querier, d *Dialect) Reader { return Reader{q: q, d: d} }

// Querier is what r runs its statements through.
func (r Reader) Querier() Querier { return r.q }

// Tx implements core.Tx inside one write transaction.
type Tx struct{ Reader }

var (
	_ core.Reader = Reader{}
	_ core.Tx     = Tx{}
)

// NewTx runs the statements of one transaction through q.
func NewTx(q Querier, d *Dialect) Tx { return Tx{Reader{q: q, d: d, retry: new(error)}} }

// RetryErr returns the first error of the transaction after which it
// must run again from the start, even if the caller's fn swallowed it.
func (t Tx) RetryErr() error { return *t.retry }

// Err is err, for what an engine writes itself.
func (r Reader) Err(op string, err error) error { return r.err(op, err) }

// err turns a driver error into the store's contract: what Classify maps,
// and anything else wrapped with what was being done.
func (r Reader) err(op string, err error) error {
	if err == nil {
		return nil
	}
	wrapped := fmt.Errorf("%s: %s: %w", r.d.Name, op, err)
	if r.retry != nil && *r.retry == nil && r.d.Retryable != nil && r.d.Retryable(err) {
		*r.retry = wrapped
	}
	if e := r.d.Classify(err); e != nil {
		return e
	}
	return wrapped
}

// exec runs a statement that must change one row; one that changed none
// is ErrNotFound: the row is absent or belongs to another user, which
// callers must not tell apart.
func (r Reader) exec(ctx context.Context, op, query string, args ...any) error {
	n, err := r.q.Exec(ctx, query, args...)
	if err != nil {
		return r.err(op, err)
	}
	if n == 0 {
		return core.ErrNotFound
	}
	return nil
}

// execAny runs a statement that may change any number of rows.
func (r Reader) execAny(ctx context.Context, op, query string, args ...any) error {
	_, err := r.q.Exec(ctx, query, args...)
	return r.err(op, err)
}

// deferred runs a write whose result no one reads and whose failure fails
// the whole transaction (see Deferrer).
func (t Tx) deferred(ctx context.Context, op, query string, args ...any) error {
	if d, ok := t.q.(Deferrer); ok {
		d.Defer(Stmt{SQL: query, Args: args})
		return nil
	}
	return t.execAny(ctx, op, query, args...)
}

// write runs statements that may violate a constraint (see GuardedWriter).
func (t Tx) write(ctx context.Context, op string, stmts ...Stmt) error {
	if w, ok := t.q.(GuardedWriter); ok {
		return t.err(op, w.Write(ctx, stmts...))
	}
	for _, s := range stmts {
		var err error
		if s.Scan != nil {
			err = s.Scan(t.q.QueryRow(ctx, s.SQL, s.Args...))
		} else {
			_, err = t.q.Exec(ctx, s.SQL, s.Args...)
		}
		if err != nil {
			return t.err(op, err)
		}
	}
	return nil
}

// insert is a write of one INSERT ... RETURNING id.
func (t Tx) insert(ctx context.Context, op string, id *int64, query string, args ...any) error {
	if ins, ok := t.q.(IDInserter); ok {
		if plain, found := strings.CutSuffix(query, " RETURNING id"); found {
			n, err := ins.ExecInsert(ctx, plain, args...)
			if err != nil {
				return t.err(op, err)
			}
			*id = n
			return nil
		}
	}
	return t.write(ctx, op, Stmt{SQL: query, Args: args, Scan: scanID(id)})
}

// scanID reads a RETURNING id into id.
func scanID(id *int64) func(Row) error { return func(row Row) error { return row.Scan(id) } }

// insertHeld is insert for a row whose id the transaction's fn does not
// read and whose failure (a reference to a row that is gone) fails the
// whole transaction: on a Deferrer the INSERT goes with the next round
// trip, the commit's when nothing follows, and sets *id when its row
// arrives. On PostgreSQL that makes adding an SSH key one round trip
// instead of two. The core's Tx says which methods set their ids only by
// the time Update returns.
func (t Tx) insertHeld(ctx context.Context, op string, id *int64, query string, args ...any) error {
	if d, ok := t.q.(Deferrer); ok {
		d.Defer(Stmt{SQL: query, Args: args, Scan: scanID(id)})
		return nil
	}
	return t.insert(ctx, op, id, query, args...)
}

// userExists gives ErrNotFound for a missing user, for the writes that
// replace a user's set of rows: with an empty set no foreign key would
// notice.
func (t Tx) userExists(ctx context.Context, op string, userID int64) error {
	var one int
	return t.err(op, t.q.QueryRow(ctx, UserRowSQL, userID).Scan(&one))
}

// storable reports whether both engines can hold s in a text column:
// valid UTF-8 without NUL (PostgreSQL refuses anything else, with an
// error that would abort the transaction). A lookup by a string that
// cannot be stored finds nothing, without asking the database.
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// nullTime is the argument of a nullable time column: nil, meaning
// "never", is NULL.
func (r Reader) nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return r.d.Time(*t)
}

// zeroNull is the argument of a time column where the zero time means
// none: NULL.
func (r Reader) zeroNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return r.d.Time(t)
}

// timeDest scans a time column of either engine, SQLite's unix seconds or
// PostgreSQL's timestamptz, as UTC; NULL is the zero time. A *time.Time
// converts to it without an allocation: at(&v.Created).
type timeDest time.Time

func at(t *time.Time) *timeDest { return (*timeDest)(t) }

func (t *timeDest) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*t = timeDest(time.Unix(v, 0).UTC())
	case time.Time:
		*t = timeDest(v.UTC())
	case nil:
		*t = timeDest{}
	default:
		return fmt.Errorf("a time column holds a %T", src)
	}
	return nil
}

// nullTimeDest scans a nullable time column: NULL, "never", is nil.
type nullTimeDest struct{ p **time.Time }

func (n nullTimeDest) Scan(src any) error {
	if src == nil {
		*n.p = nil
		return nil
	}
	var t time.Time
	if err := at(&t).Scan(src); err != nil {
		return err
	}
	*n.p = &t
	return nil
}

// idDest scans a nullable reference to a row: NULL, none, is 0.
type idDest struct{ p *int64 }

func (d idDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.p = 0
	case int64:
		*d.p = v
	default:
		return fmt.Errorf("an id column holds a %T", src)
	}
	return nil
}

// upsert is the INSERT of one row of cols into table that replaces the
// row with the same key: every other column takes the new value.
func upsert(table, key string, cols ...string) string {
	var set []string
	for _, c := range cols {
		if c != key {
			set = append(set, c+" = excluded."+c)
		}
	}
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) +
		") ON CONFLICT (" + key + ") DO UPDATE SET " + strings.Join(set, ", ")
}

// stringsDest scans a list of strings stored as JSON text, as jsonText
// wrote it: nil comes back nil, empty empty. NULL (written by older
// PostgreSQL stores for a nil list) is nil.
type stringsDest struct{ p *[]string }

func (d stringsDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.p = nil
		return nil
	case string:
		return json.Unmarshal([]byte(v), d.p)
	}
	return fmt.Errorf("a list column holds a %T", src)
}

// jsonText is the argument of a list of strings.
func jsonText(list []string) string {
	b, _ := json.Marshal(list) // a []string always marshals
	return string(b)
}

// nonEmpty stores an empty secret as NULL, and reads one back as nil.
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// collect reads every row of a query with scan, into a list that is empty,
// not nil, when there are none.
func collect[T any](ctx context.Context, r Reader, op string, scan func(Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := r.q.Query(ctx, query, args...)
	if err != nil {
		return nil, r.err(op, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, r.err(op, err)
		}
		out = append(out, v)
	}
	return out, r.err(op, rows.Err())
}

// one reads the one row of a query with scan; no row is ErrNotFound.
func one[T any](ctx context.Context, r Reader, op string, scan func(Row) (T, error), query string, args ...any) (T, error) {
	v, err := scan(r.q.QueryRow(ctx, query, args...))
	if err != nil {
		var zero T
		return zero, r.err(op, err)
	}
	return v, nil
}
