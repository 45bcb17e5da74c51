package core_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/profiled/profiled/core"
)

func TestPreferences(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)

	got, err := e.svc.Preferences(e.ctx, a)
	noErr(t, err)
	if string(got) != "{}" {
		t.Fatalf("preferences before PUT = %s", got)
	}
	put, err := e.svc.PutPreferences(e.ctx, a, json.RawMessage(" {\n  \"theme\": \"dark\",\n  \"n\": [1, 2] }\n"), nil)
	noErr(t, err)
	if string(put) != `{"theme":"dark","n":[1,2]}` {
		t.Fatalf("PUT returned %s", put)
	}
	got, err = e.svc.Preferences(e.ctx, a)
	noErr(t, err)
	if string(got) != string(put) {
		t.Fatalf("GET after PUT = %s", got)
	}
	// All personal tokens share one namespace.
	a2 := e.token("alice", "account:read_only")
	got, err = e.svc.Preferences(e.ctx, a2)
	noErr(t, err)
	if string(got) != string(put) {
		t.Fatalf("another personal token sees %s", got)
	}
	// Another user has their own.
	b := e.user("bobby", false)
	got, err = e.svc.Preferences(e.ctx, b)
	noErr(t, err)
	if string(got) != "{}" {
		t.Fatalf("bobby sees %s", got)
	}
	// PUT replaces the whole object.
	_, err = e.svc.PutPreferences(e.ctx, a, json.RawMessage(`{"other":true}`), nil)
	noErr(t, err)
	got, err = e.svc.Preferences(e.ctx, a)
	noErr(t, err)
	if string(got) != `{"other":true}` {
		t.Fatalf("after second PUT = %s", got)
	}
}

func TestPreferencesPerClient(t *testing.T) {
	e := newEnv(t)
	personal := e.user("alice", false)
	_, err := e.svc.PutPreferences(e.ctx, personal, json.RawMessage(`{"who":"personal"}`), nil)
	noErr(t, err)

	_, raw := e.rawToken(core.Token{UserID: personal.User.ID, Kind: core.TokenOAuth, Scopes: core.AllScopes, ClientID: "x"})
	client, err := e.svc.Authenticate(e.ctx, raw)
	noErr(t, err)
	if client.Token.ClientID != "x" {
		t.Fatalf("client token ClientID = %q", client.Token.ClientID)
	}
	got, err := e.svc.Preferences(e.ctx, client)
	noErr(t, err)
	if string(got) != "{}" {
		t.Fatalf("client x sees %s before its own PUT", got)
	}
	_, err = e.svc.PutPreferences(e.ctx, client, json.RawMessage(`{"who":"x"}`), nil)
	noErr(t, err)
	got, err = e.svc.Preferences(e.ctx, client)
	noErr(t, err)
	if string(got) != `{"who":"x"}` {
		t.Fatalf("client x sees %s", got)
	}
	got, err = e.svc.Preferences(e.ctx, personal)
	noErr(t, err)
	if string(got) != `{"who":"personal"}` {
		t.Fatalf("personal namespace became %s", got)
	}
	// Another client of the same user has yet another namespace.
	_, raw = e.rawToken(core.Token{UserID: personal.User.ID, Kind: core.TokenOAuth, Scopes: core.AllScopes, ClientID: "y"})
	y, err := e.svc.Authenticate(e.ctx, raw)
	noErr(t, err)
	got, err = e.svc.Preferences(e.ctx, y)
	noErr(t, err)
	if string(got) != "{}" {
		t.Fatalf("client y sees %s", got)
	}
}

func TestPreferencesLimits(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	// {"k":"..."} is 8 characters plus the string.
	object := func(n int, fill string) json.RawMessage {
		return json.RawMessage(`{"k":"` + strings.Repeat(fill, n-8) + `"}`)
	}
	_, err := e.svc.PutPreferences(e.ctx, a, object(core.MaxPreferencesLength, "a"), nil)
	noErr(t, err)
	_, err = e.svc.PutPreferences(e.ctx, a, object(core.MaxPreferencesLength+1, "a"), nil)
	wantErr(t, err, core.KindInvalid, "preferences")
	// The limit counts characters, not bytes.
	_, err = e.svc.PutPreferences(e.ctx, a, object(core.MaxPreferencesLength, "é"), nil)
	noErr(t, err)
	// Whitespace outside strings does not count.
	padded := json.RawMessage(`{"k":  "` + strings.Repeat("a", core.MaxPreferencesLength-8) + `"  }`)
	_, err = e.svc.PutPreferences(e.ctx, a, padded, nil)
	noErr(t, err)
	got, err := e.svc.Preferences(e.ctx, a)
	noErr(t, err)
	if len([]rune(string(got))) != core.MaxPreferencesLength {
		t.Fatalf("stored %d characters", len([]rune(string(got))))
	}

	for _, bad := range []string{``, ` `, `[]`, `[{}]`, `1`, `"s"`, `null`, `true`, `{`, `{"a":}`, `{"a":1} {"b":2}`, `{} x`} {
		_, err := e.svc.PutPreferences(e.ctx, a, json.RawMessage(bad), nil)
		wantErr(t, err, core.KindInvalid, "preferences")
	}
	// Refused PUTs kept the last good value.
	got2, err := e.svc.Preferences(e.ctx, a)
	noErr(t, err)
	if string(got2) != string(got) {
		t.Fatal("a refused PUT changed the preferences")
	}
}
