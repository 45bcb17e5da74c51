package linode_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/linode/linodego"
	"github.com/pquerna/otp/totp"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/linode"
	"github.com/profiled/profiled/internal/spectest"
	"github.com/profiled/profiled/internal/testenv"
)

// env is one running server on one backend, with the admin's linodego client.
type env struct {
	t      testing.TB
	store  core.Store
	svc    *core.Service
	srv    *httptest.Server
	rec    *spectest.Recorder
	sms    *testenv.SMSInbox
	client *linodego.Client
	admin  core.User
	token  string
}

func newEnv(t testing.TB, b testenv.Backend) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, store: b.Open(t), sms: &testenv.SMSInbox{}}
	e.svc = core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: e.store, Box: testenv.TestKey(), SMS: e.sms})
	tok, err := e.svc.Bootstrap(ctx)
	if err != nil || tok == "" {
		t.Fatalf("bootstrap: %q %v", tok, err)
	}
	e.token = tok
	if e.admin, err = e.store.UserByUsername(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(linode.New(e.svc, linode.Options{}))
	t.Cleanup(e.srv.Close)
	e.rec = &spectest.Recorder{Next: http.DefaultTransport}
	e.client = e.clientFor(tok)
	return e
}

// clientFor is an unmodified linodego client pointed at the server.
func (e *env) clientFor(token string) *linodego.Client {
	return testenv.Linodego(&http.Client{Transport: e.rec}, e.srv.URL, token)
}

func TestLinodegoEndToEnd(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			t.Run("profile", e.testProfile)
			t.Run("sshkeys", e.testSSHKeys)
			t.Run("tokens", e.testTokens)
			t.Run("preferences", e.testPreferences)
			t.Run("security questions and tfa", e.testTFA)
			t.Run("phone", e.testPhone)
			t.Run("apps devices logins", e.testSessions)
			t.Run("grants", e.testGrants)
			t.Run("account", e.testAccount)
			t.Run("events", e.testEvents)
			t.Run("longview plan", e.testLongviewPlan)
			t.Run("v4beta", func(t *testing.T) {
				c := e.clientFor(e.token)
				c.SetAPIVersion("v4beta")
				p, err := c.GetProfile(ctx)
				if err != nil || p.Username != "admin" {
					t.Fatalf("v4beta profile: %+v %v", p, err)
				}
			})
			// Every response of the run must match the published API description.
			validateAgainstSpec(t, e.srv.URL, e.rec.Take())
		})
	}
}

func (e *env) testProfile(t *testing.T) {
	ctx := context.Background()
	p, err := e.client.GetProfile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Username != "admin" || p.UID != int(e.admin.ID) || p.AuthenticationType != "password" || p.Restricted {
		t.Fatalf("profile: %+v", p)
	}
	// What the Terraform provider checks its connection with: an empty
	// compute catalogue (a 200 list).
	if types, err := e.client.ListTypes(ctx, nil); err != nil || len(types) != 0 {
		t.Fatalf("ListTypes: %v, %v", types, err)
	}
	// linodego sends the whole object back, read-only fields included.
	opts := p.GetUpdateOptions()
	opts.Email = "new@example.com"
	opts.Timezone = "Europe/Berlin"
	opts.LishAuthMethod = linodego.AuthMethodDisabled
	key := testenv.NewSSHKey(t, "lish")
	opts.AuthorizedKeys = &[]string{key}
	opts.EmailNotifications = linodego.Pointer(false)
	up, err := e.client.UpdateProfile(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if up.Email != "new@example.com" || up.Timezone != "Europe/Berlin" || up.LishAuthMethod != "disabled" ||
		len(up.AuthorizedKeys) != 1 || up.AuthorizedKeys[0] != key || up.EmailNotifications {
		t.Fatalf("updated profile: %+v", up)
	}
	again, _ := e.client.GetProfile(ctx)
	if again.Email != "new@example.com" {
		t.Fatalf("update not stored: %+v", again)
	}
	for name, o := range map[string]linodego.ProfileUpdateOptions{
		"restricted":           {Restricted: linodego.Pointer(true)},
		"ip_whitelist_enabled": {IPWhitelistEnabled: linodego.Pointer(true)},
		"email":                {Email: "not-an-email"},
		"timezone":             {Timezone: "Mars/Olympus"},
		"lish_auth_method":     {LishAuthMethod: "sometimes"},
		"authorized_keys":      {AuthorizedKeys: &[]string{"ssh-rsa AAAA-not-a-key"}},
	} {
		_, err := e.client.UpdateProfile(ctx, o)
		var le *linodego.Error
		if !errors.As(err, &le) || le.Code != 400 || !strings.Contains(le.Error(), name) {
			t.Errorf("%s: want 400 naming the field, got %v", name, err)
		}
	}
	after, _ := e.client.GetProfile(ctx)
	if after.Email != "new@example.com" || after.Restricted {
		t.Fatalf("a refused update changed the profile: %+v", after)
	}
}

func (e *env) testSSHKeys(t *testing.T) {
	ctx := context.Background()
	key := testenv.NewSSHKey(t, "me@laptop")
	k, err := e.client.CreateSSHKey(ctx, linodego.SSHKeyCreateOptions{Label: "laptop", SSHKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if k.SSHKey != key || k.Label != "laptop" || k.Created == nil {
		t.Fatalf("created key: %+v", k)
	}
	// The same key again is a second key with its own id, as the real API
	// does (the Terraform provider's acceptance tests add one key twice).
	again, err := e.client.CreateSSHKey(ctx, linodego.SSHKeyCreateOptions{Label: "again", SSHKey: key})
	if err != nil || again.ID == k.ID || again.SSHKey != key {
		t.Fatalf("the same key twice: %+v, %v", again, err)
	}
	if _, err := e.client.CreateSSHKey(ctx, linodego.SSHKeyCreateOptions{Label: "bad", SSHKey: "ssh-rsa AAAAB3Nza garbage"}); testenv.APIStatus(err) != 400 {
		t.Fatalf("bad key: want 400, got %v", err)
	}
	for i := 0; i < 30; i++ {
		if _, err := e.client.CreateSSHKey(ctx, linodego.SSHKeyCreateOptions{Label: "k", SSHKey: testenv.NewSSHKey(t, "bulk")}); err != nil {
			t.Fatal(err)
		}
	}
	// 32 keys over pages of 25: linodego fetches both pages.
	all, err := e.client.ListSSHKeys(ctx, &linodego.ListOptions{PageSize: 25})
	if err != nil || len(all) != 32 {
		t.Fatalf("list: %d keys, %v", len(all), err)
	}
	// The filters real clients send: every Terraform list data source, its
	// exact-match values, and Ansible's ssh_key_list by label.
	for _, tc := range []struct {
		filter string
		want   int
	}{
		{`{"+and":[],"+order":"desc"}`, 32},
		{`{"+and":[{"+or":[{"label":"laptop"},{"label":"again"}]}],"+order":"desc"}`, 2},
		{`{"+and":[{"+or":[]}],"+order":"asc","+order_by":"created"}`, 32},
		{`{"label":"again"}`, 1},
		{`{"ssh_key":"` + key + `"}`, 2},
		{`{"+order":"desc","+order_by":"label"}`, 32},
	} {
		got, err := e.client.ListSSHKeys(ctx, &linodego.ListOptions{Filter: tc.filter})
		if err != nil || len(got) != tc.want {
			t.Fatalf("list with X-Filter %s: %d keys, %v; want %d", tc.filter, len(got), err, tc.want)
		}
	}
	desc, err := e.client.ListSSHKeys(ctx, &linodego.ListOptions{Filter: `{"+and":[],"+order":"desc"}`})
	if err != nil || desc[0].ID < desc[len(desc)-1].ID {
		t.Fatalf("+order desc without +order_by lists ids in ascending order: first %d, last %d (%v)", desc[0].ID, desc[len(desc)-1].ID, err)
	}
	if _, err := e.client.ListSSHKeys(ctx, &linodego.ListOptions{Filter: `{"user_agent":"x"}`}); testenv.APIStatus(err) != 400 {
		t.Fatalf("a field SSH keys do not have: %v", err)
	}
	got, err := e.client.GetSSHKey(ctx, k.ID)
	if err != nil || got.SSHKey != key {
		t.Fatalf("get: %+v %v", got, err)
	}
	up, err := e.client.UpdateSSHKey(ctx, k.ID, linodego.SSHKeyUpdateOptions{Label: "renamed"})
	if err != nil || up.Label != "renamed" || up.SSHKey != key {
		t.Fatalf("update: %+v %v", up, err)
	}
	if _, err := e.client.UpdateSSHKey(ctx, k.ID, linodego.SSHKeyUpdateOptions{Label: strings.Repeat("x", 65)}); testenv.APIStatus(err) != 400 {
		t.Fatalf("long label: %v", err)
	}
	// Another user sees none of it: 404, not 403.
	other := e.otherUser(t, "bob")
	if _, err := other.GetSSHKey(ctx, k.ID); testenv.APIStatus(err) != 404 {
		t.Fatalf("other user get: %v", err)
	}
	if err := other.DeleteSSHKey(ctx, k.ID); testenv.APIStatus(err) != 404 {
		t.Fatalf("other user delete: %v", err)
	}
	if err := e.client.DeleteSSHKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.GetSSHKey(ctx, k.ID); testenv.APIStatus(err) != 404 {
		t.Fatalf("deleted key: %v", err)
	}
}

// otherUser creates a second user and returns its client.
func (e *env) otherUser(t *testing.T, name string) *linodego.Client {
	t.Helper()
	ctx := context.Background()
	if _, err := e.svc.CreateUser(ctx, core.UserCreate{Username: name, Email: name + "@example.com"}); err != nil && core.KindOf(err) != core.KindConflict {
		t.Fatal(err)
	}
	_, raw, err := e.svc.IssueToken(ctx, name, "test", core.AllScopes, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e.clientFor(raw)
}

func (e *env) testTokens(t *testing.T) {
	ctx := context.Background()
	exp := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	tok, err := e.client.CreateToken(ctx, linodego.TokenCreateOptions{Label: "ci", Scopes: "account:read_only", Expiry: &exp})
	if err != nil {
		t.Fatal(err)
	}
	if len(tok.Token) != 64 || tok.Scopes != "account:read_only" || tok.Expiry == nil || !tok.Expiry.Equal(exp) {
		t.Fatalf("created token: %+v", tok)
	}
	forever, err := e.client.CreateToken(ctx, linodego.TokenCreateOptions{Label: "forever"})
	if err != nil || forever.Scopes != "*" || forever.Expiry == nil || forever.Expiry.Year() != 2999 {
		t.Fatalf("token without expiry: %+v %v", forever, err)
	}
	got, err := e.client.GetToken(ctx, tok.ID)
	if err != nil || got.Token != tok.Token[:16] {
		t.Fatalf("get shows the first 16 characters: %+v %v", got, err)
	}
	filter := `{"+order_by":"label","+order":"desc","label":{"+contains":"ever"}}`
	list, err := e.client.ListTokens(ctx, &linodego.ListOptions{Filter: filter})
	if err != nil || len(list) != 1 || list[0].Label != "forever" {
		t.Fatalf("filtered list: %+v %v", list, err)
	}
	if _, err := e.client.ListTokens(ctx, &linodego.ListOptions{Filter: `{"user_agent":"x"}`}); testenv.APIStatus(err) != 400 {
		t.Fatalf("a field tokens do not have: %v", err)
	}
	// Cloud Manager's token table sorts by expiry; "never" sorts last.
	byExpiry, err := e.client.ListTokens(ctx, &linodego.ListOptions{Filter: `{"+order":"asc","+order_by":"expiry"}`})
	if err != nil || len(byExpiry) < 2 || byExpiry[len(byExpiry)-1].Expiry.Year() != 2999 {
		t.Fatalf("tokens by expiry: %+v %v", byExpiry, err)
	}
	byPrefix, err := e.client.ListTokens(ctx, &linodego.ListOptions{Filter: `{"token":"` + tok.Token[:16] + `"}`})
	if err != nil || len(byPrefix) != 1 || byPrefix[0].ID != tok.ID {
		t.Fatalf("tokens by their shown prefix: %+v %v", byPrefix, err)
	}
	up, err := e.client.UpdateToken(ctx, tok.ID, linodego.TokenUpdateOptions{Label: "ci-renamed"})
	if err != nil || up.Label != "ci-renamed" {
		t.Fatalf("update: %+v %v", up, err)
	}
	// The read-only token reads, cannot write, and cannot mint a stronger token.
	ro := e.clientFor(tok.Token)
	if _, err := ro.ListSSHKeys(ctx, nil); err != nil {
		t.Fatalf("read-only token read: %v", err)
	}
	if _, err := ro.CreateSSHKey(ctx, linodego.SSHKeyCreateOptions{SSHKey: testenv.NewSSHKey(t, "x")}); testenv.APIStatus(err) != 401 {
		t.Fatalf("read-only token write: want 401, got %v", err)
	}
	// Revocation is immediate.
	if err := e.client.DeleteToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.GetProfile(ctx); testenv.APIStatus(err) != 401 {
		t.Fatalf("revoked token: want 401, got %v", err)
	}
	if _, err := e.clientFor(strings.Repeat("0", 64)).GetProfile(ctx); testenv.APIStatus(err) != 401 {
		t.Fatalf("unknown token: %v", err)
	}
	if _, err := e.client.CreateToken(ctx, linodego.TokenCreateOptions{Label: ""}); testenv.APIStatus(err) != 400 {
		t.Fatalf("empty label: %v", err)
	}
	if _, err := e.client.CreateToken(ctx, linodego.TokenCreateOptions{Label: "x", Scopes: "root:everything"}); testenv.APIStatus(err) != 400 {
		t.Fatalf("bad scope: %v", err)
	}
	if err := e.client.DeleteToken(ctx, forever.ID); err != nil {
		t.Fatal(err)
	}
}

func (e *env) testPreferences(t *testing.T) {
	ctx := context.Background()
	p, err := e.client.GetProfilePreferences(ctx)
	if err != nil || len(*p) != 0 {
		t.Fatalf("preferences before any PUT: %+v %v", p, err)
	}
	want := linodego.ProfilePreferences{"theme": "dark", "sortKeys": map[string]any{"linodes": "label"}}
	got, err := e.client.UpdateProfilePreferences(ctx, want)
	if err != nil || (*got)["theme"] != "dark" {
		t.Fatalf("put: %+v %v", got, err)
	}
	again, _ := e.client.GetProfilePreferences(ctx)
	if (*again)["theme"] != "dark" {
		t.Fatalf("get after put: %+v", again)
	}
	big := linodego.ProfilePreferences{"blob": strings.Repeat("x", 65536)}
	if _, err := e.client.UpdateProfilePreferences(ctx, big); testenv.APIStatus(err) != 400 {
		t.Fatalf("oversized preferences: %v", err)
	}
}

func (e *env) testTFA(t *testing.T) {
	ctx := context.Background()
	if _, err := e.client.CreateTwoFactorSecret(ctx); testenv.APIStatus(err) != 400 {
		t.Fatalf("tfa-enable before security questions: want 400, got %v", err)
	}
	qs, err := e.client.SecurityQuestionsList(ctx)
	if err != nil || len(qs.SecurityQuestions) != 19 || qs.SecurityQuestions[0].Question != "What was the name of your first pet?" {
		t.Fatalf("questions: %+v %v", qs, err)
	}
	if err := e.client.SecurityQuestionsAnswer(ctx, linodego.SecurityQuestionsAnswerOptions{SecurityQuestions: []linodego.SecurityQuestionsAnswerQuestion{
		{QuestionID: 1, Response: "Rex"}, {QuestionID: 1, Response: "Fido"}, {QuestionID: 3, Response: "Queen"},
	}}); testenv.APIStatus(err) != 400 {
		t.Fatalf("duplicate question: %v", err)
	}
	if err := e.client.SecurityQuestionsAnswer(ctx, linodego.SecurityQuestionsAnswerOptions{SecurityQuestions: []linodego.SecurityQuestionsAnswerQuestion{
		{QuestionID: 1, Response: "Rex"}, {QuestionID: 2, Response: "Anna"}, {QuestionID: 3, Response: "Queen"},
	}}); err != nil {
		t.Fatal(err)
	}
	qs, _ = e.client.SecurityQuestionsList(ctx)
	if qs.SecurityQuestions[1].Response != "Anna" || qs.SecurityQuestions[5].Response != "" {
		t.Fatalf("answers: %+v", qs.SecurityQuestions[:6])
	}
	sec, err := e.client.CreateTwoFactorSecret(ctx)
	if err != nil || sec.Secret == "" || sec.Expiry == nil || !sec.Expiry.After(time.Now()) {
		t.Fatalf("tfa-enable: %+v %v", sec, err)
	}
	if _, err := e.client.ConfirmTwoFactor(ctx, linodego.ConfirmTwoFactorOptions{TFACode: "000000"}); testenv.APIStatus(err) != 400 {
		t.Fatalf("wrong code: %v", err)
	}
	code, err := totp.GenerateCode(sec.Secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.client.ConfirmTwoFactor(ctx, linodego.ConfirmTwoFactorOptions{TFACode: code})
	if err != nil || res.Scratch == "" {
		t.Fatalf("confirm: %+v %v", res, err)
	}
	if p, _ := e.client.GetProfile(ctx); !p.TwoFactorAuth {
		t.Fatal("two_factor_auth not on after confirm")
	}
	if _, err := e.client.ConfirmTwoFactor(ctx, linodego.ConfirmTwoFactorOptions{TFACode: code}); testenv.APIStatus(err) != 400 {
		t.Fatalf("confirm twice: %v", err)
	}
	if err := e.client.DisableTwoFactor(ctx); err != nil {
		t.Fatal(err)
	}
	if p, _ := e.client.GetProfile(ctx); p.TwoFactorAuth {
		t.Fatal("two_factor_auth still on after disable")
	}
}

func (e *env) testPhone(t *testing.T) {
	ctx := context.Background()
	if err := e.client.SendPhoneNumberVerificationCode(ctx, linodego.SendPhoneNumberVerificationCodeOptions{ISOCode: "US", PhoneNumber: "not a number"}); testenv.APIStatus(err) != 400 {
		t.Fatalf("bad number: %v", err)
	}
	if err := e.client.SendPhoneNumberVerificationCode(ctx, linodego.SendPhoneNumberVerificationCodeOptions{ISOCode: "US", PhoneNumber: "(201) 555-0123"}); err != nil {
		t.Fatal(err)
	}
	msgs := e.sms.Messages()
	if len(msgs) != 1 || msgs[0].To != "+12015550123" {
		t.Fatalf("sms: %+v", msgs)
	}
	code := e.sms.LastCode()
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if err := e.client.VerifyPhoneNumber(ctx, linodego.VerifyPhoneNumberOptions{OTPCode: wrong}); testenv.APIStatus(err) != 400 {
		t.Fatalf("wrong code: %v", err)
	}
	if err := e.client.VerifyPhoneNumber(ctx, linodego.VerifyPhoneNumberOptions{OTPCode: code}); err != nil {
		t.Fatal(err)
	}
	if p, _ := e.client.GetProfile(ctx); p.VerifiedPhoneNumber != "+12015550123" {
		t.Fatalf("verified number: %+v", p)
	}
	if err := e.client.DeletePhoneNumber(ctx); err != nil {
		t.Fatal(err)
	}
	if p, _ := e.client.GetProfile(ctx); p.VerifiedPhoneNumber != "" {
		t.Fatalf("number not cleared: %+v", p)
	}
}

func (e *env) testSessions(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	exp := now.Add(24 * time.Hour)
	app := core.App{UserID: e.admin.ID, ClientID: "cli-app", Label: "Terraform", Scopes: "account:read_only",
		Website: "https://example.com", Created: now, Expiry: &exp}
	dev := core.Device{UserID: e.admin.ID, Created: now, Expiry: now.Add(30 * 24 * time.Hour), LastAuthenticated: now,
		LastRemoteAddr: "192.0.2.1", UserAgent: "Mozilla/5.0"}
	login := core.Login{UserID: e.admin.ID, Datetime: now, IP: "192.0.2.1", Username: "admin", Status: core.LoginSuccessful}
	err := e.store.Update(ctx, func(tx core.Tx) error {
		if err := tx.CreateApp(ctx, &app); err != nil {
			return err
		}
		if err := tx.CreateDevice(ctx, &dev); err != nil {
			return err
		}
		return tx.CreateLogin(ctx, &login)
	})
	if err != nil {
		t.Fatal(err)
	}
	apps, err := e.client.ListProfileApps(ctx, &linodego.ListOptions{Filter: `{"label":"Terraform"}`})
	if err != nil || len(apps) != 1 || apps[0].Website != "https://example.com" {
		t.Fatalf("apps: %+v %v", apps, err)
	}
	if a, err := e.client.GetProfileApp(ctx, int(app.ID)); err != nil || a.Label != "Terraform" {
		t.Fatalf("app: %+v %v", a, err)
	}
	if err := e.client.DeleteProfileApp(ctx, int(app.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.GetProfileApp(ctx, int(app.ID)); testenv.APIStatus(err) != 404 {
		t.Fatalf("revoked app: %v", err)
	}
	devs, err := e.client.ListProfileDevices(ctx, nil)
	if err != nil || len(devs) != 1 || devs[0].UserAgent != "Mozilla/5.0" {
		t.Fatalf("devices: %+v %v", devs, err)
	}
	if d, err := e.client.GetProfileDevice(ctx, int(dev.ID)); err != nil || d.LastRemoteAddr != "192.0.2.1" {
		t.Fatalf("device: %+v %v", d, err)
	}
	if err := e.client.DeleteProfileDevice(ctx, int(dev.ID)); err != nil {
		t.Fatal(err)
	}
	logins, err := e.client.ListProfileLogins(ctx, nil)
	if err != nil || len(logins) != 1 || logins[0].Status != "successful" {
		t.Fatalf("logins: %+v %v", logins, err)
	}
	if l, err := e.client.GetProfileLogin(ctx, int(login.ID)); err != nil || l.IP != "192.0.2.1" {
		t.Fatalf("login: %+v %v", l, err)
	}
}

func (e *env) testGrants(t *testing.T) {
	ctx := context.Background()
	// Unrestricted: 204, which linodego reads as an empty response.
	if _, err := e.client.GrantsList(ctx); err != nil {
		t.Fatalf("unrestricted grants: %v", err)
	}
	if _, err := e.svc.CreateUser(ctx, core.UserCreate{Username: "carol", Email: "carol@example.com", Restricted: true, AccountOf: "admin"}); err != nil {
		t.Fatal(err)
	}
	doc := `{"global":{"account_access":"read_only","add_linodes":true},"linode":[{"id":7,"label":"web","permissions":"read_write"}]}`
	if err := e.svc.SetGrants(ctx, "carol", []byte(doc)); err != nil {
		t.Fatal(err)
	}
	_, raw, err := e.svc.IssueToken(ctx, "carol", "t", core.AllScopes, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.clientFor(raw).GrantsList(ctx)
	if err != nil || !g.Global.AddLinodes || len(g.Linode) != 1 || g.Linode[0].ID != 7 {
		b, _ := json.Marshal(g)
		t.Fatalf("restricted grants: %s %v", b, err)
	}
}
