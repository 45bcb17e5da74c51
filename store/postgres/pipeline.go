package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/profiled/profiled/store/sqlstore"
)

// beginSQL opens every transaction of Update.
const beginSQL = "BEGIN ISOLATION LEVEL READ COMMITTED"

// pipeTx is one transaction on one pooled connection, whose statements go
// to the server as late and as much together as their results allow:
// BEGIN travels with the first statement, and the writes whose results no
// one reads (sqlstore.Deferrer: the account's event of a change) with the
// next statement or with COMMIT. Each round trip costs both processes a
// wake-up and a pass through the network stack, and on a machine of two
// CPUs shared by profiled and PostgreSQL that, not the statements, bounds
// the writes per second: adding an SSH key took BEGIN, two guarded writes
// and COMMIT, four round trips; it now takes one, the key's id read with
// COMMIT's answer (sqlstore's insertHeld).
//
// A failed statement aborts a PostgreSQL transaction, and the store's
// contract is SQLite's, where it fails alone (GuardedWriter). A guarded
// write runs under a savepoint, except when nothing has run in the
// transaction yet: then it goes with BEGIN, and if it fails the
// transaction is rolled back and begins again at the next statement,
// which leaves it as it was before the write, at one round trip less for
// the common case.
type pipeTx struct {
	conn *pgxpool.Conn
	// begun: BEGIN has been sent. Until then the server has no
	// transaction and pipeTx has nothing to undo.
	begun bool
	// deferred are the writes held back, sent before the next statement.
	deferred []sqlstore.Stmt
	// failed is a deferred write's error; every statement after it and the
	// commit fail with it, as they would on the aborted transaction.
	failed error
}

var (
	_ sqlstore.Querier       = (*pipeTx)(nil)
	_ sqlstore.GuardedWriter = (*pipeTx)(nil)
	_ sqlstore.Deferrer      = (*pipeTx)(nil)
)

// pending reports whether the next round trip must carry BEGIN or
// deferred writes ahead of its own statements.
func (t *pipeTx) pending() bool { return !t.begun || len(t.deferred) > 0 }

// untouched reports that nothing of the transaction has been sent or held
// back: a guarded write then goes with BEGIN, without a savepoint, and a
// commit has nothing to do.
func (t *pipeTx) untouched() bool { return !t.begun && len(t.deferred) == 0 }

// queuePending adds BEGIN, if it is still to be sent, and the deferred
// writes to b.
func (t *pipeTx) queuePending(b *pgx.Batch) {
	if !t.begun {
		b.Queue(beginSQL)
	}
	queueStmts(b, t.deferred)
}

// readPending reads the results of what queuePending sent (BEGIN first
// if sentBegin), each deferred write's row through its Scan.
func (t *pipeTx) readPending(br pgx.BatchResults, sentBegin bool) error {
	if sentBegin {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	return readStmts(br, t.deferred)
}

// queueStmts adds stmts to b, their placeholders numbered.
func queueStmts(b *pgx.Batch, stmts []sqlstore.Stmt) {
	for _, s := range stmts {
		b.Queue(numbered(s.SQL), s.Args...)
	}
}

// readStmts reads the results of stmts, queued by queueStmts, from br:
// the row of each that has a Scan through it, the others executed. It
// stops at the first error.
func readStmts(br pgx.BatchResults, stmts []sqlstore.Stmt) error {
	for _, s := range stmts {
		var err error
		if s.Scan != nil {
			err = s.Scan(br.QueryRow())
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// send sends what is pending and then the statements queue adds, and
// reads the results of what was pending: the caller reads the rest and
// closes the results.
func (t *pipeTx) send(ctx context.Context, queue func(*pgx.Batch)) (pgx.BatchResults, error) {
	if t.failed != nil {
		return nil, t.failed
	}
	b := &pgx.Batch{}
	t.queuePending(b)
	queue(b)
	br := t.conn.SendBatch(ctx, b)
	sentBegin := !t.begun
	t.begun = true
	err := t.readPending(br, sentBegin)
	t.deferred = t.deferred[:0]
	if err != nil {
		_ = br.Close()
		// BEGIN or a deferred write failed: the transaction is aborted,
		// or not there.
		t.failed = err
		return nil, err
	}
	return br, nil
}

func (t *pipeTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if t.failed != nil {
		return 0, t.failed
	}
	if !t.pending() {
		tag, err := t.conn.Exec(ctx, numbered(query), args...)
		return tag.RowsAffected(), err
	}
	br, err := t.send(ctx, func(b *pgx.Batch) { b.Queue(numbered(query), args...) })
	if err != nil {
		return 0, err
	}
	tag, err := br.Exec()
	return tag.RowsAffected(), closeAfter(err, br)
}

func (t *pipeTx) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	if t.failed != nil {
		return nil, t.failed
	}
	if !t.pending() {
		return t.conn.Query(ctx, numbered(query), args...)
	}
	br, err := t.send(ctx, func(b *pgx.Batch) { b.Queue(numbered(query), args...) })
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return batchRows{rows, br}, nil
}

func (t *pipeTx) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	if t.failed != nil {
		return errRow{t.failed}
	}
	if !t.pending() {
		return t.conn.QueryRow(ctx, numbered(query), args...)
	}
	br, err := t.send(ctx, func(b *pgx.Batch) { b.Queue(numbered(query), args...) })
	if err != nil {
		return errRow{err}
	}
	return batchRow{br}
}

// Defer holds a write back until the next statement or the commit
// (sqlstore.Deferrer).
func (t *pipeTx) Defer(s sqlstore.Stmt) { t.deferred = append(t.deferred, s) }

// Write runs statements that may violate a constraint so that their
// failure leaves the transaction as it was before them and usable
// (sqlstore.GuardedWriter): under a savepoint, or, when nothing has run
// yet, with BEGIN, rolling back if they fail. The statements and what
// guards them go to the server in one round trip.
func (t *pipeTx) Write(ctx context.Context, stmts ...sqlstore.Stmt) error {
	if t.failed != nil {
		return t.failed
	}
	first := t.untouched()
	br, err := t.send(ctx, func(b *pgx.Batch) {
		if !first {
			b.Queue("SAVEPOINT " + savepoint)
		}
		queueStmts(b, stmts)
		if !first {
			b.Queue("RELEASE SAVEPOINT " + savepoint)
		}
	})
	if err != nil {
		return err
	}
	if !first {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return err
		}
	}
	err = closeAfter(readStmts(br, stmts), br)
	t.undo(ctx, err, first)
	return err
}

// undo returns the transaction to where it was before a guarded write the
// server refused, which aborted it: to the savepoint, or, for a write that
// went with BEGIN, to no transaction at all, BEGIN to be sent again. If
// the refusal came before the savepoint existed, this fails too and the
// transaction stays aborted, as it was already.
func (t *pipeTx) undo(ctx context.Context, err error, first bool) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return
	}
	if first {
		if _, rerr := t.conn.Exec(ctx, "ROLLBACK"); rerr == nil {
			t.begun = false
		}
		return
	}
	_, _ = t.conn.Exec(ctx, "ROLLBACK TO SAVEPOINT "+savepoint+"; RELEASE SAVEPOINT "+savepoint)
}

// flush sends what is pending on its own, for a statement that does not go
// through pgx's batches (PutPreferences).
func (t *pipeTx) flush(ctx context.Context) error {
	if !t.pending() {
		return t.failed
	}
	br, err := t.send(ctx, func(*pgx.Batch) {})
	if err != nil {
		return err
	}
	return br.Close()
}

// commit sends the deferred writes and COMMIT in one round trip. A
// transaction that never sent a statement has nothing to commit.
func (t *pipeTx) commit(ctx context.Context) error {
	if t.failed != nil {
		return t.failed
	}
	if t.untouched() {
		return nil
	}
	br, err := t.send(ctx, func(b *pgx.Batch) { b.Queue("COMMIT") })
	if err != nil {
		return err
	}
	_, err = br.Exec()
	return closeAfter(err, br)
}

// rollback ends a transaction that will not commit. It needs no round trip
// when nothing was sent.
func (t *pipeTx) rollback(ctx context.Context) error {
	if !t.begun {
		return nil
	}
	_, err := t.conn.Exec(ctx, "ROLLBACK")
	return err
}

// closeAfter closes br and returns err, or Close's error when err is nil
// (Close repeats the batch's first error).
func closeAfter(err error, br pgx.BatchResults) error {
	cerr := br.Close()
	if err != nil {
		return err
	}
	return cerr
}

// batchRow is the row of the last statement of a batch; Scan reads it and
// closes the batch.
type batchRow struct{ br pgx.BatchResults }

func (r batchRow) Scan(dest ...any) error {
	err := r.br.QueryRow().Scan(dest...)
	return closeAfter(err, r.br)
}

// batchRows are the rows of the last statement of a batch; Close closes
// the batch too.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r batchRows) Close() {
	r.Rows.Close()
	_ = r.br.Close()
}

// errRow is a row that could not be read.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
