package auth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/auth"
	"github.com/profiled/profiled/face/iam"
	"github.com/profiled/profiled/face/linode"
	"github.com/profiled/profiled/face/pace"
	"github.com/profiled/profiled/internal/clientjwt"
	"github.com/profiled/profiled/internal/spectest"
	"github.com/profiled/profiled/internal/testenv"
)

// env is one server (the auth face, the Linode face and the PACE face,
// wired as cmd/profiled wires them) on one store.
type env struct {
	t     *testing.T
	store core.Store
	svc   *core.Service
	clock *testenv.Clock
	srv   *httptest.Server
	// capture keeps every exchange, checked against the face's OpenAPI
	// description when the test ends.
	capture *spectest.Capture
}

const password = "a long and unusual passphrase"

// handler wires the faces as cmd/profiled does.
func handler(svc *core.Service) http.Handler {
	mux := http.NewServeMux()
	a := auth.New(svc, auth.Options{})
	for _, p := range auth.Paths {
		mux.Handle(p, a)
	}
	mux.Handle(iam.Prefix+"/", iam.New(svc, iam.Options{}))
	mux.Handle("/user/", pace.New(svc, pace.Options{}))
	mux.Handle("/", linode.New(svc, linode.Options{}))
	return mux
}

func newEnvOn(t *testing.T, st core.Store, c *testenv.Clock) *env {
	t.Helper()
	return newEnvWith(t, st, c, func(*core.Config) {})
}

// newEnvWith is newEnvOn with the service's configuration as set changes it.
func newEnvWith(t *testing.T, st core.Store, c *testenv.Clock, set func(*core.Config)) *env {
	t.Helper()
	e := &env{t: t, store: st, clock: c}
	conf := core.Config{PasswordCost: testenv.FastPasswords, Store: st, Box: testenv.TestKey(), SMS: &testenv.SMSInbox{}, Now: c.Now,
		Clients: core.RegisteredClients{Store: st}, ClientKeys: clientjwt.New(nil, c.Now)}
	set(&conf)
	e.svc = core.New(conf)
	e.capture = &spectest.Capture{}
	e.srv = httptest.NewServer(e.capture.Wrap(handler(e.svc)))
	t.Cleanup(func() { validateAgainstSpec(t, e.srv.URL, e.capture.Take()) })
	t.Cleanup(e.srv.Close)
	return e
}

func newEnv(t *testing.T, b testenv.Backend) *env {
	// Real time, so that a browser's cookies expire when the server says.
	return newEnvOn(t, b.Open(t), testenv.NewClock(time.Now().UTC().Truncate(30*time.Second)))
}

// user creates a user with a password and returns a personal "*" token.
func (e *env) user(name string) (core.User, string) {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.svc.CreateUser(ctx, core.UserCreate{Username: name, Email: name + "@example.com"})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.SetPassword(ctx, u.ID, password); err != nil {
		e.t.Fatal(err)
	}
	_, raw, err := e.svc.IssueToken(ctx, name, "test", core.AllScopes, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return u, raw
}

// deviceApp registers a public OAuth client the operator allowed the
// device authorization grant, as a command line is.
func (e *env) deviceApp(label string) core.OAuthClient {
	e.t.Helper()
	c, _, err := e.svc.CreateOAuthClient(context.Background(), core.OAuthClientCreate{Label: label, Website: "https://cli.example",
		RedirectURIs: []string{"http://127.0.0.1/cb"}, Public: true, DeviceGrant: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// app registers a confidential OAuth client and returns it and its secret.
func (e *env) app(label, website string, redirectURIs ...string) (core.OAuthClient, string) {
	e.t.Helper()
	c, secret, err := e.svc.CreateOAuthClient(context.Background(), core.OAuthClientCreate{Label: label,
		Website: website, RedirectURIs: redirectURIs})
	if err != nil {
		e.t.Fatal(err)
	}
	return c, secret
}

// enableTFA turns TFA on through the Linode API and returns the secret and
// the scratch code; the clock then moves past the step used.
func (e *env) enableTFA(token string) (string, string) {
	e.t.Helper()
	questions := `{"security_questions":[{"question_id":1,"response":"rex"},{"question_id":2,"response":"ann"},{"question_id":3,"response":"abba"}]}`
	e.call("POST", "/v4/profile/security-questions", token, questions, 200, nil)
	var sec struct{ Secret string }
	e.call("POST", "/v4/profile/tfa-enable", token, "", 200, &sec)
	var conf struct {
		Scratch string `json:"scratch"`
	}
	e.call("POST", "/v4/profile/tfa-enable-confirm", token, `{"tfa_code":"`+e.code(sec.Secret)+`"}`, 200, &conf)
	e.clock.Advance(30 * time.Second)
	return sec.Secret, conf.Scratch
}

// code is the TOTP code of secret now.
func (e *env) code(secret string) string {
	e.t.Helper()
	c, err := totp.GenerateCodeCustom(secret, e.clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// client is a browser-like HTTP client with a cookie jar that does not
// follow redirects.
func client(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// callWith sends a JSON request and checks the status; out, if not nil,
// receives the decoded body. It returns the response body.
func (e *env) callWith(c *http.Client, method, path, token, body string, want int, out any) []byte {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return data
}

func (e *env) call(method, path, token, body string, want int, out any) []byte {
	e.t.Helper()
	return e.callWith(http.DefaultClient, method, path, token, body, want, out)
}

// wantField checks a Linode-style error body names field.
func wantField(t *testing.T, body []byte, field string) {
	t.Helper()
	var eb struct {
		Errors []struct{ Reason, Field string }
	}
	if err := json.Unmarshal(body, &eb); err != nil || len(eb.Errors) != 1 || eb.Errors[0].Field != field || eb.Errors[0].Reason == "" {
		t.Fatalf("error body %s does not name field %q", body, field)
	}
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// form GETs page with c, then POSTs fields (and the page's CSRF token) to action.
func (e *env) form(c *http.Client, page, action string, fields url.Values) *http.Response {
	e.t.Helper()
	resp, err := c.Get(e.srv.URL + page)
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfPattern.FindSubmatch(body)
	if m == nil {
		e.t.Fatalf("GET %s: %d, no CSRF token in %s", page, resp.StatusCode, body)
	}
	fields.Set("csrf_token", string(m[1]))
	return e.post(c, action, fields)
}

func (e *env) post(c *http.Client, action string, fields url.Values) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+action, strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func jsonUnmarshal(b string, v any) error { return json.Unmarshal([]byte(b), v) }
