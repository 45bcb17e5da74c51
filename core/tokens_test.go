package core_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestCreateTokenSecretHandling(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	tok, raw, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "ci", Scopes: ptr("account:read_only")})
	noErr(t, err)
	if !hex64.MatchString(raw) {
		t.Fatalf("raw token %q is not 64 lowercase hex characters", raw)
	}
	sum := sha256.Sum256([]byte(raw))
	if tok.ID == 0 || tok.Prefix != raw[:16] || len(tok.Prefix) != core.TokenPrefixLength || !bytes.Equal(tok.Hash, sum[:]) ||
		tok.Label != "ci" || tok.Scopes != "account:read_only" || tok.Expiry != nil || tok.Kind != core.TokenPersonal ||
		!tok.Created.Equal(start) || tok.UserID != a.User.ID || tok.ClientID != "" {
		t.Fatalf("created token = %+v", tok)
	}

	// Reads show the prefix only.
	got, err := e.svc.Token(e.ctx, a, tok.ID)
	noErr(t, err)
	if got.Prefix != raw[:16] || got.Label != "ci" || got.Scopes != "account:read_only" {
		t.Fatalf("read token = %+v", got)
	}

	// The database holds the SHA-256 and the prefix, never the token.
	var hash []byte
	var prefix string
	noErr(t, e.rawDB().QueryRow(`SELECT hash, prefix FROM tokens WHERE id = ?`, tok.ID).Scan(&hash, &prefix))
	if !bytes.Equal(hash, sum[:]) || prefix != raw[:16] {
		t.Fatalf("stored hash %x prefix %q", hash, prefix)
	}
	e.assertNotOnDisk(raw, raw[16:], strings.ToUpper(raw))

	// The token works, and acts with its own scopes.
	b, err := e.svc.Authenticate(e.ctx, raw)
	noErr(t, err)
	if b.Token.ID != tok.ID || b.User.ID != a.User.ID || b.Token.Scopes != "account:read_only" {
		t.Fatalf("authenticated as %+v", b.Token)
	}
	// A token differing in case is another token.
	_, err = e.svc.Authenticate(e.ctx, strings.ToUpper(raw))
	wantErr(t, err, core.KindUnauthorized, "")
	// Two tokens never share a secret.
	_, raw2, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "ci2"})
	noErr(t, err)
	if raw2 == raw {
		t.Fatal("two tokens have the same secret")
	}
}

func TestCreateTokenScopes(t *testing.T) {
	e := newEnv(t)
	e.user("alice", false)
	parent := e.token("alice", "account:read_write linodes:read_only")

	cases := []struct {
		in   *string
		want core.Scopes
	}{
		{nil, "account:read_write linodes:read_only"},
		{ptr("*"), "account:read_write linodes:read_only"},
		{ptr("account:read_only"), "account:read_only"},
		{ptr("linodes:read_only account:read_write"), "account:read_write linodes:read_only"},
		{ptr("account:read_only account:read_write"), "account:read_write"},
	}
	for _, c := range cases {
		tok, raw, err := e.svc.CreateToken(e.ctx, parent, core.TokenCreate{Label: "child", Scopes: c.in})
		noErr(t, err)
		if tok.Scopes != c.want {
			t.Errorf("scopes %v: got %q, want %q", c.in, tok.Scopes, c.want)
		}
		child, err := e.svc.Authenticate(e.ctx, raw)
		noErr(t, err)
		if child.Token.Scopes != c.want {
			t.Errorf("scopes %v: authenticated with %q, want %q", c.in, child.Token.Scopes, c.want)
		}
	}
	for _, over := range []string{
		"linodes:read_write",
		"volumes:read_only",
		"account:read_write linodes:read_only volumes:read_only",
		"account:read_only *",
	} {
		_, _, err := e.svc.CreateToken(e.ctx, parent, core.TokenCreate{Label: "child", Scopes: ptr(over)})
		wantErr(t, err, core.KindInvalid, "scopes")
	}
	for _, bad := range []string{"account", "account:admin", "nope:read_only"} {
		_, _, err := e.svc.CreateToken(e.ctx, parent, core.TokenCreate{Label: "child", Scopes: ptr(bad)})
		wantErr(t, err, core.KindInvalid, "scopes")
	}
	// A child can never mint something stronger than itself.
	_, raw, err := e.svc.CreateToken(e.ctx, parent, core.TokenCreate{Label: "child", Scopes: ptr("account:read_write")})
	noErr(t, err)
	child, err := e.svc.Authenticate(e.ctx, raw)
	noErr(t, err)
	_, _, err = e.svc.CreateToken(e.ctx, child, core.TokenCreate{Label: "grandchild", Scopes: ptr("account:read_write linodes:read_only")})
	wantErr(t, err, core.KindInvalid, "scopes")
	// A "*" actor may create anything.
	root := e.token("alice", core.AllScopes)
	tok, _, err := e.svc.CreateToken(e.ctx, root, core.TokenCreate{Label: "all"})
	noErr(t, err)
	if tok.Scopes != core.AllScopes {
		t.Fatalf("a token copied from * has scopes %q", tok.Scopes)
	}
}

func TestCreateTokenLabel(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	for _, ok := range []string{"x", strings.Repeat("a", 100), strings.Repeat("ü", 100)} {
		_, _, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: ok})
		noErr(t, err)
	}
	for _, bad := range []string{"", strings.Repeat("a", 101), strings.Repeat("ü", 101)} {
		_, _, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: bad})
		wantErr(t, err, core.KindInvalid, "label")
	}
}

func TestTokenExpiry(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	for _, past := range []time.Time{start.Add(-time.Second), start, start.Add(-365 * 24 * time.Hour), start.Add(999 * time.Millisecond)} {
		_, _, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "old", Expiry: ptr(past)})
		wantErr(t, err, core.KindInvalid, "expiry")
	}
	exp := start.Add(time.Hour + 500*time.Millisecond).In(time.FixedZone("X", 3600))
	tok, raw, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "hour", Expiry: &exp})
	noErr(t, err)
	want := start.Add(time.Hour)
	if tok.Expiry == nil || !tok.Expiry.Equal(want) {
		t.Fatalf("expiry = %v, want %v (whole seconds, UTC)", tok.Expiry, want)
	}
	got, err := e.svc.Token(e.ctx, a, tok.ID)
	noErr(t, err)
	if got.Expiry == nil || !got.Expiry.Equal(want) {
		t.Fatalf("stored expiry = %v", got.Expiry)
	}
	_, forever, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "forever"})
	noErr(t, err)

	listed := func() map[string]bool {
		page, err := e.svc.Tokens(e.ctx, a, allRows)
		noErr(t, err)
		out := map[string]bool{}
		for _, tk := range page.Data {
			out[tk.Label] = true
		}
		if len(page.Data) != page.Results {
			t.Fatalf("page has %d rows but %d results", len(page.Data), page.Results)
		}
		return out
	}
	if l := listed(); !l["hour"] || !l["forever"] {
		t.Fatalf("list before expiry: %v", l)
	}
	e.clock.Advance(time.Hour - time.Second)
	_, err = e.svc.Authenticate(e.ctx, raw)
	noErr(t, err)
	e.clock.Advance(time.Second)
	_, err = e.svc.Authenticate(e.ctx, raw)
	wantErr(t, err, core.KindUnauthorized, "")
	if l := listed(); l["hour"] || !l["forever"] {
		t.Fatalf("list after expiry: %v", l)
	}
	_, err = e.svc.Token(e.ctx, a, tok.ID)
	wantErr(t, err, core.KindNotFound, "")
	_, err = e.svc.RenameToken(e.ctx, a, tok.ID, "revived")
	wantErr(t, err, core.KindNotFound, "")
	// Tokens without expiry live on.
	e.clock.Advance(10 * 365 * 24 * time.Hour)
	_, err = e.svc.Authenticate(e.ctx, forever)
	noErr(t, err)
}

func TestRevokeToken(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	b := e.user("bobby", false)
	tok, raw, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "victim"})
	noErr(t, err)

	// Bobby can neither see, rename nor revoke it.
	_, err = e.svc.Token(e.ctx, b, tok.ID)
	wantErr(t, err, core.KindNotFound, "")
	_, err = e.svc.RenameToken(e.ctx, b, tok.ID, "mine")
	wantErr(t, err, core.KindNotFound, "")
	wantErr(t, e.svc.RevokeToken(e.ctx, b, tok.ID), core.KindNotFound, "")
	_, err = e.svc.Authenticate(e.ctx, raw)
	noErr(t, err)

	// Renaming changes the label only.
	r, err := e.svc.RenameToken(e.ctx, a, tok.ID, "renamed")
	noErr(t, err)
	if r.Label != "renamed" || r.Scopes != tok.Scopes || r.Prefix != tok.Prefix {
		t.Fatalf("renamed token = %+v", r)
	}
	_, err = e.svc.RenameToken(e.ctx, a, tok.ID, "")
	wantErr(t, err, core.KindInvalid, "label")
	_, err = e.svc.RenameToken(e.ctx, a, tok.ID, strings.Repeat("a", 101))
	wantErr(t, err, core.KindInvalid, "label")

	// Revoked: refused at once, gone from reads and lists.
	noErr(t, e.svc.RevokeToken(e.ctx, a, tok.ID))
	_, err = e.svc.Authenticate(e.ctx, raw)
	wantErr(t, err, core.KindUnauthorized, "")
	_, err = e.svc.Token(e.ctx, a, tok.ID)
	wantErr(t, err, core.KindNotFound, "")
	wantErr(t, e.svc.RevokeToken(e.ctx, a, tok.ID), core.KindNotFound, "")
	page, err := e.svc.Tokens(e.ctx, a, allRows)
	noErr(t, err)
	for _, tk := range page.Data {
		if tk.ID == tok.ID {
			t.Fatal("a revoked token is listed")
		}
	}

	// A token may revoke itself.
	_, selfRaw, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "self"})
	noErr(t, err)
	self, err := e.svc.Authenticate(e.ctx, selfRaw)
	noErr(t, err)
	noErr(t, e.svc.RevokeToken(e.ctx, self, self.Token.ID))
	_, err = e.svc.Authenticate(e.ctx, selfRaw)
	wantErr(t, err, core.KindUnauthorized, "")
}

func TestTokensListShowsOnlyOwnTokens(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	b := e.user("bobby", false)
	for i := 0; i < 3; i++ {
		_, _, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "a"})
		noErr(t, err)
	}
	pa, err := e.svc.Tokens(e.ctx, a, allRows)
	noErr(t, err)
	pb, err := e.svc.Tokens(e.ctx, b, allRows)
	noErr(t, err)
	if pa.Results != 4 || pb.Results != 1 {
		t.Fatalf("alice has %d tokens, bobby %d; want 4 and 1", pa.Results, pb.Results)
	}
	for _, tk := range pa.Data {
		if tk.UserID != a.User.ID || len(tk.Prefix) != 16 {
			t.Fatalf("listed token %+v", tk)
		}
		if _, err := hex.DecodeString(tk.Prefix); err != nil {
			t.Fatalf("prefix %q is not hex", tk.Prefix)
		}
	}
}

// TestScopeChecks: a token without account:read_write cannot change
// anything, one with account:read_only can read, and any token can read
// the profile and grants.
func TestScopeChecks(t *testing.T) {
	e := newEnv(t)
	full := e.user("alice", false)
	ro := e.token("alice", "account:read_only")
	other := e.token("alice", "linodes:read_write")

	k, err := e.svc.AddSSHKey(e.ctx, full, core.SSHKeyCreate{Label: "k", Key: testenv.NewSSHKey(t, "")})
	noErr(t, err)

	writes := map[string]func(core.Actor) error{
		"UpdateProfile": func(a core.Actor) error {
			_, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{Timezone: ptr("UTC")})
			return err
		},
		"AddSSHKey": func(a core.Actor) error {
			_, err := e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Key: testenv.NewSSHKey(t, "")})
			return err
		},
		"RenameSSHKey": func(a core.Actor) error { _, err := e.svc.RenameSSHKey(e.ctx, a, k.ID, "x"); return err },
		"DeleteSSHKey": func(a core.Actor) error { return e.svc.DeleteSSHKey(e.ctx, a, k.ID) },
		"CreateToken": func(a core.Actor) error {
			_, _, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "x"})
			return err
		},
		"RenameToken": func(a core.Actor) error { _, err := e.svc.RenameToken(e.ctx, a, a.Token.ID, "x"); return err },
		"RevokeToken": func(a core.Actor) error { return e.svc.RevokeToken(e.ctx, a, a.Token.ID) },
		"PutPreferences": func(a core.Actor) error {
			_, err := e.svc.PutPreferences(e.ctx, a, []byte(`{}`), nil)
			return err
		},
		"AnswerSecurityQuestions": func(a core.Actor) error {
			_, err := e.svc.AnswerSecurityQuestions(e.ctx, a, threeAnswers)
			return err
		},
		"EnableTFA":    func(a core.Actor) error { _, err := e.svc.EnableTFA(e.ctx, a); return err },
		"ConfirmTFA":   func(a core.Actor) error { _, err := e.svc.ConfirmTFA(e.ctx, a, "123456"); return err },
		"DisableTFA":   func(a core.Actor) error { return e.svc.DisableTFA(e.ctx, a) },
		"SendPhone":    func(a core.Actor) error { return e.svc.SendPhoneCode(e.ctx, a, "US", "6502530000") },
		"VerifyPhone":  func(a core.Actor) error { return e.svc.VerifyPhone(e.ctx, a, "123456") },
		"DeletePhone":  func(a core.Actor) error { return e.svc.DeletePhone(e.ctx, a) },
		"RevokeApp":    func(a core.Actor) error { return e.svc.RevokeApp(e.ctx, a, 1) },
		"RevokeDevice": func(a core.Actor) error { return e.svc.RevokeDevice(e.ctx, a, 1) },
	}
	reads := map[string]func(core.Actor) error{
		"SSHKeys":           func(a core.Actor) error { _, err := e.svc.SSHKeys(e.ctx, a, allRows); return err },
		"SSHKey":            func(a core.Actor) error { _, err := e.svc.SSHKey(e.ctx, a, k.ID); return err },
		"Tokens":            func(a core.Actor) error { _, err := e.svc.Tokens(e.ctx, a, allRows); return err },
		"Token":             func(a core.Actor) error { _, err := e.svc.Token(e.ctx, a, a.Token.ID); return err },
		"Preferences":       func(a core.Actor) error { _, err := e.svc.Preferences(e.ctx, a); return err },
		"SecurityQuestions": func(a core.Actor) error { _, err := e.svc.SecurityQuestions(e.ctx, a); return err },
		"Apps":              func(a core.Actor) error { _, err := e.svc.Apps(e.ctx, a, allRows); return err },
		"Devices":           func(a core.Actor) error { _, err := e.svc.Devices(e.ctx, a, allRows); return err },
		"Logins":            func(a core.Actor) error { _, err := e.svc.Logins(e.ctx, a, allRows); return err },
	}
	for name, op := range writes {
		for _, actor := range []core.Actor{ro, other} {
			err := op(actor)
			ce := wantErr(t, err, core.KindForbidden, "")
			if ce.Required != "account:read_write" {
				t.Errorf("%s with %q: Required = %q, want account:read_write", name, actor.Token.Scopes, ce.Required)
			}
		}
	}
	for name, op := range reads {
		if err := op(ro); err != nil {
			t.Errorf("%s with account:read_only: %v", name, err)
		}
		ce := wantErr(t, op(other), core.KindForbidden, "")
		if ce.Required != "account:read_only" {
			t.Errorf("%s with linodes:read_write: Required = %q, want account:read_only", name, ce.Required)
		}
	}
	// Nothing was changed by the refused writes.
	if got, err := e.svc.SSHKey(e.ctx, full, k.ID); err != nil || got.Label != "k" {
		t.Fatalf("key after refused writes = %+v, %v", got, err)
	}
	// Any token reads its profile and grants.
	for _, actor := range []core.Actor{full, ro, other} {
		if _, err := e.svc.Profile(e.ctx, actor); err != nil {
			t.Errorf("Profile with %q: %v", actor.Token.Scopes, err)
		}
		if _, err := e.svc.Grants(e.ctx, actor); err != nil {
			t.Errorf("Grants with %q: %v", actor.Token.Scopes, err)
		}
	}
}

// TestTokensAreOnlyPersonal: /profile/tokens is about personal access
// tokens ("Tokens lists the actor's live personal access tokens"); tokens
// issued to OAuth apps belong to /profile/apps.
func TestTokensAreOnlyPersonal(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	app := core.App{UserID: a.User.ID, ClientID: "client-x", Label: "App", Scopes: core.AllScopes, Website: "https://example.org", Created: start}
	noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error { return tx.CreateApp(e.ctx, &app) }))
	oauth, _ := e.rawToken(core.Token{UserID: a.User.ID, Kind: core.TokenOAuth, Scopes: core.AllScopes, ClientID: "client-x", AppID: app.ID})
	page, err := e.svc.Tokens(e.ctx, a, allRows)
	noErr(t, err)
	var problems []string
	for _, tk := range page.Data {
		if tk.ID == oauth.ID {
			problems = append(problems, "an OAuth app's token is listed among personal access tokens")
		}
	}
	if _, err := e.svc.Token(e.ctx, a, oauth.ID); err == nil {
		problems = append(problems, "an OAuth app's token is readable as a personal access token")
	}
	if _, err := e.svc.RenameToken(e.ctx, a, oauth.ID, "x"); err == nil {
		problems = append(problems, "an OAuth app's token can be renamed as a personal access token")
	}
	if err := e.svc.RevokeToken(e.ctx, a, oauth.ID); err == nil {
		problems = append(problems, "an OAuth app's token can be revoked as a personal access token")
	}
	if len(problems) > 0 {
		t.Fatal(strings.Join(problems, "; "))
	}
}
