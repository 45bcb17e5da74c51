package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/postgres"
	"github.com/profiled/profiled/store/sqlite"
)

// defaultDB is the database of a server started with no configuration:
// a file in the working directory.
const defaultDB = "sqlite:profiled.db"

// database is what cmd/profiled needs of a store beyond core.Store.
type database interface {
	core.Store
	// SchemaVersion is the version of the last migration applied.
	SchemaVersion(ctx context.Context) (int64, error)
	// Migrate applies every migration the database lacks.
	Migrate(ctx context.Context) error
}

// dbConfig is the database part of the configuration, shared by every
// command that opens the database.
type dbConfig struct {
	dsn string
	pg  postgres.Options
}

// dbFlags registers --db and the PostgreSQL pool flags.
func dbFlags(fs *flagSet) *dbConfig {
	c := &dbConfig{}
	fs.envString(&c.dsn, "db", "PROFILED_DB", defaultDB,
		"the database `DSN`: sqlite:PATH (or a bare PATH) for an SQLite file, postgres://... or postgresql://... for PostgreSQL")
	fs.envInt32(&c.pg.MaxConns, "pg-max-conns", "PROFILED_PG_MAX_CONNS", 0,
		"PostgreSQL: at most `N` connections in the pool (0: the DSN's pool_max_conns, else the larger of 4 and the number of CPUs)")
	fs.envInt32(&c.pg.MinConns, "pg-min-conns", "PROFILED_PG_MIN_CONNS", 0,
		"PostgreSQL: `N` idle connections the pool keeps open (0: the DSN's pool_min_conns, else none)")
	fs.envDuration(&c.pg.ConnectTimeout, "pg-connect-timeout", "PROFILED_PG_CONNECT_TIMEOUT", 0,
		fmt.Sprintf("PostgreSQL: the longest `DURATION` dialing one connection may take (0: the DSN's connect_timeout, else %s)", postgres.DefaultConnectTimeout))
	fs.envDuration(&c.pg.StatementTimeout, "pg-statement-timeout", "PROFILED_PG_STATEMENT_TIMEOUT", 0,
		fmt.Sprintf("PostgreSQL: the `DURATION` after which the server cancels a statement, migrations excepted (0: the DSN's statement_timeout, else %s)", postgres.DefaultStatementTimeout))
	return c
}

// isPostgres reports whether the DSN names a PostgreSQL database.
func (c *dbConfig) isPostgres() bool {
	lower := strings.ToLower(c.dsn)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// sqlitePath is the file of an SQLite DSN.
func (c *dbConfig) sqlitePath() string { return strings.TrimPrefix(c.dsn, "sqlite:") }

// String names the database for messages, without a password.
func (c *dbConfig) String() string {
	if c.isPostgres() {
		if u, err := url.Parse(c.dsn); err == nil {
			return u.Redacted()
		}
		return "the PostgreSQL database of --db"
	}
	return c.sqlitePath()
}

func (c *dbConfig) validate() error {
	if strings.TrimSpace(c.dsn) == "" {
		return usagef("--db is empty: give sqlite:PATH or a postgres:// DSN")
	}
	if !c.isPostgres() {
		if scheme, _, ok := strings.Cut(c.dsn, "://"); ok {
			return usagef("--db: unsupported database %q: use sqlite:PATH or a postgres:// DSN", scheme)
		}
		if p := c.sqlitePath(); p == "" || p == ":memory:" {
			return usagef("--db: %q is not a database file: give sqlite:PATH, e.g. sqlite:profiled.db", c.dsn)
		}
	}
	if c.pg.MinConns > c.pg.MaxConns && c.pg.MaxConns > 0 {
		return usagef("--pg-min-conns (%d) is more than --pg-max-conns (%d)", c.pg.MinConns, c.pg.MaxConns)
	}
	return nil
}

// migrations says what opening the database does about its schema.
type migrations int

const (
	// applyMigrations brings an older schema up to date (serve, migrate).
	applyMigrations migrations = iota
	// requireCurrent refuses a schema that is not the binary's own, so
	// that the operator's commands never write to a half-migrated database.
	requireCurrent
)

// latestVersioner is a store that knows the newest migration it embeds.
type latestVersioner interface{ LatestVersion() int64 }

// openDB opens the database of c. Either way, a database whose schema is
// newer than this binary knows is refused: an older binary must not write
// to it.
func openDB(ctx context.Context, c *dbConfig, m migrations) (database, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if !c.isPostgres() {
		dir := filepath.Dir(c.sqlitePath())
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return nil, fmt.Errorf("the directory %s of the SQLite database does not exist: create it, or choose another --db", dir)
		}
		// SQLite migrates as it opens: one process owns the file.
		st, err := sqlite.Open(ctx, c.dsn)
		if err != nil {
			return nil, fmt.Errorf("open SQLite database %s: %w", c, err)
		}
		if lv, ok := any(st).(latestVersioner); ok {
			if _, err := checkSchema(ctx, st, lv.LatestVersion(), c); err != nil {
				st.Close()
				return nil, err
			}
		}
		return st, nil
	}

	opts := c.pg
	opts.Migrate = false // checked first, below
	st, err := postgres.Open(ctx, c.dsn, opts)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL database %s: %w (check the DSN and that the server accepts connections)", c, err)
	}
	current, err := checkSchema(ctx, st, st.LatestVersion(), c)
	if err != nil {
		st.Close()
		return nil, err
	}
	if latest := st.LatestVersion(); current < latest {
		if m == requireCurrent {
			st.Close()
			return nil, fmt.Errorf("the schema of %s is at version %d and this profiled needs version %d: run \"profiled migrate\" (or start \"profiled serve\", which migrates) first", c, current, latest)
		}
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, fmt.Errorf("migrate %s from version %d to %d: %w", c, current, latest, err)
		}
	}
	return st, nil
}

// checkSchema returns the schema version of st, or an error if it is
// newer than latest, the newest this binary knows.
func checkSchema(ctx context.Context, st database, latest int64, c *dbConfig) (int64, error) {
	current, err := st.SchemaVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the schema version of %s: %w", c, err)
	}
	if current > latest {
		return 0, fmt.Errorf("the schema of %s is at version %d, newer than this profiled knows (%d): a newer profiled has migrated it; run that version or a later one (%s)", c, current, latest, versionString())
	}
	return current, nil
}
