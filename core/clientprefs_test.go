package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// clientActor is a token of OAuth client clientID for user, with scopes.
func (e *env) clientActor(user core.Actor, clientID string, scopes core.Scopes) core.Actor {
	e.t.Helper()
	_, raw := e.rawToken(core.Token{UserID: user.User.ID, Kind: core.TokenOAuth, Scopes: scopes, ClientID: clientID})
	a, err := e.svc.Authenticate(e.ctx, raw)
	noErr(e.t, err)
	return a
}

// withClients rebuilds the service with a directory of clients.
func (e *env) withClients(ids ...string) {
	e.t.Helper()
	dir, err := core.NewStaticClients(ids...)
	noErr(e.t, err)
	e.svc = core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: e.store, Box: e.box, SMS: e.sms, Now: e.clock.Now, Clients: dir})
}

// untouchable fails the test if the body is read at all.
type untouchable struct{ t *testing.T }

func (u untouchable) Read([]byte) (int, error) {
	u.t.Error("the body was read although the request was refused")
	return 0, io.EOF
}

func TestClientPreferencesNamespaces(t *testing.T) {
	e := newEnv(t)
	e.withClients("x", "y")
	owner := e.user("alice", false)
	personal := e.token("alice", "user:preferences:read user:preferences:write")

	got, err := e.svc.ClientPreferences(e.ctx, personal, core.PersonalNamespace)
	noErr(t, err)
	if string(got) != "{}" {
		t.Fatalf("before any PUT: %s", got)
	}
	put, err := e.svc.PutClientPreferences(e.ctx, personal, core.PersonalNamespace, strings.NewReader(` { "theme" : "dark" } `), -1, nil)
	noErr(t, err)
	if string(put) != `{"theme":"dark"}` {
		t.Fatalf("PUT returned %s", put)
	}
	// The Linode face reads the same namespace, byte for byte, and back.
	lin, err := e.svc.Preferences(e.ctx, owner)
	noErr(t, err)
	if string(lin) != string(put) {
		t.Fatalf("/v4/profile/preferences sees %s", lin)
	}
	_, err = e.svc.PutPreferences(e.ctx, owner, json.RawMessage(`{"from":"linode"}`), nil)
	noErr(t, err)
	got, err = e.svc.ClientPreferences(e.ctx, personal, core.PersonalNamespace)
	noErr(t, err)
	if string(got) != `{"from":"linode"}` {
		t.Fatalf("after a Linode PUT: %s", got)
	}

	// Client x's own namespace is the one its tokens use on /v4/profile/preferences.
	x := e.clientActor(owner, "x", "account:read_write user:preferences:read user:preferences:write")
	_, err = e.svc.PutClientPreferences(e.ctx, x, "x", strings.NewReader(`{"who":"x"}`), -1, nil)
	noErr(t, err)
	lin, err = e.svc.Preferences(e.ctx, x)
	noErr(t, err)
	if string(lin) != `{"who":"x"}` {
		t.Fatalf("client x on /v4/profile/preferences sees %s", lin)
	}
	got, err = e.svc.ClientPreferences(e.ctx, owner, "x") // "*" opens every namespace
	noErr(t, err)
	if string(got) != `{"who":"x"}` {
		t.Fatalf("a * token reads %s in x", got)
	}
	got, err = e.svc.ClientPreferences(e.ctx, owner, "y")
	noErr(t, err)
	if string(got) != "{}" {
		t.Fatalf("y: %s", got)
	}
	// Another user's x namespace is their own.
	bob := e.user("bobby", false)
	got, err = e.svc.ClientPreferences(e.ctx, bob, "x")
	noErr(t, err)
	if string(got) != "{}" {
		t.Fatalf("bobby's x: %s", got)
	}
}

func TestClientPreferencesAccess(t *testing.T) {
	e := newEnv(t)
	e.withClients("x", "y")
	owner := e.user("alice", false)
	cases := []struct {
		name       string
		own        string // "" for a personal token
		scopes     core.Scopes
		op, target string
		want       core.Kind // -1: allowed
	}{
		{"own read", "x", "user:preferences:read", core.PreferencesRead, "x", -1},
		{"own read, qualified", "x", "user:preferences:read:x", core.PreferencesRead, "x", -1},
		{"own write", "x", "user:preferences:write", core.PreferencesWrite, "x", -1},
		{"own write with read only", "x", "user:preferences:read", core.PreferencesWrite, "x", core.KindForbidden},
		{"own read with write only", "x", "user:preferences:write", core.PreferencesRead, "x", core.KindForbidden},
		{"own read with account scopes", "x", "account:read_write", core.PreferencesRead, "x", core.KindForbidden},
		{"other read without scope", "x", "user:preferences:read user:preferences:write", core.PreferencesRead, "y", core.KindForbidden},
		{"other read with scope", "x", "user:preferences:read:y", core.PreferencesRead, "y", -1},
		{"other write with read scope", "x", "user:preferences:read:y", core.PreferencesWrite, "y", core.KindForbidden},
		{"other write with scope", "x", "user:preferences:write:y", core.PreferencesWrite, "y", -1},
		{"personal from a client", "x", "user:preferences:read", core.PreferencesRead, core.PersonalNamespace, core.KindForbidden},
		{"personal from a client with scope", "x", "user:preferences:read:personal", core.PreferencesRead, core.PersonalNamespace, -1},
		{"personal own", "", "user:preferences:read", core.PreferencesRead, core.PersonalNamespace, -1},
		{"client from personal", "", "user:preferences:read", core.PreferencesRead, "x", core.KindForbidden},
		{"client from personal with scope", "", "user:preferences:write:x", core.PreferencesWrite, "x", -1},
		{"unknown client with its scope", "x", "user:preferences:read:ghost", core.PreferencesRead, "ghost", core.KindNotFound},
		{"unknown client with *", "x", core.AllScopes, core.PreferencesWrite, "ghost", core.KindNotFound},
		{"unknown client without scope", "x", "user:preferences:read", core.PreferencesRead, "ghost", core.KindForbidden},
		{"impossible client id", "x", core.AllScopes, core.PreferencesRead, "a b", core.KindNotFound},
		{"impossible client id without scope", "", "user:preferences:read", core.PreferencesRead, strings.Repeat("z", 129), core.KindNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var a core.Actor
			if c.own == "" {
				a = e.token("alice", c.scopes)
			} else {
				a = e.clientActor(owner, c.own, c.scopes)
			}
			var err error
			if c.op == core.PreferencesRead {
				_, err = e.svc.ClientPreferences(e.ctx, a, c.target)
			} else if c.want == -1 {
				_, err = e.svc.PutClientPreferences(e.ctx, a, c.target, strings.NewReader(`{"ok":true}`), -1, nil)
			} else {
				_, err = e.svc.PutClientPreferences(e.ctx, a, c.target, untouchable{t}, -1, nil)
			}
			if c.want == -1 {
				noErr(t, err)
				return
			}
			ce := wantErr(t, err, c.want, "-")
			switch c.want {
			case core.KindForbidden:
				if ce.Code != core.CodeInsufficientScope || ce.Required == "" || !strings.Contains(ce.Reason, ce.Required) {
					t.Fatalf("forbidden: %+v", ce)
				}
			case core.KindNotFound:
				if ce.Code != core.CodeUnknownClient || ce.Field != "clientId" {
					t.Fatalf("not found: %+v", ce)
				}
			}
		})
	}
}

func TestClientPreferencesRequiredScope(t *testing.T) {
	e := newEnv(t)
	e.withClients("x", "y")
	owner := e.user("alice", false)
	a := e.clientActor(owner, "x", "account:read_only")
	_, err := e.svc.ClientPreferences(e.ctx, a, "x")
	if ce := wantErr(t, err, core.KindForbidden, "-"); ce.Required != "user:preferences:read" {
		t.Fatalf("own namespace needs %q", ce.Required)
	}
	_, err = e.svc.PutClientPreferences(e.ctx, a, "y", untouchable{t}, -1, nil)
	if ce := wantErr(t, err, core.KindForbidden, "-"); ce.Required != "user:preferences:write:y" {
		t.Fatalf("y needs %q", ce.Required)
	}
}

func TestClientPreferencesWithoutDirectory(t *testing.T) {
	e := newEnv(t) // no Clients: only the own and the personal namespaces exist
	owner := e.user("alice", false)
	x := e.clientActor(owner, "x", core.AllScopes)
	for _, ns := range []string{"x", core.PersonalNamespace} {
		_, err := e.svc.ClientPreferences(e.ctx, x, ns)
		noErr(t, err)
	}
	_, err := e.svc.ClientPreferences(e.ctx, x, "y")
	wantErr(t, err, core.KindNotFound, "clientId")
}

type failingDirectory struct{}

func (failingDirectory) ClientExists(context.Context, string) (bool, error) {
	return false, errors.New("registry down")
}

func TestClientDirectories(t *testing.T) {
	ctx := context.Background()
	a, err := core.NewStaticClients("b", "a", "b")
	noErr(t, err)
	if ids := a.IDs(); strings.Join(ids, ",") != "a,b" {
		t.Fatalf("IDs = %v", ids)
	}
	c, err := core.NewStaticClients("c")
	noErr(t, err)
	dirs := core.ClientDirectories{nil, a, c}
	for id, want := range map[string]bool{"a": true, "b": true, "c": true, "d": false, core.PersonalNamespace: false} {
		if got, err := dirs.ClientExists(ctx, id); err != nil || got != want {
			t.Errorf("ClientExists(%q) = %v, %v", id, got, err)
		}
	}
	if _, err := (core.ClientDirectories{failingDirectory{}, a}).ClientExists(ctx, "a"); err == nil {
		t.Error("an error of the first directory was dropped")
	}
	for _, bad := range []string{"", "a b", "a:b", "a/b", strings.Repeat("x", 129), core.PersonalNamespace} {
		if _, err := core.NewStaticClients(bad); err == nil {
			t.Errorf("NewStaticClients(%q) accepted it", bad)
		}
	}

	e := newEnv(t)
	owner := e.user("alice", false)
	e.svc = core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: e.store, Box: e.box, Clients: failingDirectory{}})
	_, err = e.svc.ClientPreferences(e.ctx, owner, "zzz")
	if err == nil || core.KindOf(err) != core.KindInternal {
		t.Fatalf("a failing directory: %v", err)
	}
}

func TestPutClientPreferencesRefusalStoresNothing(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	_, err := e.svc.PutClientPreferences(e.ctx, a, core.PersonalNamespace, strings.NewReader(`{"keep":1}`), -1, nil)
	noErr(t, err)
	for _, bad := range []string{
		`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11}`,
		`{"` + strings.Repeat("k", 129) + `":1}`,
		`{"a":1,"a":2}`,
		`{"a":[1,2}`,
		`[]`,
	} {
		_, err := e.svc.PutClientPreferences(e.ctx, a, core.PersonalNamespace, strings.NewReader(bad), -1, nil)
		if ce := core.AsError(err); ce == nil || ce.Code == "" {
			t.Fatalf("%.40q: %v", bad, err)
		}
	}
	got, err := e.svc.ClientPreferences(e.ctx, a, core.PersonalNamespace)
	noErr(t, err)
	if string(got) != `{"keep":1}` {
		t.Fatalf("a refused PUT changed the preferences to %s", got)
	}
}

// TestCreateTokenBindsPreferencesScopes: a client's token that creates a
// personal token passes on what its preferences scopes open, its client's
// namespace, and not the personal namespace.
func TestCreateTokenBindsPreferencesScopes(t *testing.T) {
	e := newEnv(t)
	owner := e.user("alice", false)
	x := e.clientActor(owner, "x", "account:read_write user:preferences:read")
	tok, _, err := e.svc.CreateToken(e.ctx, x, core.TokenCreate{Label: "copy"})
	noErr(t, err)
	if tok.Scopes != "account:read_write user:preferences:read:x" {
		t.Fatalf("copied scopes = %q", tok.Scopes)
	}
	_, _, err = e.svc.CreateToken(e.ctx, x, core.TokenCreate{Label: "escalate", Scopes: ptr("user:preferences:read")})
	wantErr(t, err, core.KindInvalid, "scopes")
	tok, _, err = e.svc.CreateToken(e.ctx, x, core.TokenCreate{Label: "explicit", Scopes: ptr("user:preferences:read:x")})
	noErr(t, err)
	if tok.Scopes != "user:preferences:read:x" {
		t.Fatalf("explicit scopes = %q", tok.Scopes)
	}
	// A personal token passes its scopes on as they are.
	p := e.token("alice", "account:read_write user:preferences:read")
	tok, _, err = e.svc.CreateToken(e.ctx, p, core.TokenCreate{Label: "personal copy"})
	noErr(t, err)
	if tok.Scopes != "account:read_write user:preferences:read" {
		t.Fatalf("personal copy = %q", tok.Scopes)
	}
}

func TestRegisteredClients(t *testing.T) {
	e := newEnv(t)
	c, _, err := e.svc.CreateOAuthClient(e.ctx, core.OAuthClientCreate{Label: "App", Website: "https://app.example",
		RedirectURIs: []string{"https://app.example/cb"}, Public: true})
	noErr(t, err)
	dir := core.RegisteredClients{Store: e.store}
	if ok, err := dir.ClientExists(e.ctx, c.ID); !ok || err != nil {
		t.Fatalf("registered client %s: %v, %v", c.ID, ok, err)
	}
	if ok, err := dir.ClientExists(e.ctx, "0123456789abcdef0123"); ok || err != nil {
		t.Fatalf("unregistered client: %v, %v", ok, err)
	}
	if !core.ValidClientID(c.ID) || c.ID == core.PersonalNamespace {
		t.Fatalf("registered id %q cannot name a preferences namespace", c.ID)
	}
	e.svc = core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: e.store, Box: e.box, Clients: dir})
	a := e.user("alice", false)
	_, err = e.svc.PutClientPreferences(e.ctx, a, c.ID, strings.NewReader(`{"a":1}`), -1, nil)
	noErr(t, err)
	_, err = e.svc.ClientPreferences(e.ctx, a, "0123456789abcdef0123")
	wantErr(t, err, core.KindNotFound, "clientId")
}
