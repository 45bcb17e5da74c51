package core_test

import (
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// appActor makes alice, with a password, and returns her acting through
// an OAuth application's access token (see oauthActor).
func appActor(t *testing.T, e *env, firstParty bool) (app core.Actor, raw string, session core.Actor) {
	t.Helper()
	withPassword(t, e, "alice")
	return oauthActor(t, e, firstParty)
}

// oauthActor is alice acting through a new application's access token,
// made by the real flow: she signs in, consents, and the code is exchanged.
func oauthActor(t *testing.T, e *env, firstParty bool) (app core.Actor, raw string, session core.Actor) {
	t.Helper()
	res, err := signIn(e, "alice", alicePassword)
	noErr(t, err)
	session, err = e.svc.Authenticate(e.ctx, res.SessionSecret)
	noErr(t, err)
	c, secret, err := e.svc.CreateOAuthClient(e.ctx, core.OAuthClientCreate{Label: "App", Website: "https://app.example",
		RedirectURIs: []string{"https://app.example/cb"}, FirstParty: firstParty})
	noErr(t, err)
	az, err := e.svc.CheckAuthorize(e.ctx, core.AuthorizeRequest{ClientID: c.ID, ResponseType: "code", Scope: "*"})
	noErr(t, err)
	code, err := e.svc.Approve(e.ctx, session, az, core.AllScopes)
	noErr(t, err)
	g, err := e.svc.OAuthToken(e.ctx, core.TokenRequest{GrantType: "authorization_code", ClientID: c.ID, ClientSecret: secret, Code: code})
	noErr(t, err)
	app, err = e.svc.Authenticate(e.ctx, g.AccessToken)
	noErr(t, err)
	return app, g.AccessToken, session
}

func mintAs(t *testing.T, e *env, a core.Actor, expiry *time.Time) (core.Actor, string) {
	t.Helper()
	_, raw, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "child", Expiry: expiry})
	noErr(t, err)
	child, err := e.svc.Authenticate(e.ctx, raw)
	noErr(t, err)
	return child, raw
}

// TestTokensNeverOutliveTheirParent: a token's child expires no later than
// it, and a third-party application's child is revoked with it.
func TestTokensNeverOutliveTheirParent(t *testing.T) {
	t.Run("a short-lived personal token", func(t *testing.T) {
		e := newEnv(t)
		e.user("alice", false)
		soon := e.clock.Now().Add(2 * time.Minute)
		_, raw, err := e.svc.IssueToken(e.ctx, "alice", "short", core.AllScopes, &soon)
		noErr(t, err)
		short, err := e.svc.Authenticate(e.ctx, raw)
		noErr(t, err)
		later := e.clock.Now().Add(time.Hour)
		earlier := e.clock.Now().Add(time.Minute)
		for _, tc := range []struct {
			ask  *time.Time
			want time.Time
		}{{nil, soon}, {&later, soon}, {&earlier, earlier}} {
			child, _ := mintAs(t, e, short, tc.ask)
			if child.Token.Expiry == nil || !child.Token.Expiry.Equal(tc.want) {
				t.Fatalf("asked %v: the child expires %v, want %v", tc.ask, child.Token.Expiry, tc.want)
			}
			// A grandchild is bounded the same way.
			if g, _ := mintAs(t, e, child, nil); g.Token.Expiry == nil || g.Token.Expiry.After(tc.want) {
				t.Fatalf("a grandchild expires %v, after its parent's %v", g.Token.Expiry, tc.want)
			}
		}
	})
	t.Run("a third-party application", func(t *testing.T) {
		e := newEnv(t)
		app, appRaw, session := appActor(t, e, false)
		child, childRaw := mintAs(t, e, app, nil)
		if child.Token.Expiry == nil || !child.Token.Expiry.Equal(*app.Token.Expiry) || child.Token.AppID != app.Token.AppID {
			t.Fatalf("the application's child: expiry %v app %d; the parent's %v app %d", child.Token.Expiry, child.Token.AppID, app.Token.Expiry, app.Token.AppID)
		}
		grandchild, grandRaw := mintAs(t, e, child, nil)
		if grandchild.Token.AppID != app.Token.AppID {
			t.Fatalf("the grandchild is not the application's: app %d", grandchild.Token.AppID)
		}
		noErr(t, e.svc.RevokeApp(e.ctx, session, app.Token.AppID))
		for name, raw := range map[string]string{"access token": appRaw, "child": childRaw, "grandchild": grandRaw} {
			if _, err := e.svc.Authenticate(e.ctx, raw); core.KindOf(err) != core.KindUnauthorized {
				t.Fatalf("the %s works after its application was revoked: %v", name, err)
			}
		}
	})
	t.Run("a first-party client and a session make tokens of any lifetime", func(t *testing.T) {
		e := newEnv(t)
		app, _, session := appActor(t, e, true)
		for name, a := range map[string]core.Actor{"first-party": app, "session": session} {
			child, _ := mintAs(t, e, a, nil)
			if child.Token.Expiry != nil || child.Token.AppID != 0 {
				t.Fatalf("%s: the child expires %v, app %d; want never, none", name, child.Token.Expiry, child.Token.AppID)
			}
		}
	})
}

// TestStepUp: a third-party application's token, and any token it made,
// is refused the operations that could take the account over, whatever
// its scopes; a first-party client's token, a session and a personal
// token keep them.
func TestStepUp(t *testing.T) {
	ops := map[string]func(e *env, a core.Actor) error{
		"read security answers": func(e *env, a core.Actor) error { _, err := e.svc.SecurityQuestions(e.ctx, a); return err },
		"answer security questions": func(e *env, a core.Actor) error {
			_, err := e.svc.AnswerSecurityQuestions(e.ctx, a, threeAnswers)
			return err
		},
		"enable TFA":          func(e *env, a core.Actor) error { _, err := e.svc.EnableTFA(e.ctx, a); return err },
		"confirm TFA":         func(e *env, a core.Actor) error { _, err := e.svc.ConfirmTFA(e.ctx, a, "123456"); return err },
		"disable TFA":         func(e *env, a core.Actor) error { return e.svc.DisableTFA(e.ctx, a) },
		"count scratch codes": func(e *env, a core.Actor) error { _, err := e.svc.ScratchCodesLeft(e.ctx, a); return err },
		"regenerate scratch codes": func(e *env, a core.Actor) error {
			_, err := e.svc.RegenerateScratchCodes(e.ctx, a)
			return err
		},
		"change the password": func(e *env, a core.Actor) error {
			return e.svc.ChangePassword(e.ctx, a, alicePassword, "another long and unusual passphrase")
		},
		"change the email": func(e *env, a core.Actor) error {
			_, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{Email: ptr("mallory@example.com")})
			return err
		},
		"delete the user": func(e *env, a core.Actor) error { return e.svc.DeleteMe(e.ctx, a) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			app, _, _ := appActor(t, e, false)
			child, _ := mintAs(t, e, app, nil)
			for who, a := range map[string]core.Actor{"the application": app, "its personal token": child} {
				if err := op(e, a); core.KindOf(err) != core.KindForbidden {
					t.Fatalf("%s: %v, want Forbidden", who, err)
				}
			}
			if u := e.refresh(app); u.Email != "alice@example.com" {
				t.Fatalf("a refused change went through: %+v", u)
			}
			// The same user's first-party console may.
			fp, _, _ := oauthActor(t, e, true)
			if err := op(e, fp); core.KindOf(err) == core.KindForbidden {
				t.Fatalf("a first-party client's token was refused: %v", err)
			}
		})
	}
}
