package iam_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/iam"
	"github.com/profiled/profiled/face/linode"
	"github.com/profiled/profiled/internal/oidctest"
	"github.com/profiled/profiled/internal/spectest"
	"github.com/profiled/profiled/internal/testenv"
	"github.com/profiled/profiled/oidc"
)

const audience = "https://profiled.test/iam"

// env is one server with both faces on one backend, trusting a real
// OpenID Connect provider, with the bootstrap admin's token.
type env struct {
	t     testing.TB
	store core.Store
	svc   *core.Service
	idp   *oidctest.Provider
	srv   *httptest.Server
	rec   *spectest.Recorder
	http  *http.Client
	sms   *testenv.SMSInbox
	token string // admin, every scope
}

func newEnv(t testing.TB, b testenv.Backend) *env {
	t.Helper()
	e := &env{t: t, store: b.Open(t), idp: oidctest.Start(t), sms: &testenv.SMSInbox{}}
	p, err := oidc.New(oidc.Config{Name: "corp", Issuer: e.idp.URL, Audience: audience})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: e.store, Box: testenv.TestKey(), SMS: e.sms, Identity: p})
	if e.token, err = e.svc.Bootstrap(context.Background()); err != nil || e.token == "" {
		t.Fatalf("bootstrap: %v", err)
	}
	// The faces mounted as cmd/profiled mounts them.
	mux := http.NewServeMux()
	mux.Handle(iam.Prefix+"/", iam.New(e.svc, iam.Options{}))
	mux.Handle("/", linode.New(e.svc, linode.Options{}))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.rec = &spectest.Recorder{Next: http.DefaultTransport}
	e.http = &http.Client{Transport: e.rec}
	return e
}

// response is what a request got.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return v
}

// req describes a request; the zero value is a GET with the admin token.
type req struct {
	token       string // "" is the admin's; "-" sends no credentials
	apiKey      bool   // send the token in X-API-Key instead of Authorization
	contentType string
	body        []byte
	header      map[string]string
	skipSpec    bool // an exchange the spec does not describe (unknown paths)
}

func (e *env) do(method, path string, o req) response {
	e.t.Helper()
	httpReq, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(o.body))
	if err != nil {
		e.t.Fatal(err)
	}
	tok := o.token
	if tok == "" {
		tok = e.token
	}
	switch {
	case tok == "-":
	case o.apiKey:
		httpReq.Header.Set("X-API-Key", tok)
	default:
		httpReq.Header.Set("Authorization", "Bearer "+tok)
	}
	if o.contentType != "" {
		httpReq.Header.Set("Content-Type", o.contentType)
	}
	for k, v := range o.header {
		httpReq.Header.Set(k, v)
	}
	if o.skipSpec {
		httpReq.Header.Set(skipSpecHeader, "1")
	}
	resp, err := e.http.Do(httpReq)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// jsonReq is a request with a JSON body.
func jsonReq(token string, v any) req {
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			panic(err)
		}
	}
	return req{token: token, contentType: "application/json", body: b}
}

// upload is a multipart/form-data request with data in the field name.
func upload(token, name string, data []byte) req {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+name+`"; filename="picture.png"`)
	h.Set("Content-Type", "image/png") // a lie for most files: the server does not trust it
	pw, _ := mw.CreatePart(h)
	_, _ = pw.Write(data)
	_ = mw.WriteField("comment", "ignored")
	_ = mw.Close()
	return req{token: token, contentType: mw.FormDataContentType(), body: b.Bytes()}
}

// user makes a user with a token of the given scopes.
func (e *env) user(name string, scopes core.Scopes) (core.User, string) {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.svc.CreateUser(ctx, core.UserCreate{Username: name, Email: name + "@example.com"})
	if err != nil {
		e.t.Fatal(err)
	}
	return u, e.tokenFor(name, scopes)
}

func (e *env) tokenFor(name string, scopes core.Scopes) string {
	e.t.Helper()
	_, raw, err := e.svc.IssueToken(context.Background(), name, "test", scopes, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return raw
}

// wantDetail checks a {"detail": "..."} error.
func wantDetail(t testing.TB, what string, r response, status int, contains string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
		return
	}
	var body struct {
		Detail string `json:"detail"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Detail == "" {
		t.Errorf("%s: not a {\"detail\": \"...\"} body: %s (%v)", what, r.body, err)
		return
	}
	if !strings.Contains(body.Detail, contains) {
		t.Errorf("%s: detail %q does not say %q", what, body.Detail, contains)
	}
}

// problemJSON is one entry of a 422.
type problemJSON struct {
	Type string `json:"type"`
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
}

// wantProblem checks a 422 whose detail list has an entry at loc of type typ.
func wantProblem(t testing.TB, what string, r response, typ string, loc ...any) {
	t.Helper()
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("%s: status %d, want 422; body %s", what, r.status, r.body)
		return
	}
	var body struct {
		Detail []problemJSON `json:"detail"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || len(body.Detail) == 0 {
		t.Errorf("%s: not a validation error body: %s (%v)", what, r.body, err)
		return
	}
	want, _ := json.Marshal(loc)
	for _, p := range body.Detail {
		got, _ := json.Marshal(p.Loc)
		if string(got) == string(want) && p.Type == typ && p.Msg != "" {
			return
		}
	}
	t.Errorf("%s: no %s problem at %s in %s", what, typ, want, r.body)
}
