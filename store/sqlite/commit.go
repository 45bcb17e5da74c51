package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlstore"
)

// Group commit. SQLite has one writer at a time, and with synchronous=FULL
// every commit syncs the WAL to disk. Instead of one transaction per
// Update, a committer goroutine runs the Updates that are waiting together
// in one transaction: each fn inside a savepoint of its own, the whole
// batch behind one BEGIN IMMEDIATE and one COMMIT (one sync). Nobody waits
// on purpose for a batch to fill: while one batch commits, the next one
// gathers.
//
// Each Update keeps its own outcome. A fn that fails (or panics) is rolled
// back to its savepoint and its caller gets its error, while the others in
// the batch commit. A fn that succeeded is acknowledged only after the
// COMMIT that contains it returned, so an acknowledged write is durable as
// before. A fn that failed is told only then too: it may have failed on
// what an earlier fn of the batch wrote (a duplicate of its row), and its
// caller, reading the row it collided with, must find it, as it would had
// the two run one after the other.
//
// If the batch's transaction itself fails (BEGIN, a savepoint, or an
// error that makes SQLite roll the whole transaction back), the fns that
// had run in it, succeeded or failed, run again in a later batch (all but
// a fn whose own failure rolled it back, whose caller gets that): fn must
// be free of side effects outside the transaction, which Update always
// required for its retries. A failed COMMIT fails every fn that had
// succeeded in the batch, as it failed the one fn of a transaction before,
// and runs the failed ones again, since what they failed on was never
// committed.
//
// fn runs on the committer's goroutine, one after the other, and its
// caller waits for the outcome. Handing the transaction to each caller's
// goroutine and waiting for it to hand it back cost two goroutine
// switches per fn on the committer's serial path: 40 µs of the 90 µs an
// SSH key held the committer under the harness's writes, at which the
// committer was busy all the time. A panic in fn is undone like a failure
// and reaches its caller as a *FnPanic, which keeps fn's stack; fn calling
// runtime.Goexit (t.FailNow in a test) ends the committer's goroutine,
// which hands the batch to a new one, and then its caller's.

// maxBatch bounds the Updates of one transaction, and so how long the
// first of them waits for the last.
const maxBatch = 64

// savepointName names the savepoint around each fn of a batch.
const savepointName = "profiled_update"

// errClosed is what Update returns after Close.
var errClosed = errors.New("sqlite: the store is closed")

// errGoexit abandons a batch in which a fn called runtime.Goexit.
var errGoexit = errors.New("sqlite: the transaction was abandoned: another Update's fn called runtime.Goexit")

// writeRequest is one Update waiting for its turn and its outcome.
type writeRequest struct {
	ctx     context.Context
	fn      func(core.Tx) error
	done    chan fnOutcome // the outcome: a nil err once committed
	attempt int            // batches this request has been in
	lastErr error          // why the last of them was abandoned
	failed  fnOutcome      // how fn failed, told after the batch's COMMIT
}

// fnOutcome is how an Update ended: with err, or with fn panicking or
// calling runtime.Goexit.
type fnOutcome struct {
	err    error
	panic  *FnPanic
	goexit bool
}

// failed reports whether fn did not return nil (a fn that called
// runtime.Goexit never returned to be asked).
func (o fnOutcome) failed() bool { return o.err != nil || o.panic != nil }

// FnPanic is what Update panics with when its fn panicked on the
// committer's goroutine: the value fn panicked with and fn's stack, which
// the caller's own panic would not show.
type FnPanic struct {
	Value any
	Stack []byte
}

func (p *FnPanic) Error() string { return fmt.Sprintf("%v [in Update's fn]\n\n%s", p.Value, p.Stack) }

// Unwrap returns the value fn panicked with, if it is an error.
func (p *FnPanic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// Update runs fn in a write transaction and commits it if fn returns nil;
// otherwise it undoes everything fn did and returns fn's error unchanged.
// fn runs again, up to updateAttempts in all, only if SQLite reports
// SQLITE_BUSY (another process holding the lock for longer than
// busyTimeout) or the transaction it ran in had to be abandoned for
// another fn's sake (see the group commit above).
//
// fn must use only the Tx it is given: the Store's own Reader methods do
// not see the transaction's writes, and a nested Update waits forever for
// the committer, which waits for fn.
func (s *Store) Update(ctx context.Context, fn func(core.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &writeRequest{ctx: ctx, fn: fn, done: make(chan fnOutcome, 1)}
	select {
	case s.writes <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closing:
		return errClosed
	}
	out := <-r.done
	switch {
	case out.panic != nil:
		panic(out.panic)
	case out.goexit:
		runtime.Goexit()
	}
	return out.err
}

// runFn calls fn and recovers its panic. If fn calls runtime.Goexit,
// runFn does not return: the goroutine ends, running its deferred calls.
func runFn(fn func(core.Tx) error, t core.Tx) (out fnOutcome) {
	defer func() {
		if v := recover(); v != nil {
			out = fnOutcome{panic: &FnPanic{Value: v, Stack: debug.Stack()}}
		}
	}()
	return fnOutcome{err: fn(t)}
}

// commitLoop is the committer: it runs until Close, starting with the
// requests in again.
func (s *Store) commitLoop(again []*writeRequest) {
	for {
		var batch []*writeRequest
		if len(again) > 0 {
			batch, again = again, nil
		} else {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			case <-s.closing:
				close(s.committed)
				return
			}
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		again = s.commitBatch(batch)
		// Queries the batch met for the first time are prepared now
		// that no transaction holds the write connection.
		s.writeStmts.preparePending(context.Background())
	}
}

// commitBatch runs batch in one transaction and tells each request its
// outcome, except those it returns, whose fn must run again.
func (s *Store) commitBatch(batch []*writeRequest) (again []*writeRequest) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- fnOutcome{err: err} // gave up while waiting; fn never ran
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return nil
	}
	for _, r := range live {
		r.attempt++
	}
	s.batches.Add(1)
	sqlTx, err := s.beginWrite()
	if err != nil {
		for _, r := range live {
			r.done <- fnOutcome{err: err}
		}
		return nil
	}
	q := cached{conn: sqlTx, stmts: s.writeStmts, tx: sqlTx, detached: true}
	t := sqlstore.NewTx(q, &dialect)
	bg := context.Background()
	exec := func(stmt string) error {
		_, err := q.Exec(bg, stmt)
		return err
	}
	// abandon rolls the transaction back and sends the fns that had
	// succeeded in it, those that failed in it (on what it held), and
	// those not run yet, to run again.
	abandon := func(cause error, rerun ...[]*writeRequest) []*writeRequest {
		sqlTx.Rollback()
		for _, rs := range rerun {
			for _, r := range rs {
				r.lastErr = cause
				again = append(again, r)
			}
		}
		return s.retryable(again)
	}
	var ok []*writeRequest     // fn succeeded; acknowledged at COMMIT
	var failed []*writeRequest // fn failed; told after COMMIT
	// If fn calls runtime.Goexit, this goroutine ends: the batch is
	// abandoned, fn's caller follows it out, and a new committer runs the
	// rest of the batch again and goes on.
	running := -1 // the index of the fn running, while one is
	defer func() {
		if running < 0 {
			return
		}
		live[running].done <- fnOutcome{goexit: true}
		go s.commitLoop(abandon(errGoexit, ok, failed, live[running+1:]))
	}()
	for i, r := range live {
		if err := exec("SAVEPOINT " + savepointName); err != nil {
			return abandon(fmt.Errorf("sqlite: savepoint: %w", err), ok, failed, live[i:])
		}
		running = i
		out := runFn(r.fn, t)
		running = -1
		if !out.failed() {
			if err := exec("RELEASE " + savepointName); err != nil {
				return abandon(fmt.Errorf("sqlite: release savepoint: %w", err), ok, failed, live[i:])
			}
			ok = append(ok, r)
			continue
		}
		// fn failed: undo what it did and keep the others' work.
		if err := exec("ROLLBACK TO " + savepointName); err != nil {
			// fn's failure took the whole transaction with it.
			r.done <- out
			return abandon(fmt.Errorf("sqlite: rollback to savepoint: %w", err), ok, failed, live[i+1:])
		}
		if err := exec("RELEASE " + savepointName); err != nil {
			r.done <- out
			return abandon(fmt.Errorf("sqlite: release savepoint: %w", err), ok, failed, live[i+1:])
		}
		if out.panic == nil && isBusy(out.err) && r.attempt < updateAttempts {
			again = append(again, r)
			continue
		}
		r.failed = out
		failed = append(failed, r)
	}
	if err := sqlTx.Commit(); err != nil {
		err = fmt.Errorf("sqlite: commit: %w", err)
		for _, r := range ok {
			r.done <- fnOutcome{err: err}
		}
		for _, r := range failed {
			if r.attempt < updateAttempts {
				again = append(again, r)
			} else {
				r.done <- r.failed
			}
		}
		return again
	}
	for _, r := range ok {
		r.done <- fnOutcome{}
	}
	for _, r := range failed {
		r.done <- r.failed
	}
	return again
}

// retryable keeps the requests that may run again and fails the others
// with the error that abandoned their last transaction.
func (s *Store) retryable(rs []*writeRequest) []*writeRequest {
	keep := rs[:0]
	for _, r := range rs {
		if r.attempt >= updateAttempts {
			r.done <- fnOutcome{err: r.lastErr}
			continue
		}
		keep = append(keep, r)
	}
	return keep
}

// beginWrite begins the batch's transaction (BEGIN IMMEDIATE, from the
// write pool's DSN), waiting out another process that holds the write
// lock longer than busyTimeout up to updateAttempts times. The
// transaction serves several callers, so no one's context ends it.
func (s *Store) beginWrite() (*sql.Tx, error) {
	for attempt := 1; ; attempt++ {
		t, err := s.write.BeginTx(context.Background(), nil)
		if err == nil {
			return t, nil
		}
		if !isBusy(err) || attempt == updateAttempts {
			return nil, fmt.Errorf("sqlite: begin: %w", err)
		}
		time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
	}
}
