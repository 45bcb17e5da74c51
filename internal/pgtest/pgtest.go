// Package pgtest gives each test a fresh schema in the PostgreSQL of the
// machine (PROFILED_TEST_POSTGRES, or the local default), dropped when the
// test ends. Without a reachable PostgreSQL it skips, or fails under CI=true.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultTestDSN is the PostgreSQL of a development machine; set
// PROFILED_TEST_POSTGRES to use another. Each test gets a schema of its own
// in that database and drops it when done.
const defaultTestDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseDSN is the database the schemas are made in.
func BaseDSN() string {
	if dsn := os.Getenv("PROFILED_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return defaultTestDSN
}

var reachable = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, BaseDSN())
	if err != nil {
		return err
	}
	return conn.Close(ctx)
})

// Schema creates a fresh schema, dropped when t ends, and returns the
// base DSN pointed at it with search_path, and the schema's name. Without
// a reachable PostgreSQL it skips t, or fails it when CI=true.
func Schema(t testing.TB) (dsn, schema string) {
	t.Helper()
	if err := reachable(); err != nil {
		msg := "PostgreSQL at " + Redact(BaseDSN()) + " is unreachable (" + err.Error() + "); " +
			"start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start " +
			"(or set PROFILED_TEST_POSTGRES)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema = "profiled_test_" + hex.EncodeToString(b)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, BaseDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET synchronous_commit = off; CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, BaseDSN())
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "SET synchronous_commit = off; DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(BaseDSN())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", schema)
	// A test database need not survive a crash, and commits that wait for
	// no disk make the suite several times faster.
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String(), schema
}

// Redact hides a DSN's password in messages.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}

// Reachable reports whether PostgreSQL answers, without skipping.
func Reachable() bool { return reachable() == nil }
