package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"path"

	"github.com/pressly/goose/v3"
)

// LatestVersion is the version of the newest goose migration in
// migrations: a database whose SchemaVersion is higher was migrated by a
// newer profiled, and this one must not serve it.
func LatestVersion(migrations fs.FS) int64 {
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		panic(err) // the pattern is valid
	}
	var latest int64
	for _, name := range names {
		v, err := goose.NumericComponent(path.Base(name))
		if err != nil {
			panic(fmt.Sprintf("migration %s: %v", name, err))
		}
		latest = max(latest, v)
	}
	return latest
}

// Pending reports whether a schema at version current lacks migrations
// of a binary whose newest is latest. It refuses a schema newer than
// latest: that one was migrated by a newer profiled, which this binary
// must not write to. An up-to-date schema needs no goose, which would
// only parse every migration to find nothing to do: that was most of the
// start-up's allocations and memory (issue 16).
func Pending(engine string, current, latest int64) (bool, error) {
	if current > latest {
		return false, fmt.Errorf("%s: the database schema is at version %d, newer than this binary's %d: upgrade profiled",
			engine, current, latest)
	}
	return current < latest, nil
}

// SchemaVersion returns the version of the last migration applied, 0 if
// none ever was, asking what goose's GetDBVersion asks without its side
// effects (it creates the table, and on PostgreSQL takes the migration
// lock). hasTable is the engine's query of whether goose's table exists;
// queryRow runs a query outside any statement cache.
func SchemaVersion(ctx context.Context, engine, hasTable string, queryRow func(ctx context.Context, query string) Row) (int64, error) {
	var exists bool
	var v int64
	err := queryRow(ctx, hasTable).Scan(&exists)
	if err == nil && exists {
		err = queryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version`).Scan(&v)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: schema version: %w", engine, err)
	}
	return v, nil
}

// Ping runs a query.
func (r Reader) Ping(ctx context.Context) error {
	var one int
	if err := r.q.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("%s: ping: %w", r.d.Name, err)
	}
	return nil
}
