package testenv

import (
	"context"
	"os"
	"testing"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/pgtest"
	"github.com/profiled/profiled/store/postgres"
)

// postgresBackend is PostgreSQL when it answers (always under CI=true,
// where .ci/run makes sure it does). Each test gets its own schema.
func postgresBackend(t testing.TB) (Backend, bool) {
	if !pgtest.Reachable() && os.Getenv("CI") != "true" {
		t.Logf("PostgreSQL at %s is unreachable: running on SQLite only", pgtest.Redact(pgtest.BaseDSN()))
		return Backend{}, false
	}
	return Backend{Name: "postgres", Open: OpenPostgres}, true
}

// OpenPostgres opens a migrated store in a fresh schema.
func OpenPostgres(t testing.TB) core.Store {
	t.Helper()
	dsn, _ := pgtest.Schema(t)
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{Migrate: true})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
