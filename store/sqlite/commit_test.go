package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlstore"
	"github.com/profiled/profiled/store/storetest"
)

// holdCommitter starts an Update whose fn waits until release is called,
// so that Updates started meanwhile queue up and run as one batch.
func holdCommitter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	ctx := t.Context()
	entered, gate := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, func(tx core.Tx) error {
			close(entered)
			<-gate
			return nil
		})
	}()
	<-entered
	return func() {
		close(gate)
		if err := <-done; err != nil {
			t.Errorf("the holding Update: %v", err)
		}
	}
}

// waitQueued waits until n Updates are blocked handing their request to
// the committer (they cannot be observed directly; a short sleep after
// the goroutines started is enough for them to get there).
func waitQueued() { time.Sleep(50 * time.Millisecond) }

// TestGroupCommitIsolatesErrors: Updates batched into one transaction keep
// their own outcomes: a failing or panicking fn is undone alone and its
// caller gets its error or panic, the others commit.
func TestGroupCommitIsolatesErrors(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	taken := core.User{Username: "taken", AuthorizedKeys: []string{}}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.CreateUser(ctx, &taken) }); err != nil {
		t.Fatal(err)
	}
	release := holdCommitter(t, s)

	const n = 30
	refusal := errors.New("refused")
	errs := make([]error, n)
	panicked := make([]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			defer func() { panicked[i] = recover() }()
			errs[i] = s.Update(ctx, func(tx core.Tx) error {
				u := core.User{Username: fmt.Sprintf("user%02d", i), AuthorizedKeys: []string{}}
				if err := tx.CreateUser(ctx, &u); err != nil {
					return err
				}
				switch i % 5 {
				case 1:
					return refusal // after a write, which must be undone
				case 2:
					// A store error inside fn, handled: the write stays.
					if _, err := tx.UserByID(ctx, 1<<40); !errors.Is(err, core.ErrNotFound) {
						return fmt.Errorf("missing user: %v", err)
					}
				case 3:
					dup := core.User{Username: "taken", AuthorizedKeys: []string{}}
					return tx.CreateUser(ctx, &dup) // a duplicate, returned
				case 4:
					if i == 4 {
						panic("boom")
					}
				}
				return nil
			})
		})
	}
	waitQueued()
	before := s.batches.Load()
	release()
	wg.Wait()
	if b := s.batches.Load() - before; b >= n/2 {
		t.Errorf("%d queued Updates took %d transactions: they were not batched", n, b)
	}

	for i := range n {
		_, lookupErr := s.UserByUsername(ctx, fmt.Sprintf("user%02d", i))
		switch {
		case i == 4:
			p, _ := panicked[i].(*FnPanic)
			if p == nil || p.Value != "boom" {
				t.Errorf("update %d: the panic did not reach its caller: %v", i, panicked[i])
			} else if !strings.Contains(string(p.Stack), "TestGroupCommitIsolatesErrors") {
				t.Errorf("update %d: the panic's stack is not fn's:\n%s", i, p.Stack)
			}
			if !errors.Is(lookupErr, core.ErrNotFound) {
				t.Errorf("update %d panicked, yet its write is there", i)
			}
		case i%5 == 1:
			if errs[i] != refusal {
				t.Errorf("update %d: err %v, want fn's error itself", i, errs[i])
			}
			if !errors.Is(lookupErr, core.ErrNotFound) {
				t.Errorf("update %d failed, yet its write is there", i)
			}
		case i%5 == 3:
			if !errors.Is(errs[i], core.ErrDuplicate) {
				t.Errorf("update %d: err %v, want ErrDuplicate", i, errs[i])
			}
			if !errors.Is(lookupErr, core.ErrNotFound) {
				t.Errorf("update %d failed, yet its write is there", i)
			}
		default:
			if errs[i] != nil || panicked[i] != nil {
				t.Errorf("update %d: err %v, panic %v", i, errs[i], panicked[i])
			}
			if lookupErr != nil {
				t.Errorf("update %d succeeded, yet its write is missing: %v", i, lookupErr)
			}
		}
	}
	// The store goes on working.
	u := core.User{Username: "after", AuthorizedKeys: []string{}}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.CreateUser(ctx, &u) }); err != nil {
		t.Fatal(err)
	}
}

// TestGroupCommitFailuresAfterCommit: a fn that fails because of what an
// earlier fn of its batch wrote (a duplicate of its row) hears of its
// failure only once that write is committed, as if they had run one after
// the other: a caller that answers a duplicate by reading the row it
// collided with finds it (core's first use of an external identity does).
// The conformance check runs while the committer is held, so that its
// Updates queue up and run as one batch.
func TestGroupCommitFailuresAfterCommit(t *testing.T) {
	s := openTest(t)
	release := holdCommitter(t, s)
	go func() {
		waitQueued()
		release()
	}()
	before := s.batches.Load()
	storetest.DuplicateThenRead(t, s)
	if b := s.batches.Load() - before; b > 3 {
		t.Errorf("the Updates took %d transactions: they were not batched", b)
	}
}

// TestGroupCommitAbandonedTransaction: when one fn's failure takes the
// whole transaction with it, the fns that had succeeded in it run again
// and commit; only the culprit fails.
func TestGroupCommitAbandonedTransaction(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	release := holdCommitter(t, s)
	const n = 10
	errs := make([]error, n)
	runs := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(t core.Tx) error {
				runs[i]++
				u := core.User{Username: fmt.Sprintf("user%02d", i), AuthorizedKeys: []string{}}
				if err := t.CreateUser(ctx, &u); err != nil {
					return err
				}
				if i == 5 {
					// What an I/O error or SQLITE_FULL does: SQLite rolls
					// the whole transaction back.
					t.(sqlstore.Tx).Querier().Exec(ctx, "ROLLBACK")
					return errors.New("the transaction is gone")
				}
				return nil
			})
		})
	}
	waitQueued()
	release()
	wg.Wait()
	for i := range n {
		_, err := s.UserByUsername(ctx, fmt.Sprintf("user%02d", i))
		if i == 5 {
			if errs[i] == nil || !errors.Is(err, core.ErrNotFound) {
				t.Errorf("the culprit: err %v, lookup %v", errs[i], err)
			}
			continue
		}
		if errs[i] != nil || err != nil {
			t.Errorf("update %d: err %v, lookup %v (ran %d times)", i, errs[i], err, runs[i])
		}
	}
}

// TestGroupCommitGoexit: a fn that calls runtime.Goexit (t.FailNow in a
// test) ends its caller's goroutine, not the store: the Updates batched
// with it commit, the culprit's write does not, and the store goes on.
func TestGroupCommitGoexit(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	release := holdCommitter(t, s)
	const n, culprit = 10, 4
	errs := make([]error, n)
	returned := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx core.Tx) error {
				u := core.User{Username: fmt.Sprintf("user%02d", i), AuthorizedKeys: []string{}}
				if err := tx.CreateUser(ctx, &u); err != nil {
					return err
				}
				if i == culprit {
					runtime.Goexit()
				}
				return nil
			})
			returned[i] = true
		})
	}
	waitQueued()
	release()
	wg.Wait() // the culprit's goroutine ended too, or this waits forever
	for i := range n {
		_, err := s.UserByUsername(ctx, fmt.Sprintf("user%02d", i))
		if i == culprit {
			if returned[i] || !errors.Is(err, core.ErrNotFound) {
				t.Errorf("the culprit: Update returned %v, lookup %v", returned[i], err)
			}
			continue
		}
		if !returned[i] || errs[i] != nil || err != nil {
			t.Errorf("update %d: returned %v, err %v, lookup %v", i, returned[i], errs[i], err)
		}
	}
	u := core.User{Username: "after", AuthorizedKeys: []string{}}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.CreateUser(ctx, &u) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestUpdateContextEndsWhileQueued: an Update whose context ends before
// its turn fails with the context's error, and its fn never runs.
func TestUpdateContextEndsWhileQueued(t *testing.T) {
	s := openTest(t)
	release := holdCommitter(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	ran := false
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, func(core.Tx) error { ran = true; return nil })
	}()
	waitQueued()
	cancel()
	release()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Update = %v, want context.Canceled", err)
	}
	if ran {
		t.Error("fn ran after its context ended")
	}
}

// TestUpdateAfterClose fails instead of waiting forever.
func TestUpdateAfterClose(t *testing.T) {
	s := openTest(t)
	s.Close()
	if err := s.Update(t.Context(), func(core.Tx) error { return nil }); !errors.Is(err, errClosed) {
		t.Errorf("Update after Close = %v, want errClosed", err)
	}
}
