package core_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/clientjwt"
	"github.com/profiled/profiled/internal/testenv"
	"github.com/profiled/profiled/store/sqlite"
)

// lastCode returns the number and the 6-digit code of the last text sent.
func lastCode(t *testing.T, sms *testenv.SMSInbox) (string, string) {
	t.Helper()
	all := sms.Messages()
	if len(all) == 0 {
		t.Fatal("no SMS was sent")
	}
	last := all[len(all)-1]
	code := sms.LastCode()
	if code == "" {
		t.Fatalf("SMS %q carries no 6-digit code", last.Message)
	}
	return last.To, code
}

// env is a Service on a real SQLite file in a temporary directory.
type env struct {
	t     *testing.T
	ctx   context.Context
	path  string
	store *sqlite.Store
	box   *core.SecretBox
	sms   *testenv.SMSInbox
	clock *testenv.Clock
	svc   *core.Service
	// cost is the password cost, testenv.FastPasswords unless a test pins
	// the production one (newProductionEnv).
	cost *core.PasswordCost
	// events records the security events the service reported.
	events *eventLog
	// quotas are the service's (zero: the defaults); set them, then reopen.
	quotas core.Quotas
	// registration opens client registration (RFC 7591); set it, then reopen.
	registration bool
}

// start is a whole second on a TOTP step boundary.
var start = time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env { return newEnvCost(t, testenv.FastPasswords) }

// newProductionEnv is newEnv with the production password cost, for the
// tests of the hashing itself.
func newProductionEnv(t *testing.T) *env { return newEnvCost(t, nil) }

func newEnvCost(t *testing.T, cost *core.PasswordCost) *env {
	t.Helper()
	e := &env{
		cost:   cost,
		t:      t,
		ctx:    context.Background(),
		path:   filepath.Join(t.TempDir(), "profiled.db"),
		box:    newBox(t),
		sms:    &testenv.SMSInbox{},
		clock:  testenv.NewClock(start),
		events: &eventLog{},
	}
	e.open()
	t.Cleanup(func() {
		if e.store != nil {
			e.store.Close()
		}
	})
	return e
}

func (e *env) open() {
	e.t.Helper()
	st, err := sqlite.Open(e.ctx, e.path)
	if err != nil {
		e.t.Fatalf("sqlite.Open: %v", err)
	}
	e.store = st
	e.svc = core.New(core.Config{PasswordCost: e.cost, Store: st, Box: e.box, SMS: e.sms, Now: e.clock.Now, Rand: rand.Reader,
		Events: e.events, Quotas: e.quotas, ClientKeys: clientjwt.New(nil, e.clock.Now), Registration: e.registration})
}

// reopen closes the store and builds a new Service on the same file, as a
// restart or another replica would.
func (e *env) reopen() {
	e.t.Helper()
	noErr(e.t, e.store.Close())
	e.store = nil
	e.open()
}

// user creates a user and returns it acting through a fresh "*" token.
//
// A restricted user joins a new account owned by name-owner, since the
// first user of an account is its owner.
func (e *env) user(name string, restricted bool) core.Actor {
	e.t.Helper()
	in := core.UserCreate{Username: name, Email: name + "@example.com", Restricted: restricted}
	if restricted {
		owner, err := e.svc.CreateUser(e.ctx, core.UserCreate{Username: name + "-owner", Email: name + "-owner@example.com"})
		noErr(e.t, err)
		in.AccountID = owner.AccountID
	}
	_, err := e.svc.CreateUser(e.ctx, in)
	noErr(e.t, err)
	return e.token(name, core.AllScopes)
}

// userID is the id of the user named name.
func (e *env) userID(name string) int64 {
	e.t.Helper()
	u, err := e.svc.UserByName(e.ctx, name)
	noErr(e.t, err)
	return u.User.ID
}

// token issues a personal token for username with scopes and authenticates it.
func (e *env) token(username string, scopes core.Scopes) core.Actor {
	e.t.Helper()
	_, raw, err := e.svc.IssueToken(e.ctx, username, "test", scopes, nil)
	noErr(e.t, err)
	a, err := e.svc.Authenticate(e.ctx, raw)
	noErr(e.t, err)
	return a
}

// rawToken stores a token straight through the store (for kinds and
// client ids the service does not issue yet) and returns its secret.
func (e *env) rawToken(tok core.Token) (core.Token, string) {
	e.t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	raw := hex.EncodeToString(b)
	tok.Prefix, tok.Hash = raw[:16], core.HashToken(raw)
	if tok.Created.IsZero() {
		tok.Created = e.clock.Now()
	}
	if tok.Label == "" {
		tok.Label = "direct"
	}
	noErr(e.t, e.store.Update(e.ctx, func(tx core.Tx) error { return tx.CreateToken(e.ctx, &tok) }))
	return tok, raw
}

// refresh re-reads the actor's user, as the next request would.
func (e *env) refresh(a core.Actor) core.User {
	e.t.Helper()
	u, err := e.svc.Profile(e.ctx, a)
	noErr(e.t, err)
	return u
}

// fileBytes returns every byte SQLite keeps on disk for the database:
// the main file, the WAL and the shared-memory index.
func (e *env) fileBytes() []byte {
	e.t.Helper()
	files, err := filepath.Glob(e.path + "*")
	noErr(e.t, err)
	if len(files) == 0 {
		e.t.Fatal("no database files on disk")
	}
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		noErr(e.t, err)
		all = append(all, b...)
	}
	return all
}

// assertNotOnDisk fails if any of secrets appears in the database files.
func (e *env) assertNotOnDisk(secrets ...string) {
	e.t.Helper()
	raw := e.fileBytes()
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			e.t.Errorf("%q is stored in plaintext in the database files", s)
		}
	}
}

// rawDB opens the database file with a plain SQL connection, beside the store.
func (e *env) rawDB() *sql.DB {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.path+"?mode=ro")
	noErr(e.t, err)
	e.t.Cleanup(func() { db.Close() })
	return db
}

var allRows = core.ListQuery{Page: 1, PageSize: core.MaxPageSize}

func ptr[T any](v T) *T { return &v }
