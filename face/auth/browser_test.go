package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/smtptest"
	"github.com/profiled/profiled/internal/spectest"
	"github.com/profiled/profiled/internal/testenv"
	"github.com/profiled/profiled/mailer"
)

// chromium finds Debian's chromium. Without it the browser test is
// skipped, except under CI=true (where .ci/run installs it), when it fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium is not installed: install Debian's package (apt-get install -y chromium) to run the browser test"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestBrowserOAuthFlow signs in with password and TOTP in headless
// Chromium, consents, lands on the application's redirect URI with a
// code, and exchanges it (with PKCE) for a token that works.
func TestBrowserOAuthFlow(t *testing.T) {
	exe := chromium(t)
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			_, personal := e.user("alice")
			secret, _ := e.enableTFA(personal)

			// The application: its redirect URI shows what it received.
			type callback struct{ code, state, err string }
			got := make(chan callback, 1)
			app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/callback" {
					http.NotFound(w, r)
					return
				}
				q := r.URL.Query()
				select {
				case got <- callback{q.Get("code"), q.Get("state"), q.Get("error")}:
				default:
				}
				fmt.Fprint(w, `<!doctype html><title>app</title><p id="done">signed in</p>`)
			}))
			t.Cleanup(app.Close)
			cl, clientSecret := e.app("Browser App", "https://browser-app.example", app.URL+"/callback")
			conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: clientSecret, RedirectURL: app.URL + "/callback",
				Scopes:   []string{"account:read_write linodes:read_write"},
				Endpoint: e.endpoint()}
			verifier := oauth2.GenerateVerifier()
			authURL := conf.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier))

			step, text := browser(t, exe)
			step("open the authorization URL", chromedp.Navigate(authURL))
			step("the sign-in page", chromedp.WaitVisible(chromedp.ID("username")))
			step("type the username", chromedp.SendKeys(chromedp.ID("username"), "alice"))
			step("type the password", chromedp.SendKeys(chromedp.ID("password"), password))
			step("sign in", chromedp.Click(chromedp.ID("submit")))
			step("the two-factor page", chromedp.WaitVisible(chromedp.ID("code")))
			step("type the TOTP code", chromedp.SendKeys(chromedp.ID("code"), e.code(secret)))
			step("verify", chromedp.Click(chromedp.ID("submit")))
			step("the consent page", chromedp.WaitVisible(chromedp.ID("app-label")))
			label, website := text("app-label"), text("app-website")
			// The user narrows linodes to read only.
			step("narrow a scope", chromedp.SetValue(chromedp.ID("scope_linodes"), "read_only"))
			step("authorize", chromedp.Click(chromedp.ID("approve")))
			step("the application's page", chromedp.WaitVisible(chromedp.ID("done")))
			done := text("done")
			if label != "Browser App" || website != "https://browser-app.example" || done != "signed in" {
				t.Fatalf("consent showed %q %q; the app showed %q", label, website, done)
			}
			var cb callback
			select {
			case cb = <-got:
			case <-time.After(10 * time.Second):
				t.Fatal("the application's redirect URI was never reached")
			}
			if cb.code == "" || cb.state != "browser-state" || cb.err != "" {
				t.Fatalf("the application received %+v", cb)
			}

			tok, err := conf.Exchange(ctx, cb.code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if s := tok.Extra("scope"); s != "account:read_write linodes:read_only" {
				t.Fatalf("granted scope %v", s)
			}
			var prof struct{ Username string }
			e.call("GET", "/v4/profile", tok.AccessToken, "", 200, &prof)
			if prof.Username != "alice" {
				t.Fatalf("the token acts as %q", prof.Username)
			}
			var apps struct {
				Data []struct {
					ID           int64
					Label        string
					Scopes       string
					ThumbnailURL *string `json:"thumbnail_url"`
				}
			}
			e.call("GET", "/v4/profile/apps", personal, "", 200, &apps)
			if len(apps.Data) != 1 || apps.Data[0].Label != "Browser App" || apps.Data[0].Scopes != "account:read_write linodes:read_only" {
				t.Fatalf("apps = %+v", apps.Data)
			}
			// The sign-in is in the login history.
			var logins struct{ Data []struct{ Status string } }
			e.call("GET", "/v4/profile/logins", personal, "", 200, &logins)
			if n := len(logins.Data); n == 0 || logins.Data[n-1].Status != "successful" {
				t.Fatalf("logins = %+v", logins.Data)
			}

			// Revoking the app kills the access and the refresh token at once.
			e.call("DELETE", fmt.Sprintf("/v4/profile/apps/%d", apps.Data[0].ID), personal, "", 200, nil)
			e.call("GET", "/v4/profile", tok.AccessToken, "", 401, nil)
			tok.Expiry = time.Now().Add(-time.Minute)
			if _, err := conf.TokenSource(ctx, tok).Token(); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("refresh after revocation: %v", err)
			}
		})
	}
}

// browser starts headless Chromium for t and returns step, which runs an
// action or fails t, and text, which reads the text of an element by id.
func browser(t *testing.T, exe string) (step func(what string, a chromedp.Action[chromedp.Void]), text func(id string) string) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	bctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelBrowser(); cancelAlloc() })
	step = func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(bctx, a); err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	text = func(id string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("browser: read #%s: %v", id, err)
		}
		return s
	}
	return step, text
}

// TestBrowserRecovery recovers a forgotten password in headless Chromium:
// from the sign-in server's "forgot password" page to the mail a real
// SMTP server receives, its link, the new password, and a sign-in with it.
func TestBrowserRecovery(t *testing.T) {
	exe := chromium(t)
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e, inbox := mailEnv(t, b, false)
			e.user("alice")

			step, text := browser(t, exe)
			step("open the forgot-password page", chromedp.Navigate(e.srv.URL+"/forgot/password"))
			step("follow its link", chromedp.Click(chromedp.ID("recover")))
			step("the recovery page", chromedp.WaitVisible(chromedp.ID("address")))
			step("type the address", chromedp.SendKeys(chromedp.ID("address"), "alice@example.com"))
			step("ask for a link", chromedp.Click(chromedp.ID("submit")))
			step("the answer", chromedp.WaitVisible(chromedp.ID("sent")))
			link := mailedLink(t, inbox, "Subject: Set a new password", e.srv.URL+"/auth/recover/complete")
			step("open the mail's link", chromedp.Navigate(link))
			step("the new-password page", chromedp.WaitVisible(chromedp.ID("password")))
			step("type the new password", chromedp.SendKeys(chromedp.ID("password"), "a recovered passphrase"))
			step("set it", chromedp.Click(chromedp.ID("submit")))
			step("the confirmation", chromedp.WaitVisible(chromedp.ID("done")))
			step("go to sign in", chromedp.Click(chromedp.ID("signin")))
			step("the sign-in page", chromedp.WaitVisible(chromedp.ID("username")))
			step("type the username", chromedp.SendKeys(chromedp.ID("username"), "alice"))
			step("type the new password", chromedp.SendKeys(chromedp.ID("password"), "a recovered passphrase"))
			step("sign in", chromedp.Click(chromedp.ID("submit")))
			step("signed in", chromedp.WaitVisible(chromedp.ID("signed-in")))
			if got := text("signed-in"); !strings.Contains(got, "alice") {
				t.Fatalf("signed in as %q", got)
			}
		})
	}
}

// TestBrowserSignUp signs up in headless Chromium from the sign-in page's
// link, then follows the verification link of the mail a real SMTP server
// receives, and confirms the address.
func TestBrowserSignUp(t *testing.T) {
	exe := chromium(t)
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { browserSignUp(t, exe, b) })
	}
}

func browserSignUp(t *testing.T, exe string, b testenv.Backend) {
	e, inbox := mailEnv(t, b, true)
	step, text := browser(t, exe)
	step("open the sign-in page", chromedp.Navigate(e.srv.URL+"/auth/signin"))
	step("follow its sign-up link", chromedp.Click(chromedp.ID("signup")))
	step("the sign-up page", chromedp.WaitVisible(chromedp.ID("username")))
	step("type the username", chromedp.SendKeys(chromedp.ID("username"), "newbie"))
	step("type the email", chromedp.SendKeys(chromedp.ID("email"), "newbie@example.com"))
	step("type the password", chromedp.SendKeys(chromedp.ID("password"), "a brand new passphrase"))
	step("create the account", chromedp.Click(chromedp.ID("submit")))
	step("the confirmation", chromedp.WaitVisible(chromedp.ID("done")))
	link := mailedLink(t, inbox, "Subject: Confirm your email address", e.srv.URL+"/auth/email/verify")
	step("open the mail's link", chromedp.Navigate(link))
	step("confirm", chromedp.Click(chromedp.ID("submit")))
	step("confirmed", chromedp.WaitVisible(chromedp.ID("done")))
	if got := text("done"); !strings.Contains(got, "confirmed") {
		t.Fatalf("the page says %q", got)
	}
	u, err := e.store.UserByUsername(context.Background(), "newbie")
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.store.IAMProfile(context.Background(), u.ID)
	if err != nil || !p.EmailVerified {
		t.Errorf("after the link: email_verified %v, %v", p.EmailVerified, err)
	}
}

// mailEnv is an env whose service sends mail (to a real SMTP server it
// returns, through the outbox worker with mailer) and links to its own
// server, with sign-up on or off.
// mailedLink waits for the mail with subject and returns its link to
// page, with the token of 64 hex digits it carries.
func mailedLink(t *testing.T, inbox *smtptest.Server, subject, page string) string {
	t.Helper()
	m := inbox.Await(t, 15*time.Second, subject)
	link := regexp.MustCompile(regexp.QuoteMeta(page) + `\?token=[0-9a-f]{64}`).FindString(m.Decoded())
	if link == "" {
		t.Fatalf("no link to %s in the mail:\n%s", page, m.Decoded())
	}
	return link
}

func mailEnv(t *testing.T, b testenv.Backend, signup bool) (*env, *smtptest.Server) {
	st := b.Open(t)
	clock := testenv.NewClock(time.Now().UTC().Truncate(30 * time.Second))
	e := &env{t: t, store: st, clock: clock, capture: &spectest.Capture{}}
	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	e.svc = core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: st, Box: testenv.TestKey(), SMS: &testenv.SMSInbox{},
		Now: clock.Now, Mail: true, PublicURL: e.srv.URL, Signup: signup})
	h = e.capture.Wrap(handler(e.svc))
	t.Cleanup(func() { validateAgainstSpec(t, e.srv.URL, e.capture.Take()) })
	inbox := smtptest.Start(t)
	templates, err := mailer.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mailer.New(inbox.URL(), "accounts@example.com", templates)
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(context.Background())
	workers := make(chan error, 2)
	opts := core.OutboxOptions{Poll: 20 * time.Millisecond}
	go func() { workers <- e.svc.RunOutbox(wctx, core.OutboxMail, sender, opts) }()
	go func() { workers <- e.svc.RunOutbox(wctx, core.OutboxRecovery, e.svc.RecoveryRequests(), opts) }()
	t.Cleanup(func() { stop(); <-workers; <-workers })
	return e, inbox
}

// TestBrowserDeviceFlow: a command line (golang.org/x/oauth2) asks for a
// device code; alice opens the verification URI in headless Chromium,
// signs in, types the code as her device shows it, and approves; the
// command line's poll then gets a token that acts as her.
func TestBrowserDeviceFlow(t *testing.T) {
	exe := chromium(t)
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e, ctx := newEnv(t, b), t.Context()
			e.user("alice")
			cl := e.deviceApp("Deploy CLI")
			conf := &oauth2.Config{ClientID: cl.ID, Scopes: []string{"account:read_only"},
				Endpoint: oauth2.Endpoint{DeviceAuthURL: e.srv.URL + "/oauth/device_authorization", TokenURL: e.srv.URL + "/oauth/token",
					AuthStyle: oauth2.AuthStyleInParams}}
			da, err := conf.DeviceAuth(ctx)
			if err != nil {
				t.Fatal(err)
			}
			step, text := browser(t, exe)
			step("open the verification URI", chromedp.Navigate(da.VerificationURI))
			step("the sign-in page", chromedp.WaitVisible(chromedp.ID("username")))
			step("type the username", chromedp.SendKeys(chromedp.ID("username"), "alice"))
			step("type the password", chromedp.SendKeys(chromedp.ID("password"), password))
			step("sign in", chromedp.Click(chromedp.ID("submit")))
			step("the device page", chromedp.WaitVisible(chromedp.ID("user_code")))
			step("type the code", chromedp.SendKeys(chromedp.ID("user_code"), da.UserCode))
			step("continue", chromedp.Click(chromedp.ID("submit")))
			step("the consent page", chromedp.WaitVisible(chromedp.ID("app-label")))
			if label := text("app-label"); label != "Deploy CLI" {
				t.Fatalf("the consent page names %q", label)
			}
			step("authorize", chromedp.Click(chromedp.ID("approve")))
			step("the page that says so", chromedp.WaitVisible(chromedp.ID("done")))
			if done := text("done"); !strings.Contains(done, "go back to your device") {
				t.Fatalf("after approving: %q", done)
			}
			da.Interval = 1
			tok, err := conf.DeviceAccessToken(ctx, da)
			if err != nil {
				t.Fatal(err)
			}
			var prof struct{ Username string }
			e.call("GET", "/v4/profile", tok.AccessToken, "", 200, &prof)
			if prof.Username != "alice" {
				t.Fatalf("the device's token acts as %q", prof.Username)
			}
		})
	}
}
