package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/ssh"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/postgres"
	"github.com/profiled/profiled/store/sqlite"
)

// seedPlan says what the database holds before the load starts. Every
// token is derived from secret and its user's id, so the harness can name
// any user's token without keeping a million of them in memory, and no
// one without secret can guess one.
type seedPlan struct {
	Users      int64
	HeavyUsers int64 // users with HeavyKeys SSH keys instead of KeysPerUser
	HeavyKeys  int
	secret     [32]byte
	created    time.Time
}

// Per-user rows of a seeded database.
const (
	keysPerUser   = 2
	tokensPerUser = 3 // laptop ("*", never expires; the one the load uses), ci-deploy, terraform
	seedChunk     = 20_000
)

// tokenLabels are the labels of each user's tokens, in order; the X-Filter
// of the token list matches them all.
var tokenLabels = [tokensPerUser]string{"laptop", "ci-deploy", "terraform"}

func newSeedPlan(users int64) seedPlan {
	p := seedPlan{Users: users, HeavyUsers: min(100, users), HeavyKeys: 120,
		created: time.Now().UTC().Truncate(time.Second).Add(-24 * time.Hour)}
	if _, err := randRead(p.secret[:]); err != nil {
		panic(err)
	}
	return p
}

// derive returns 32 bytes that only secret's holder can compute.
func (p *seedPlan) derive(kind byte, user int64, i int) [32]byte {
	var b [32 + 1 + 8 + 8]byte
	copy(b[:], p.secret[:])
	b[32] = kind
	binary.BigEndian.PutUint64(b[33:], uint64(user))
	binary.BigEndian.PutUint64(b[41:], uint64(i))
	return sha256.Sum256(b[:])
}

// Token returns the raw token i of user, 64 hex digits as core makes them.
func (p *seedPlan) Token(user int64, i int) string {
	d := p.derive('t', user, i)
	return hex.EncodeToString(d[:])
}

// heavyStride spaces the heavy users evenly over the ids.
func (p *seedPlan) heavyStride() int64 { return max(1, p.Users/max(1, p.HeavyUsers)) }

// IsHeavy reports whether user has HeavyKeys SSH keys.
func (p *seedPlan) IsHeavy(user int64) bool {
	s := p.heavyStride()
	return (user-1)%s == 0 && (user-1)/s < p.HeavyUsers
}

// HeavyUser returns the i-th heavy user's id.
func (p *seedPlan) HeavyUser(i int64) int64 { return i*p.heavyStride() + 1 }

// SampleUsers returns up to n user ids spread evenly over all of them, so
// the load touches the whole id range (and the whole index).
func (p *seedPlan) SampleUsers(n int64) []int64 {
	n = min(n, p.Users)
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i)*p.Users/n + 1
	}
	return out
}

// seedPrefs is each user's stored preferences object (about 200 bytes).
const seedPrefs = `{"theme":"dark","sortKeys":{"linodes":{"order":"asc","orderBy":"label"},"volumes":{"order":"desc","orderBy":"created"}},"desktop_sidebar_open":true,"timezone_shown":"UTC","type_to_confirm":true,"editorMode":"vim"}`

type seedUser struct {
	id                                  int64
	username, email, referral           string
	tokens                              [tokensPerUser]seedToken
	keys                                []seedKey
	created                             time.Time
	timezone, lish, authType, keysValue string
}

type seedToken struct {
	label, scopes, prefix string
	hash                  []byte
	expiry                *time.Time
}

type seedKey struct {
	label, key, fingerprint string
}

// sshKey returns the authorized_keys line and fingerprint of user's key i:
// a well-formed ed25519 key whose bytes are derived, not generated (a
// million real key pairs would take minutes).
func (p *seedPlan) sshKey(user int64, i int) seedKey {
	d := p.derive('k', user, i)
	pub, err := ssh.NewPublicKey(ed25519.PublicKey(d[:]))
	if err != nil {
		panic(err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + fmt.Sprintf(" user%d@host%d", user, i)
	return seedKey{label: fmt.Sprintf("key %d", i), key: line, fingerprint: ssh.FingerprintSHA256(pub)}
}

// user builds every seeded row of one user.
func (p *seedPlan) user(id int64) seedUser {
	ref := p.derive('r', id, 0)
	u := seedUser{id: id, username: fmt.Sprintf("user%08d", id), email: fmt.Sprintf("user%d@example.com", id),
		referral: hex.EncodeToString(ref[:20]), created: p.created,
		timezone: "UTC", lish: core.LishKeysOnly, authType: "password", keysValue: "[]"}
	expiry := p.created.AddDate(1, 0, 0)
	scopes := [tokensPerUser]string{"*", "account:read_only linodes:read_write", "account:read_write"}
	for i := range u.tokens {
		raw := p.Token(id, i)
		t := seedToken{label: tokenLabels[i], scopes: scopes[i], prefix: raw[:core.TokenPrefixLength], hash: core.HashToken(raw)}
		if i == 1 {
			t.expiry = &expiry
		}
		u.tokens[i] = t
	}
	n := keysPerUser
	if p.IsHeavy(id) {
		n = p.HeavyKeys
	}
	u.keys = make([]seedKey, n)
	for i := range u.keys {
		u.keys[i] = p.sshKey(id, i)
	}
	return u
}

// chunks generates the users in chunks of seedChunk on every CPU, ahead of
// the writer by one chunk.
func (p *seedPlan) chunks(ctx context.Context) <-chan []seedUser {
	out := make(chan []seedUser, 1)
	go func() {
		defer close(out)
		for from := int64(1); from <= p.Users; from += seedChunk {
			to := min(from+seedChunk-1, p.Users)
			chunk := make([]seedUser, to-from+1)
			workers := runtime.GOMAXPROCS(0)
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := w; i < len(chunk); i += workers {
						chunk[i] = p.user(from + int64(i))
					}
				}(w)
			}
			wg.Wait()
			select {
			case out <- chunk:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// seedSQLite creates the schema with the store's own migrations, then
// writes every row in a few big transactions on one connection. Seeding
// runs with synchronous=OFF: it is the harness's set-up, not a write the
// server acknowledged, and the file is checkpointed and synced at the end.
func seedSQLite(ctx context.Context, path string, p *seedPlan) error {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	q := url.Values{}
	// No journal while seeding: the rows are written once, to the file,
	// rather than to the WAL and then again by a checkpoint. WAL mode
	// comes back at the end, as profiled runs it.
	q.Add("_pragma", "locking_mode(EXCLUSIVE)")
	q.Add("_pragma", "journal_mode(OFF)")
	q.Add("_pragma", "synchronous(OFF)")
	q.Add("_pragma", "foreign_keys(0)")
	q.Add("_pragma", "cache_size(-262144)") // 256 MiB while seeding
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}).String())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	for chunk := range p.chunks(ctx) {
		if err := seedSQLiteChunk(ctx, db, chunk); err != nil {
			return err
		}
	}
	for _, pragma := range []string{`PRAGMA journal_mode = WAL`, `PRAGMA synchronous = FULL`, `PRAGMA locking_mode = NORMAL`} {
		if _, err := db.ExecContext(ctx, pragma); err != nil {
			return fmt.Errorf("seed: %s: %w", pragma, err)
		}
	}
	// The exclusive lock goes with the connection; fsync the file once.
	if err := db.Close(); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// seedTables are the tables both seeders fill and their columns, in the
// order seedRows gives the values.
var seedTables = []struct {
	table string
	cols  []string
}{
	{"accounts", []string{"id", "euuid", "created"}},
	{"users", []string{"id", "account_id", "username", "email", "timezone", "email_notifications", "ip_whitelist_enabled",
		"lish_auth_method", "authorized_keys", "restricted", "two_factor_auth", "authentication_type",
		"verified_phone_number", "referral_code", "created"}},
	{"tokens", []string{"user_id", "kind", "label", "scopes", "created", "expiry", "prefix", "hash", "client_id"}},
	{"ssh_keys", []string{"user_id", "label", "key", "fingerprint", "created"}},
	{"preferences", []string{"user_id", "client_id", "value", "bytes"}},
}

// seedRows appends the rows of a chunk of users to rows, one list per
// table of seedTables, with times as the engine's time argument.
func seedRows(chunk []seedUser, ts func(time.Time) any) (rows [5][][]any) {
	for _, u := range chunk {
		created := ts(u.created)
		// Each user owns an account of their own, of the same id.
		rows[0] = append(rows[0], []any{u.id, fmt.Sprintf("00000000-0000-4000-8000-%012x", u.id), created})
		rows[1] = append(rows[1], []any{u.id, u.id, u.username, u.email, u.timezone, true, false, u.lish, u.keysValue,
			false, false, u.authType, "", u.referral, created})
		for _, t := range u.tokens {
			var exp any
			if t.expiry != nil {
				exp = ts(*t.expiry)
			}
			rows[2] = append(rows[2], []any{u.id, "personal", t.label, t.scopes, created, exp, t.prefix, t.hash, ""})
		}
		for _, k := range u.keys {
			rows[3] = append(rows[3], []any{u.id, k.label, k.key, k.fingerprint, created})
		}
		rows[4] = append(rows[4], []any{u.id, "", seedPrefs, len(seedPrefs)})
	}
	return rows
}

func seedSQLiteChunk(ctx context.Context, db *sql.DB, chunk []seedUser) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows := seedRows(chunk, func(t time.Time) any { return t.Unix() })
	for i, t := range seedTables {
		b := &bulkInsert{tx: tx, head: "INSERT INTO " + t.table + " (" + strings.Join(t.cols, ", ") + ") VALUES ",
			row: "(?" + strings.Repeat(", ?", len(t.cols)-1) + ")"}
		for _, r := range rows[i] {
			if err := b.add(ctx, r...); err != nil {
				return fmt.Errorf("seed: %s: %w", t.table, err)
			}
		}
		if err := b.flush(ctx); err != nil {
			return fmt.Errorf("seed: %s: %w", t.table, err)
		}
	}
	return tx.Commit()
}

// bulkInsert writes rows bulkRows at a time, with one prepared
// multi-row INSERT: far fewer statements than rows.
type bulkInsert struct {
	tx        *sql.Tx
	head, row string // "INSERT INTO t (...) VALUES ", "(?, ?)"
	full      *sql.Stmt
	args      []any
	n         int
}

const bulkRows = 200

func (b *bulkInsert) statement(rows int) string {
	return b.head + strings.TrimSuffix(strings.Repeat(b.row+", ", rows), ", ")
}

func (b *bulkInsert) add(ctx context.Context, vals ...any) error {
	b.args = append(b.args, vals...)
	if b.n++; b.n < bulkRows {
		return nil
	}
	if b.full == nil {
		var err error
		if b.full, err = b.tx.PrepareContext(ctx, b.statement(bulkRows)); err != nil {
			return err
		}
	}
	_, err := b.full.ExecContext(ctx, b.args...)
	b.args, b.n = b.args[:0], 0
	return err
}

func (b *bulkInsert) flush(ctx context.Context) error {
	if b.n == 0 {
		return nil
	}
	_, err := b.tx.ExecContext(ctx, b.statement(b.n), b.args...)
	b.args, b.n = b.args[:0], 0
	return err
}

// seedPostgres creates the schema with the store's own migrations, then
// copies every row in with COPY, one transaction per chunk.
func seedPostgres(ctx context.Context, dsn string, p *seedPlan) error {
	st, err := postgres.Open(ctx, dsn, postgres.Options{Migrate: true})
	if err != nil {
		return err
	}
	st.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SET synchronous_commit = off`); err != nil {
		return err
	}
	for chunk := range p.chunks(ctx) {
		if err := seedPostgresChunk(ctx, conn, chunk); err != nil {
			return err
		}
	}
	// COPY wrote the users' and accounts' ids itself; the identities
	// continue after them.
	for _, table := range []string{"users", "accounts"} {
		if _, err := conn.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), $2)`, table, p.Users); err != nil {
			return fmt.Errorf("seed: %s' identity: %w", table, err)
		}
	}
	// VACUUM as well as ANALYZE: otherwise autovacuum visits the freshly
	// copied tables (its insert threshold) during the first measurements,
	// on the same two CPUs.
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return fmt.Errorf("seed: vacuum analyze: %w", err)
	}
	return nil
}

func seedPostgresChunk(ctx context.Context, conn *pgx.Conn, chunk []seedUser) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	rows := seedRows(chunk, func(t time.Time) any { return t })
	for i, t := range seedTables {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromRows(rows[i])); err != nil {
			return fmt.Errorf("seed: copy %s: %w", t.table, err)
		}
	}
	return tx.Commit(ctx)
}

// prefsBody is the 1 KB preferences object the PUT sends.
var prefsBody = func() string {
	m := map[string]string{}
	for i := 0; len(mustJSON(m)) < 1000; i++ {
		m[fmt.Sprintf("setting_%03d", i)] = "value-of-a-console-setting"
	}
	return string(mustJSON(m))
}()

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
