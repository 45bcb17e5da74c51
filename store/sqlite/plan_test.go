package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/storetest"
)

// TestEveryLookupIsIndexed runs the conformance suite, which reaches every
// query of the store, keeps the text of each statement it prepared, and
// asks SQLite for the plan of each: every table a statement reads must be
// searched through an index (or the rowid), never scanned, so that the
// time of a request does not grow with the number of users or rows (what
// tools/profiled-bench --scaling measures).
//
// The scans allowed are CountUsers (SELECT count(*) FROM users), which
// only start-up calls, to see whether the database is empty, and
// SigningKeys, which reads every row of a table of a few keys (a rotation
// retires those no ID token needs), whatever the number of users.
func TestEveryLookupIsIndexed(t *testing.T) {
	var mu sync.Mutex
	queries := map[string]bool{}
	collect := func(c *stmtCache) {
		c.mu.RLock()
		defer c.mu.RUnlock()
		mu.Lock()
		defer mu.Unlock()
		for q := range c.m {
			queries[q] = true
		}
		for q := range c.pending {
			queries[q] = true
		}
	}
	t.Run("conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) core.Store {
			s := openTest(t)
			// Cleanups run last first: this one before openTest's Close.
			t.Cleanup(func() { collect(s.stmts); collect(s.writeStmts) })
			return s
		})
	})
	if len(queries) < 20 {
		t.Fatalf("the suite prepared only %d distinct statements", len(queries))
	}

	s := openTest(t)
	ctx := context.Background()
	// The check itself: a lookup by an unindexed column is a scan.
	if plan, err := queryPlan(ctx, s, "SELECT id FROM tokens WHERE label = ?"); err != nil || !strings.HasPrefix(strings.Join(plan, ""), "SCAN tokens") {
		t.Fatalf("the plan of an unindexed lookup is %q, %v: the check would miss scans", plan, err)
	}
	allowed := map[string]bool{`SELECT count(*) FROM users`: true,
		`SELECT id, created, sealed FROM signing_keys ORDER BY created DESC, id DESC`: true}
	var sorted []string
	for q := range queries {
		sorted = append(sorted, q)
	}
	slices.Sort(sorted)
	checked := 0
	for _, q := range sorted {
		upper := strings.ToUpper(strings.TrimSpace(q))
		if strings.HasPrefix(upper, "SAVEPOINT") || strings.HasPrefix(upper, "RELEASE") || strings.HasPrefix(upper, "ROLLBACK") {
			continue
		}
		plan, err := queryPlan(ctx, s, q)
		if err != nil {
			t.Errorf("EXPLAIN QUERY PLAN %s: %v", q, err)
			continue
		}
		checked++
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN ") && !strings.HasPrefix(step, "SCAN CONSTANT ROW") && !allowed[q] {
				t.Errorf("a full scan (%s) in:\n  %s\nplan:\n  %s", step, q, strings.Join(plan, "\n  "))
			}
		}
	}
	t.Logf("%d statements checked, every table access indexed", checked)
}

// queryPlan returns the steps of SQLite's plan for q, its parameters
// bound to NULL (the plan does not depend on their values).
func queryPlan(ctx context.Context, s *Store, q string) ([]string, error) {
	args := make([]any, strings.Count(q, "?"))
	rows, err := s.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		out = append(out, detail)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return out, nil
}
