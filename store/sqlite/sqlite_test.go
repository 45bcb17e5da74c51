package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/storetest"
)

// openTest opens a store on a new file in t's temporary directory.
func openTest(t *testing.T) *Store {
	t.Helper()
	s, _ := openFile(t)
	return s
}

// openFile is openTest, with the file's path, for tests that open the
// file another way too; the store is closed when the test ends.
func openFile(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "profiled.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store { return openTest(t) })
}

// TestPragmas checks the settings on several connections of each pool at
// once, so that it sees more than the one connection Open used.
func TestPragmas(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	check := func(name string, db *sql.DB, conns int, want map[string]string) {
		t.Helper()
		var held []*sql.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for i := range conns {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatalf("%s: conn %d: %v", name, i, err)
			}
			held = append(held, c)
			for pragma, value := range want {
				var got string
				if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
					t.Fatalf("%s: conn %d: PRAGMA %s: %v", name, i, pragma, err)
				}
				if got != value {
					t.Errorf("%s: conn %d: PRAGMA %s = %s, want %s", name, i, pragma, got, value)
				}
			}
		}
	}
	common := map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"foreign_keys": "1",
		"busy_timeout": fmt.Sprint(busyTimeout.Milliseconds()),
	}
	write := map[string]string{"query_only": "0"}
	read := map[string]string{"query_only": "1"}
	for k, v := range common {
		write[k], read[k] = v, v
	}
	check("write pool", s.write, 1, write)
	// All but the one the WAL-index watcher pins (walindex_unix.go).
	check("read pool", s.read, s.read.Stats().MaxOpenConnections-1, read)
	if n := s.write.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("write pool allows %d connections, want 1", n)
	}
}

// TestUpdateTakesWriteLockAtBegin checks that Update's transactions start
// with BEGIN IMMEDIATE: while one is open, even before it writes, no other
// connection can start writing.
func TestUpdateTakesWriteLockAtBegin(t *testing.T) {
	s, path := openFile(t)
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	err = s.Update(t.Context(), func(tx core.Tx) error {
		if _, err := tx.CountUsers(t.Context()); err != nil { // a read only
			return err
		}
		_, err := other.Exec(`INSERT INTO rate_limits (key, count, reset_at) VALUES ('x', 1, 1)`)
		if err == nil || !isBusy(err) {
			t.Errorf("another connection wrote during Update: err = %v, want SQLITE_BUSY", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenPrefixAndRefusals(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "with space & ?mark#.db")
	s, err := Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatalf("Open(sqlite:...): %v", err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at the path given: %v", err)
	}
	for _, bad := range []string{"", "sqlite:", ":memory:", "sqlite::memory:", "file:x.db"} {
		if s, err := Open(ctx, bad); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestSchemaVersion(t *testing.T) {
	s := openTest(t)
	got, err := s.SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := latestMigration(t)
	if got != want || s.LatestVersion() != want {
		t.Errorf("SchemaVersion = %d, LatestVersion = %d, want %d", got, s.LatestVersion(), want)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Errorf("Migrate on a migrated database: %v", err)
	}
	// It only reads, so it works inside an Update too.
	err = s.Update(t.Context(), func(core.Tx) error {
		_, err := s.SchemaVersion(t.Context())
		return err
	})
	if err != nil {
		t.Errorf("SchemaVersion inside Update: %v", err)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profiled.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	newer := s.LatestVersion() + 1
	if _, err := s.write.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, newer); err != nil {
		t.Fatal(err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != newer {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, newer)
	}
	if err := s.Migrate(ctx); err == nil {
		t.Error("Migrate on a newer schema succeeded")
	}
	s.Close()
	if s, err := Open(ctx, path); err == nil {
		s.Close()
		t.Error("Open of a newer schema succeeded")
	}
}

// latestMigration is the version of the newest embedded migration file.
func latestMigration(t *testing.T) int64 {
	t.Helper()
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	var v int64
	for _, name := range names {
		var n int64
		if _, err := fmt.Sscanf(filepath.Base(name), "%d_", &n); err != nil {
			t.Fatalf("migration %s: %v", name, err)
		}
		v = max(v, n)
	}
	return v
}

func TestReopenKeepsDataAndSkipsMigrations(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profiled.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	u := core.User{Username: "alice", Created: time.Unix(1_700_000_000, 0).UTC()}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.CreateUser(ctx, &u) }); err != nil {
		t.Fatal(err)
	}
	applied := migrationRows(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.UserByUsername(ctx, "alice")
	if err != nil {
		t.Fatalf("user after reopen: %v", err)
	}
	if got.ID != u.ID || !got.Created.Equal(u.Created) {
		t.Errorf("user after reopen = %+v, want %+v", got, u)
	}
	if again := migrationRows(t, s); again != applied {
		t.Errorf("reopening recorded migrations again: %d rows, then %d", applied, again)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != latestMigration(t) {
		t.Errorf("SchemaVersion after reopen = %d, %v", v, err)
	}
}

// migrationRows counts goose's records of applied migrations.
func migrationRows(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.read.QueryRow(`SELECT count(*) FROM goose_db_version`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestConcurrentWriters runs writers that read before they write, with
// readers alongside, and two Stores on one file as two processes would:
// no Update may fail, least of all with "database is locked".
func TestConcurrentWriters(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profiled.db")
	first, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	u := core.User{Username: "alice", Created: time.Unix(1_700_000_000, 0).UTC()}
	if err := first.Update(ctx, func(tx core.Tx) error { return tx.CreateUser(ctx, &u) }); err != nil {
		t.Fatal(err)
	}

	const writers, updates = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*updates*2)
	for w := range writers {
		s := first
		if w%2 == 1 {
			s = second
		}
		wg.Go(func() {
			for i := range updates {
				err := s.Update(ctx, func(tx core.Tx) error {
					if _, _, err := tx.HitLimit(ctx, "shared", time.Hour, time.Unix(1_700_000_000, 0)); err != nil {
						return err
					}
					l := core.Login{UserID: u.ID, Datetime: time.Unix(int64(1_700_000_000+i), 0), Username: "alice", Status: core.LoginSuccessful}
					return tx.CreateLogin(ctx, &l)
				})
				if err != nil {
					errs <- err
				}
			}
		})
		wg.Go(func() {
			for range updates {
				if _, _, err := s.ListLogins(ctx, u.ID, core.ListQuery{Page: 1, PageSize: 25}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent access: %v", err)
	}
	_, total, err := first.ListLogins(ctx, u.ID, core.ListQuery{Page: 1, PageSize: 25})
	if err != nil {
		t.Fatal(err)
	}
	if total != writers*updates {
		t.Errorf("%d logins written, want %d", total, writers*updates)
	}
}

// TestCommitSurvivesKill commits in a child process, kills it with SIGKILL
// as soon as Update returns, and checks the write is in the file.
func TestCommitSurvivesKill(t *testing.T) {
	if os.Getenv("PROFILED_SQLITE_KILL_CHILD") != "" {
		t.Skip("the child does its work in TestMain")
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "profiled.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROFILED_SQLITE_KILL_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	// Killed the moment the commit is acknowledged, before Close.
	cmd.Process.Kill()
	cmd.Wait()
	if err != nil || strings.TrimSpace(line) != "committed" {
		t.Fatalf("child said %q, %v", line, err)
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.UserByUsername(t.Context(), "survivor"); err != nil {
		t.Errorf("the acknowledged write was lost: %v", err)
	}
}

// TestMain lets the test binary act as TestCommitSurvivesKill's child.
func TestMain(m *testing.M) {
	if path := os.Getenv("PROFILED_SQLITE_KILL_CHILD"); path != "" {
		killChild(path)
	}
	if path := os.Getenv("PROFILED_SQLITE_EXEC_CHILD"); path != "" {
		execChild(path, os.Getenv("PROFILED_SQLITE_EXEC_STATEMENT"))
	}
	os.Exit(m.Run())
}

// killChild commits one user, says so, and waits to be killed.
func killChild(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	u := core.User{Username: "survivor"}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.CreateUser(ctx, &u) }); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("committed")
	time.Sleep(time.Minute)
	os.Exit(1)
}
