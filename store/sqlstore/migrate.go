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

// Ping runs a query.
func (r Reader) Ping(ctx context.Context) error {
	var one int
	if err := r.q.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("%s: ping: %w", r.d.Name, err)
	}
	return nil
}
