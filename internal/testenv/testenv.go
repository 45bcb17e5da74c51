// Package testenv gives tests real databases: a fresh SQLite file always,
// and a fresh PostgreSQL schema when one is reachable, so every end-to-end
// test runs on every backend.
package testenv

import (
	"context"
	"testing"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlite"
)

// Backend opens a fresh, empty store for one test.
type Backend struct {
	Name string
	Open func(t testing.TB) core.Store
}

// Backends returns SQLite and, when reachable, PostgreSQL.
func Backends(t testing.TB) []Backend {
	t.Helper()
	out := []Backend{{Name: "sqlite", Open: OpenSQLite}}
	if pg, ok := postgresBackend(t); ok {
		out = append(out, pg)
	}
	return out
}

// OpenSQLite opens a store on a new file in the test's temp dir.
func OpenSQLite(t testing.TB) core.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), t.TempDir()+"/profiled.db")
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestKey is a fixed AES key for tests.
func TestKey() *core.SecretBox {
	b, err := core.NewSecretBox([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		panic(err)
	}
	return b
}

// FastPasswords is the password cost of tests that do not pin the
// production parameters: argon2id with 64 KiB and one pass instead of
// 64 MiB and two, so that a test that signs in does not spend 150 ms of
// CPU on each hash. Never in production: cmd/profiled leaves
// core.Config.PasswordCost nil.
var FastPasswords = &core.PasswordCost{MemoryKiB: 64, Passes: 1}
