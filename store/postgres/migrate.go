package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sync"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/profiled/profiled/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations is the directory of embedded migrations, as goose reads it.
func migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}

var latestVersion = sync.OnceValue(func() int64 { return sqlstore.LatestVersion(migrations()) })

// LatestVersion is the version of the newest migration built into this
// binary: a database whose SchemaVersion is higher was migrated by a newer
// profiled, and this one must not serve it.
func (s *Store) LatestVersion() int64 { return latestVersion() }

// SchemaVersion returns the version of the last migration applied to the
// database's schema, 0 if none ever was. It only reads.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	return sqlstore.SchemaVersion(ctx, "postgres", `SELECT to_regclass('goose_db_version') IS NOT NULL`,
		func(ctx context.Context, q string) sqlstore.Row { return s.pool.QueryRow(ctx, q) })
}

// Migrate applies every embedded migration the schema lacks, each in its
// own transaction. Replicas starting together take turns on an advisory
// lock per schema, so each migration runs once; calling Migrate on an up
// to date schema changes nothing. It refuses a schema newer than the
// binary. Migrations run without the pool's statement_timeout.
func (s *Store) Migrate(ctx context.Context) error {
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if pending, err := sqlstore.Pending("postgres", v, s.LatestVersion()); !pending {
		return err
	}

	cc := s.pool.Config().ConnConfig
	delete(cc.RuntimeParams, "statement_timeout")
	db := stdlib.OpenDB(*cc)
	defer db.Close()

	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations(),
		goose.WithDisableGlobalRegistry(true),
		goose.WithSessionLocker(schemaLocker{}))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// schemaLocker is goose's session lock as one advisory lock per schema
// (not goose's default of one per database, which polls every 5 seconds):
// pg_advisory_lock waits in the server and wakes as soon as the holder
// unlocks, and stores in different schemas of one database migrate
// independently.
type schemaLocker struct{}

const lockKey = `hashtextextended('profiled.migrate.' || coalesce(current_schema(), ''), 0)`

func (schemaLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	return nil
}

func (schemaLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock(`+lockKey+`)`); err != nil {
		return fmt.Errorf("migration unlock: %w", err)
	}
	return nil
}
