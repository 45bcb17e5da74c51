package sqlite

import (
	"fmt"
	"testing"

	"github.com/profiled/profiled/core"
)

// TestStatementCache: queries on the pool are prepared once and reused;
// a query first met inside a transaction runs unprepared and is prepared
// after it; past maxCachedStmts queries run unprepared and still answer.
func TestStatementCache(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	count := func(c *stmtCache) int {
		c.mu.RLock()
		defer c.mu.RUnlock()
		return len(c.m)
	}

	if _, err := s.CountUsers(ctx); err != nil {
		t.Fatal(err)
	}
	n := count(s.stmts)
	if n == 0 {
		t.Fatal("a read on the pool prepared nothing")
	}
	if _, err := s.CountUsers(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(s.stmts); got != n {
		t.Fatalf("the same read again prepared more: %d statements, then %d", n, got)
	}

	var u core.User
	err := s.Update(ctx, func(tx core.Tx) error {
		u = core.User{Username: "cache", Email: "cache@example.com", AuthorizedKeys: []string{}}
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		if count(s.writeStmts) != 0 {
			t.Error("a statement was prepared on the write pool inside a transaction")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The committer prepares what a batch met after the batch, before
	// it starts the next one.
	if err := s.Update(ctx, func(tx core.Tx) error {
		_, err := tx.LockUser(ctx, u.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if count(s.writeStmts) == 0 {
		t.Fatal("after a transaction the write pool prepared nothing")
	}

	// A client choosing many shapes of query fills the cache, not memory.
	for i := range maxCachedStmts + 20 {
		var got int
		q := fmt.Sprintf("SELECT ? + %d", i)
		if err := s.Querier().QueryRow(ctx, q, 1).Scan(&got); err != nil || got != i+1 {
			t.Fatalf("%s = %d, %v", q, got, err)
		}
	}
	if got := count(s.stmts); got != maxCachedStmts {
		t.Fatalf("%d cached statements, want the bound %d", got, maxCachedStmts)
	}
	if _, err := s.UserByID(ctx, u.ID); err != nil {
		t.Fatalf("a cached query after the cache filled: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close with cached statements: %v", err)
	}
}
