package core_test

import (
	"sync"
	"testing"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/oidctest"
	"github.com/profiled/profiled/internal/testenv"
	"github.com/profiled/profiled/oidc"
)

const testAudience = "profiled-test"

func TestExternalFirstUse(t *testing.T) {
	e := newEnv(t)
	idp := oidctest.Start(t)
	e.svc = core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: e.store, Box: e.box, SMS: e.sms, Identity: mustProvider(t, idp)})
	idp.SetUser("sub-1", map[string]any{"preferred_username": "ada.l", "email": "ada@corp.example", "email_verified": true,
		"given_name": "Ada", "family_name": "Lovelace", "picture": "https://corp.example/ada.png"})
	raw := idp.Issue(t, oidctest.Token{Subject: "sub-1", Audience: testAudience, Scope: "openid account:read_only"})

	a, err := e.svc.AuthenticateBearer(e.ctx, raw)
	noErr(t, err)
	if a.Token.Kind != core.TokenExternal || a.Token.Scopes != "account:read_only" || a.Token.Expiry == nil {
		t.Errorf("token: %+v", a.Token)
	}
	u := a.User
	if u.Username != "ada-l" || u.Email != "ada@corp.example" || u.AuthenticationType != "corp" {
		t.Errorf("user made on first use: %+v", u)
	}
	m, err := e.svc.Me(e.ctx, a)
	noErr(t, err)
	if !m.Profile.EmailVerified || m.Profile.FirstName != "Ada" || m.Profile.LastName != "Lovelace" ||
		m.Profile.PictureURL != "https://corp.example/ada.png" || !m.Human() {
		t.Errorf("profile made on first use: %+v", m.Profile)
	}
	// The same subject is the same user, from then on.
	again, err := e.svc.AuthenticateBearer(e.ctx, idp.Issue(t, oidctest.Token{Subject: "sub-1", Audience: testAudience}))
	noErr(t, err)
	if again.User.ID != u.ID || again.Token.Scopes != "account:read_write" {
		t.Errorf("second use: %+v", again)
	}
	// profiled's own tokens still work through the same entry point.
	own := e.user("bob", false)
	_, rawOwn, err := e.svc.IssueToken(e.ctx, "bob", "t", core.AllScopes, nil)
	noErr(t, err)
	if b, err := e.svc.AuthenticateBearer(e.ctx, rawOwn); err != nil || b.User.ID != own.User.ID {
		t.Errorf("own token: %v", err)
	}
	for name, raw := range map[string]string{
		"garbage":          "x.y.z",
		"foreign audience": idp.Issue(t, oidctest.Token{Subject: "sub-1", Audience: "other"}),
	} {
		if _, err := e.svc.AuthenticateBearer(e.ctx, raw); core.KindOf(err) != core.KindUnauthorized {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func mustProvider(t *testing.T, idp *oidctest.Provider) *oidc.Provider {
	t.Helper()
	p, err := oidc.New(oidc.Config{Name: "corp", Issuer: idp.URL, Audience: testAudience})
	noErr(t, err)
	return p
}

func TestExternalUsernames(t *testing.T) {
	e := newEnv(t)
	idp := oidctest.Start(t)
	e.svc = core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: e.store, Box: e.box, SMS: e.sms, Identity: mustProvider(t, idp)})
	e.user("taken", false)
	e.user("twenty-two-characterss-taken", false) // cut at 23 before a suffix, it ends in '-'
	for sub, claims := range map[string]map[string]any{
		"s-taken":    {"preferred_username": "taken", "email": "t@corp.example"},
		"s-none":     {},
		"s-email":    {"email": "grace.hopper@corp.example"},
		"s-bad":      {"preferred_username": "日本", "email": "not an address"},
		"s-too-long": {"preferred_username": "a-very-long-preferred-username-indeed-longer-than-32"},
		"s-dots":     {"preferred_username": ".john..doe__smith-."},
		"s-cut":      {"preferred_username": "thirty-one-characters-long-name-x"},
		"s-taken-23": {"preferred_username": "twenty-two-characterss-taken"},
	} {
		idp.SetUser(sub, claims)
	}
	want := map[string]string{"s-none": "user", "s-email": "grace-hopper", "s-too-long": "a-very-long-preferred-username-i",
		"s-dots": "john-doe_smith", "s-cut": "thirty-one-characters-long-name"}
	for _, sub := range []string{"s-taken", "s-none", "s-email", "s-bad", "s-too-long", "s-dots", "s-cut", "s-taken-23"} {
		a, err := e.svc.AuthenticateBearer(e.ctx, idp.Issue(t, oidctest.Token{Subject: sub, Audience: testAudience}))
		if err != nil {
			t.Errorf("%s: %v", sub, err)
			continue
		}
		u := a.User
		if core.ValidateUsername("username", u.Username) != nil || core.ValidateEmail("email", u.Email) != nil {
			t.Errorf("%s: invalid user %+v", sub, u)
		}
		if w, ok := want[sub]; ok && u.Username != w {
			t.Errorf("%s: username %q, want %q", sub, u.Username, w)
		}
		if sub == "s-taken" && (u.Username == "taken" || len(u.Username) != len("taken-")+8) {
			t.Errorf("a taken username: %q", u.Username)
		}
		if sub == "s-bad" && u.Email != u.Username+"@external-identity.invalid" {
			t.Errorf("no usable address: %q", u.Email)
		}
	}
}

// TestExternalConcurrentFirstUse sends one new subject's first requests
// all at once: one user comes of them.
func TestExternalConcurrentFirstUse(t *testing.T) {
	e := newEnv(t)
	idp := oidctest.Start(t)
	e.svc = core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: e.store, Box: e.box, SMS: e.sms, Identity: mustProvider(t, idp)})
	idp.SetUser("s", map[string]any{"preferred_username": "same"})
	raw := idp.Issue(t, oidctest.Token{Subject: "s", Audience: testAudience})
	var wg sync.WaitGroup
	ids := make([]int64, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Go(func() {
			a, err := e.svc.AuthenticateBearer(e.ctx, raw)
			ids[i], errs[i] = a.User.ID, err
		})
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Errorf("request %d: user %d, %v (first: %d)", i, ids[i], errs[i], ids[0])
		}
	}
	if n, _ := e.store.CountUsers(e.ctx); n != 1 {
		t.Errorf("%d users, want 1", n)
	}
}

func TestSyncFromAuth(t *testing.T) {
	e := newEnv(t)
	idp := oidctest.Start(t)
	e.svc = core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: e.store, Box: e.box, SMS: e.sms, Identity: mustProvider(t, idp)})
	idp.SetUser("s", map[string]any{"email": "old@corp.example", "email_verified": false, "given_name": "Old"})
	raw := idp.Issue(t, oidctest.Token{Subject: "s", Audience: testAudience})
	a, err := e.svc.AuthenticateBearer(e.ctx, raw)
	noErr(t, err)

	idp.SetUser("s", map[string]any{"email": "new@corp.example", "email_verified": true, "given_name": "New",
		"family_name": "Name", "picture": "https://corp.example/new.png"})
	noErr(t, e.svc.SyncFromAuth(e.ctx, a, raw))
	m, err := e.svc.Me(e.ctx, a)
	noErr(t, err)
	if m.User.Email != "new@corp.example" || !m.Profile.EmailVerified || m.Profile.FirstName != "New" ||
		m.Profile.LastName != "Name" || m.Profile.PictureURL != "https://corp.example/new.png" {
		t.Errorf("after sync: %+v %+v", m.User, m.Profile)
	}
	// A provider that drops the picture and sends a bad address: the
	// picture goes, the address stays.
	idp.SetUser("s", map[string]any{"email": "broken", "picture": "javascript:alert(1)"})
	noErr(t, e.svc.SyncFromAuth(e.ctx, a, raw))
	m, _ = e.svc.Me(e.ctx, a)
	if m.User.Email != "new@corp.example" || m.Profile.PictureURL != "" || m.Profile.FirstName != "New" {
		t.Errorf("after a second sync: %+v %+v", m.User, m.Profile)
	}

	// It needs the provider's token: not profiled's own, even for this user.
	own := e.user("bob", false)
	err = e.svc.SyncFromAuth(e.ctx, own, "")
	wantKind(t, "sync with a profiled token", err, core.KindConflict, "")
	// And read_write.
	ro, err := e.svc.AuthenticateBearer(e.ctx, idp.Issue(t, oidctest.Token{Subject: "s", Audience: testAudience, Scope: "account:read_only"}))
	noErr(t, err)
	if err := e.svc.SyncFromAuth(e.ctx, ro, raw); core.KindOf(err) != core.KindForbidden {
		t.Errorf("sync read-only: %v", err)
	}
	// The token in hand must describe the actor.
	idp.SetUser("other", map[string]any{"email": "other@corp.example"})
	otherRaw := idp.Issue(t, oidctest.Token{Subject: "other", Audience: testAudience})
	if _, err := e.svc.AuthenticateBearer(e.ctx, otherRaw); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SyncFromAuth(e.ctx, a, otherRaw); core.KindOf(err) != core.KindUnauthorized {
		t.Errorf("sync with another subject's token: %v", err)
	}
}
