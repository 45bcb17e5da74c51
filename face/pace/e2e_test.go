package pace_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/linode"
	"github.com/profiled/profiled/face/pace"
	"github.com/profiled/profiled/internal/spectest"
	"github.com/profiled/profiled/internal/syncbuf"
	"github.com/profiled/profiled/internal/testenv"
	"github.com/profiled/profiled/reqlog"
)

// env is one real server on one backend: the PACE face under /user/ and
// the Linode face beside it, as cmd/profiled mounts them, behind the
// request log, whose lines the test keeps.
type env struct {
	t     testing.TB
	store core.Store
	svc   *core.Service
	srv   *httptest.Server
	logs  *syncbuf.Buffer
	admin core.User
	root  string // the admin's "*" token

	mu     sync.Mutex
	errors map[string]int // error id -> status, for every error answered

	// rec keeps every exchange of do, checked against the face's OpenAPI
	// description when the test ends.
	rec *spectest.Recorder
}

// The clients the directory knows.
const (
	appA = "app-a"
	appB = "app-b"
)

func newEnv(t testing.TB, b testenv.Backend) *env {
	t.Helper()
	return newEnvQuotas(t, b, core.Quotas{})
}

// newEnvQuotas is newEnv with the service's quotas (zero: the defaults).
func newEnvQuotas(t testing.TB, b testenv.Backend, quotas core.Quotas) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, store: b.Open(t), logs: &syncbuf.Buffer{}, errors: map[string]int{}}
	dir, err := core.NewStaticClients(appA, appB)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: e.store, Box: testenv.TestKey(), Clients: dir, Quotas: quotas})
	if e.root, err = e.svc.Bootstrap(ctx); err != nil || e.root == "" {
		t.Fatalf("bootstrap: %v", err)
	}
	if e.admin, err = e.store.UserByUsername(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(e.logs, nil))
	mux := http.NewServeMux()
	mux.Handle("/user/", pace.New(e.svc, pace.Options{Logger: logger}))
	mux.Handle("/", linode.New(e.svc, linode.Options{Logger: logger}))
	e.srv = httptest.NewServer(reqlog.Middleware(logger, mux))
	t.Cleanup(e.srv.Close)
	e.rec = &spectest.Recorder{Next: http.DefaultTransport}
	if tt, ok := t.(*testing.T); ok {
		t.Cleanup(func() { validateAgainstSpec(tt, e.srv.URL, e.rec.Take()) })
	}
	return e
}

// personal issues a personal token of the admin with scopes.
func (e *env) personal(scopes core.Scopes) string {
	e.t.Helper()
	_, raw, err := e.svc.IssueToken(context.Background(), "admin", "test", scopes, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return raw
}

// client stores a token of an OAuth client for the admin, as sign-in
// will issue them, and returns it.
func (e *env) client(clientID string, scopes core.Scopes) string {
	e.t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	raw := hex.EncodeToString(b)
	tok := core.Token{UserID: e.admin.ID, Kind: core.TokenOAuth, Label: clientID, Scopes: scopes,
		Created: time.Now().UTC().Truncate(time.Second), Prefix: raw[:16], Hash: core.HashToken(raw), ClientID: clientID}
	err := e.store.Update(context.Background(), func(tx core.Tx) error { return tx.CreateToken(context.Background(), &tok) })
	if err != nil {
		e.t.Fatal(err)
	}
	return raw
}

func (e *env) url(version, client string) string {
	return e.srv.URL + "/user/" + version + "/preferences/" + client
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with a body (nil for none) and reads the whole answer.
func (e *env) do(method, url, token string, body io.Reader, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{Transport: e.rec}).Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func (e *env) get(version, client, token string) response {
	e.t.Helper()
	return e.do("GET", e.url(version, client), token, nil)
}

func (e *env) put(version, client, token, body string) response {
	e.t.Helper()
	return e.do("PUT", e.url(version, client), token, strings.NewReader(body))
}

// wantObject checks a 200 with a JSON object body equal to want.
func (e *env) wantObject(r response, want string) {
	e.t.Helper()
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" || string(r.body) != want {
		e.t.Fatalf("got %d %s %.200s, want 200 %s", r.status, r.header.Get("Content-Type"), r.body, want)
	}
}

// apiError is the one error of a JSON:API error document.
type apiError struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Source *struct {
		Pointer   *string `json:"pointer"`
		Parameter *string `json:"parameter"`
	} `json:"source"`
	Meta map[string]any `json:"meta"`
}

// wantError checks a JSON:API error document with status and code, and
// where source says: "/..." a pointer, "?name" a parameter, "" none.
func (e *env) wantError(r response, status int, code, source string) apiError {
	e.t.Helper()
	if r.status != status || r.header.Get("Content-Type") != "application/vnd.api+json" {
		e.t.Fatalf("got %d %s %.300s, want %d application/vnd.api+json", r.status, r.header.Get("Content-Type"), r.body, status)
	}
	var doc struct {
		Errors []json.RawMessage `json:"errors"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil || len(doc.Errors) != 1 {
		e.t.Fatalf("not a JSON:API error document with one error: %s (%v)", r.body, err)
	}
	var ae apiError
	dec = json.NewDecoder(bytes.NewReader(doc.Errors[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ae); err != nil {
		e.t.Fatalf("error object %s: %v", doc.Errors[0], err)
	}
	if ae.ID == "" || ae.Status != fmt.Sprint(status) || ae.Code != code || ae.Title == "" || ae.Detail == "" {
		e.t.Fatalf("error object %s, want status %d code %s with id, title and detail", doc.Errors[0], status, code)
	}
	if ae.ID != r.header.Get("X-Request-Id") {
		e.t.Fatalf("error id %s is not the request id %s", ae.ID, r.header.Get("X-Request-Id"))
	}
	got := ""
	if ae.Source != nil {
		switch {
		case ae.Source.Pointer != nil && ae.Source.Parameter == nil:
			got = *ae.Source.Pointer
		case ae.Source.Parameter != nil && ae.Source.Pointer == nil:
			got = "?" + *ae.Source.Parameter
		default:
			e.t.Fatalf("source %s must have a pointer or a parameter", doc.Errors[0])
		}
	}
	if got != source {
		e.t.Fatalf("source %q (%s), want %q", got, r.body, source)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.errors[ae.ID]; dup {
		e.t.Fatalf("error id %s answered twice", ae.ID)
	}
	e.errors[ae.ID] = status
	return ae
}

// checkErrorIDsLogged checks that every error id answered is the
// request_id of exactly one request log line, with the same status.
func (e *env) checkErrorIDsLogged(t *testing.T) {
	parse := func() map[string][]map[string]any {
		lines := map[string][]map[string]any{}
		sc := bufio.NewScanner(bytes.NewReader(e.logs.Bytes()))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("log line %s: %v", sc.Bytes(), err)
			}
			if m["msg"] == "request" {
				id, _ := m["request_id"].(string)
				lines[id] = append(lines[id], m)
			}
		}
		return lines
	}
	// A request's line is logged after its response is written: wait a
	// moment for the last ones.
	lines := parse()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); lines = parse() {
		e.mu.Lock()
		missing := 0
		for id := range e.errors {
			if len(lines[id]) == 0 {
				missing++
			}
		}
		e.mu.Unlock()
		if missing == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.errors) == 0 {
		t.Fatal("no errors were answered")
	}
	for id, status := range e.errors {
		ls := lines[id]
		if len(ls) != 1 {
			t.Errorf("error id %s is in %d request log lines", id, len(ls))
			continue
		}
		if got, _ := ls[0]["status"].(float64); int(got) != status {
			t.Errorf("error id %s: log line has status %v, the response %d", id, ls[0]["status"], status)
		}
		if r, _ := ls[0]["route"].(string); !strings.Contains(r, "/user/") && r != "unmatched" {
			t.Errorf("error id %s: route %q", id, r)
		}
	}
}

func TestPreferencesEndToEnd(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			e.run(t, "get and put", e.testGetPut)
			e.run(t, "ETag and If-Match", e.testIfMatch)
			e.run(t, "same namespace as /v4/profile/preferences", e.testLinodeShares)
			e.run(t, "versions and paths", e.testVersions)
			e.run(t, "authentication", e.testAuth)
			e.run(t, "scopes and clients", e.testScopes)
			e.run(t, "bodies", e.testBodies)
			e.run(t, "limits", e.testLimits)
			e.run(t, "big bodies", e.testBigBodies)
			e.run(t, "error ids are logged", e.checkErrorIDsLogged)
		})
	}
}

// testIfMatch: GET and PUT carry the stored object's ETag; a PUT with
// If-Match writes only over that version, else 412 with nothing changed,
// so two read-modify-write clients cannot lose each other's update (issue
// 11, item 13). The Linode face's /v4/profile/preferences shares the tags.
func (e *env) testIfMatch(t *testing.T) {
	tok := e.personal("user:preferences:read user:preferences:write")
	e.wantObject(e.put("2025-1", core.PersonalNamespace, tok, `{"n":1}`), `{"n":1}`)
	first := e.get("2025-1", core.PersonalNamespace, tok)
	tag := first.header.Get("ETag")
	if !strings.HasPrefix(tag, `"`) || !strings.HasSuffix(tag, `"`) || len(tag) < 10 {
		t.Fatalf("ETag %q", tag)
	}
	// Two clients read the same version; the first write wins, the second is refused.
	put := func(body string, header ...string) response {
		return e.do("PUT", e.url("2025-1", core.PersonalNamespace), tok, strings.NewReader(body), header...)
	}
	won := put(`{"n":2}`, "If-Match", tag)
	e.wantObject(won, `{"n":2}`)
	if won.header.Get("ETag") == tag || won.header.Get("ETag") == "" {
		t.Fatalf("the ETag after a write: %q (before %q)", won.header.Get("ETag"), tag)
	}
	e.wantError(put(`{"n":3}`, "If-Match", tag), 412, "precondition-failed", "?If-Match")
	e.wantObject(e.get("2025-1", core.PersonalNamespace, tok), `{"n":2}`)
	// A list that names the current tag matches; * matches any; a weak tag never.
	e.wantObject(put(`{"n":4}`, "If-Match", `"nope", `+won.header.Get("ETag")), `{"n":4}`)
	e.wantObject(put(`{"n":5}`, "If-Match", "*"), `{"n":5}`)
	cur := e.get("2025-1", core.PersonalNamespace, tok).header.Get("ETag")
	e.wantError(put(`{"n":6}`, "If-Match", "W/"+cur), 412, "precondition-failed", "?If-Match")
	// The Linode face: the same object, the same tag, the same refusal.
	lr := e.do("GET", e.srv.URL+"/v4/profile/preferences", e.root, nil)
	if lr.status != 200 || lr.header.Get("ETag") != cur {
		t.Fatalf("Linode GET: %d, ETag %q, want %q", lr.status, lr.header.Get("ETag"), cur)
	}
	if r := e.do("PUT", e.srv.URL+"/v4/profile/preferences", e.root, strings.NewReader(`{"n":7}`), "If-Match", tag); r.status != 412 ||
		!strings.Contains(string(r.body), `"field":"If-Match"`) {
		t.Fatalf("Linode PUT with an old tag: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", e.srv.URL+"/v4/profile/preferences", e.root, strings.NewReader(`{"n":7}`), "If-Match", cur); r.status != 200 || r.header.Get("ETag") == cur {
		t.Fatalf("Linode PUT with the current tag: %d %v", r.status, r.header)
	}
	e.wantObject(e.get("2025-1", core.PersonalNamespace, tok), `{"n":7}`)
}

// run runs a subtest whose helpers (e.t) report to it.
func (e *env) run(t *testing.T, name string, fn func(t *testing.T)) {
	t.Run(name, func(t *testing.T) {
		parent := e.t
		e.t = t
		defer func() { e.t = parent }()
		fn(t)
	})
}

func (e *env) testGetPut(t *testing.T) {
	tok := e.personal("user:preferences:read user:preferences:write")
	e.wantObject(e.get("2025-1", core.PersonalNamespace, tok), "{}")
	// The seed's example, sent pretty, stored and answered compact.
	body := `{"some": "value", "everything": [ {"is": "up", "to": 123123, "the": ["client"]} ]}`
	want := `{"some":"value","everything":[{"is":"up","to":123123,"the":["client"]}]}`
	e.wantObject(e.put("2025-1", core.PersonalNamespace, tok, body), want)
	e.wantObject(e.get("2025-1", core.PersonalNamespace, tok), want)
	// Every version serves the same object.
	for _, v := range pace.Versions {
		e.wantObject(e.get(v, core.PersonalNamespace, tok), want)
	}
	// PUT replaces the whole object.
	e.wantObject(e.put("2024-2", core.PersonalNamespace, tok, `{"other":true}`), `{"other":true}`)
	e.wantObject(e.get("2025-1", core.PersonalNamespace, tok), `{"other":true}`)
	e.wantObject(e.put("2024-2", core.PersonalNamespace, tok, `{}`), `{}`)
	e.wantObject(e.get("2025-1", core.PersonalNamespace, tok), `{}`)
	// A +json media type is JSON too.
	r := e.do("PUT", e.url("2025-1", core.PersonalNamespace), tok, strings.NewReader(`{"a":1}`), "Content-Type", "application/vnd.api+json; charset=utf-8")
	e.wantObject(r, `{"a":1}`)
	if r.header.Get("Cache-Control") == "" || r.header.Get("X-Request-Id") == "" {
		t.Fatalf("headers %v", r.header)
	}
}

func (e *env) testLinodeShares(t *testing.T) {
	tok := e.personal("*")
	e.wantObject(e.put("2025-1", core.PersonalNamespace, tok, `{"theme": "dark"}`), `{"theme":"dark"}`)
	r := e.do("GET", e.srv.URL+"/v4/profile/preferences", tok, nil)
	if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"theme":"dark"}` {
		t.Fatalf("/v4/profile/preferences: %d %s", r.status, r.body)
	}
	r = e.do("PUT", e.srv.URL+"/v4/profile/preferences", tok, strings.NewReader(`{"from": "linode"}`))
	if r.status != 200 {
		t.Fatalf("PUT /v4/profile/preferences: %d %s", r.status, r.body)
	}
	e.wantObject(e.get("2025-1", core.PersonalNamespace, tok), `{"from":"linode"}`)
	// A client's token writes its own namespace on both faces.
	a := e.client(appA, "account:read_write user:preferences:read user:preferences:write")
	e.wantObject(e.put("2025-1", appA, a, `{"app":"a"}`), `{"app":"a"}`)
	r = e.do("GET", e.srv.URL+"/v4/profile/preferences", a, nil)
	if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"app":"a"}` {
		t.Fatalf("app-a on /v4/profile/preferences: %d %s", r.status, r.body)
	}
	e.wantObject(e.get("2025-1", core.PersonalNamespace, tok), `{"from":"linode"}`)
}

func (e *env) testVersions(t *testing.T) {
	tok := e.personal("*")
	for _, v := range []string{"2025-2", "2024-1", "v4", "2025-01", "latest"} {
		ae := e.wantError(e.get(v, core.PersonalNamespace, tok), 404, "unknown-version", "?version")
		if !strings.Contains(ae.Detail, "2025-1") {
			t.Fatalf("detail %q does not list the versions", ae.Detail)
		}
		e.wantError(e.put(v, core.PersonalNamespace, tok, `{}`), 404, "unknown-version", "?version")
	}
	// A missing version is a 404 too, without a token.
	e.wantError(e.get("2023-9", core.PersonalNamespace, ""), 404, "unknown-version", "?version")
	for _, path := range []string{"/user/", "/user/2025-1", "/user/2025-1/preferences", "/user/2025-1/preferences/",
		"/user/2025-1/preferences/app-a/extra", "/user/2025-1/other/app-a"} {
		e.wantError(e.do("GET", e.srv.URL+path, tok, nil), 404, "not-found", "")
	}
	r := e.do("DELETE", e.url("2025-1", appA), tok, nil)
	e.wantError(r, 405, "method-not-allowed", "")
	if r.header.Get("Allow") != "GET, HEAD, PUT, OPTIONS" {
		t.Fatalf("Allow: %q", r.header.Get("Allow"))
	}
	r = e.do("OPTIONS", e.url("2025-1", appA), "", nil)
	if r.status != 204 || r.header.Get("Access-Control-Allow-Methods") == "" {
		t.Fatalf("OPTIONS: %d %v", r.status, r.header)
	}
}

func (e *env) testAuth(t *testing.T) {
	for _, h := range []string{"", "Bearer", "Bearer ", "Bearer nope", "Basic YWRtaW46eA==", "Bearer " + strings.Repeat("a", 600)} {
		req := func(method string, body io.Reader) response {
			if h == "" {
				return e.do(method, e.url("2025-1", core.PersonalNamespace), "", body)
			}
			return e.do(method, e.url("2025-1", core.PersonalNamespace), "", body, "Authorization", h)
		}
		r := req("GET", nil)
		e.wantError(r, 401, "invalid-token", "")
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("WWW-Authenticate: %q", r.header.Get("WWW-Authenticate"))
		}
		e.wantError(req("PUT", strings.NewReader(`{}`)), 401, "invalid-token", "")
	}
	// A revoked token is refused at once.
	tok := e.personal("*")
	e.wantObject(e.get("2025-1", core.PersonalNamespace, tok), e.get("2025-1", core.PersonalNamespace, e.root).bodyString())
	ctx := context.Background()
	a, err := e.svc.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RevokeToken(ctx, a, a.Token.ID); err != nil {
		t.Fatal(err)
	}
	e.wantError(e.get("2025-1", core.PersonalNamespace, tok), 401, "invalid-token", "")
}

func (r response) bodyString() string { return string(r.body) }

func (e *env) testScopes(t *testing.T) {
	writerB := e.client(appB, "user:preferences:write user:preferences:read")
	e.wantObject(e.put("2025-1", appB, writerB, `{"owner":"b"}`), `{"owner":"b"}`)

	// Cross-client read: without the scope 403, with it the object.
	a := e.client(appA, "user:preferences:read user:preferences:write")
	ae := e.wantError(e.get("2025-1", appB, a), 403, "insufficient-scope", "")
	if ae.Meta["required_scope"] != "user:preferences:read:app-b" || !strings.Contains(ae.Detail, "user:preferences:read:app-b") {
		t.Fatalf("403 does not name the scope: %+v", ae)
	}
	aReadsB := e.client(appA, "user:preferences:read:app-b")
	e.wantObject(e.get("2025-1", appB, aReadsB), `{"owner":"b"}`)
	// ... which neither writes b nor reads a's own namespace.
	e.wantError(e.put("2025-1", appB, aReadsB, `{"owner":"a"}`), 403, "insufficient-scope", "")
	e.wantError(e.get("2025-1", appA, aReadsB), 403, "insufficient-scope", "")
	// Cross-client write needs the write scope for that client.
	aWritesB := e.client(appA, "user:preferences:write:app-b")
	e.wantObject(e.put("2025-1", appB, aWritesB, `{"owner":"a"}`), `{"owner":"a"}`)
	e.wantError(e.get("2025-1", appB, aWritesB), 403, "insufficient-scope", "")
	e.wantObject(e.get("2025-1", appB, writerB), `{"owner":"a"}`)

	// Read and write are separate scopes, on the own namespace too.
	readOnly := e.client(appA, "user:preferences:read")
	e.wantObject(e.get("2025-1", appA, readOnly), e.get("2025-1", appA, e.root).bodyString())
	ae = e.wantError(e.put("2025-1", appA, readOnly, `{}`), 403, "insufficient-scope", "")
	if ae.Meta["required_scope"] != "user:preferences:write" {
		t.Fatalf("meta %v", ae.Meta)
	}
	// Linode scopes open nothing here.
	e.wantError(e.get("2025-1", core.PersonalNamespace, e.personal("account:read_write")), 403, "insufficient-scope", "")
	// A client's token reaches the personal namespace only with its scope.
	e.wantError(e.get("2025-1", core.PersonalNamespace, a), 403, "insufficient-scope", "")
	e.wantObject(e.get("2025-1", core.PersonalNamespace, e.client(appA, "user:preferences:read:personal")),
		e.get("2025-1", core.PersonalNamespace, e.root).bodyString())

	// Unknown clients: 404 to whoever holds a scope that would open them.
	e.wantError(e.get("2025-1", "app-z", e.root), 404, "unknown-client", "?clientId")
	e.wantError(e.put("2025-1", "app-z", e.root, `{}`), 404, "unknown-client", "?clientId")
	e.wantError(e.get("2025-1", "app-z", e.client(appA, "user:preferences:read:app-z")), 404, "unknown-client", "?clientId")
	e.wantError(e.get("2025-1", "app-z", a), 403, "insufficient-scope", "")
	e.wantError(e.get("2025-1", "bad%20id", a), 404, "unknown-client", "?clientId")
	e.wantError(e.get("2025-1", strings.Repeat("c", 129), e.root), 404, "unknown-client", "?clientId")
	// A client's own namespace exists even if the directory does not list it.
	unlisted := e.client("app-unlisted", "user:preferences:read user:preferences:write")
	e.wantObject(e.put("2025-1", "app-unlisted", unlisted, `{"x":1}`), `{"x":1}`)
}

// wantUnchanged checks that the personal namespace still holds want.
func (e *env) wantUnchanged(tok, want string) {
	e.t.Helper()
	e.wantObject(e.get("2025-1", core.PersonalNamespace, tok), want)
}

func (e *env) testBodies(t *testing.T) {
	tok := e.personal("user:preferences:read user:preferences:write")
	e.wantObject(e.put("2025-1", core.PersonalNamespace, tok, `{"keep":1}`), `{"keep":1}`)
	for _, c := range []struct{ body, code, source string }{
		{``, "invalid-json", ""},
		{`{"a":`, "invalid-json", "/a"},
		{`{"a":[1,2}`, "invalid-json", "/a"},
		{`{"a":1,}`, "invalid-json", ""},
		{`{"a":1} {}`, "invalid-json", ""},
		{`{"a/b":"\q"}`, "invalid-json", "/a~1b"},
		{"{\"a\":\"\xff\"}", "invalid-json", "/a"},
		{`[{"a":1}]`, "not-an-object", ""},
		{`"text"`, "not-an-object", ""},
		{`{"a":1,"a":2}`, "duplicate-key", "/a"},
	} {
		ae := e.wantError(e.put("2025-1", core.PersonalNamespace, tok, c.body), 400, c.code, c.source)
		if c.code == "invalid-json" && c.body != "" && !strings.Contains(ae.Detail, "at byte") {
			t.Errorf("%q: detail %q does not say where", c.body, ae.Detail)
		}
	}
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "", "application/json; charset=utf-8; x"} {
		r := e.do("PUT", e.url("2025-1", core.PersonalNamespace), tok, strings.NewReader(`{"a":1}`), "Content-Type", ct)
		if ct == "application/json; charset=utf-8; x" {
			e.wantError(r, 415, "unsupported-media-type", "")
			continue
		}
		e.wantError(r, 415, "unsupported-media-type", "")
	}
	e.wantUnchanged(tok, `{"keep":1}`)
}

// keys is an object of n keys k0, k1, ... with small values.
func keys(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `"k%d": {"n": %d}`, i, i)
	}
	return b.String() + "}"
}

func (e *env) testLimits(t *testing.T) {
	tok := e.personal("user:preferences:read user:preferences:write")
	ten := e.put("2025-1", core.PersonalNamespace, tok, keys(10))
	if ten.status != 200 {
		t.Fatalf("10 keys: %d %s", ten.status, ten.body)
	}
	ae := e.wantError(e.put("2025-1", core.PersonalNamespace, tok, keys(11)), 413, "max-keys-exceeded", "/k10")
	if ae.Title != "Max number of keys exceeded" {
		t.Fatalf("title %q", ae.Title)
	}
	e.wantUnchanged(tok, string(ten.body))

	k128 := strings.Repeat("k", 128)
	e.wantObject(e.put("2025-1", core.PersonalNamespace, tok, `{"`+k128+`": 1}`), `{"`+k128+`":1}`)
	k129 := strings.Repeat("k", 129)
	e.wantError(e.put("2025-1", core.PersonalNamespace, tok, `{"a": 1, "`+k129+`": 1}`), 413, "key-too-long", "/"+k129)
	e.wantUnchanged(tok, `{"`+k128+`":1}`)
	// A key far too long is refused without being echoed whole.
	ae = e.wantError(e.put("2025-1", core.PersonalNamespace, tok, `{"`+strings.Repeat("k", 5000)+`": 1}`), 413, "key-too-long", "")
	if len(ae.Detail) > 300 {
		t.Fatalf("detail of %d bytes", len(ae.Detail))
	}

	// A value of exactly 10 MiB of JSON is taken; one byte more is not.
	exact := object{core.MaxPreferenceValueBytes}
	r := e.stream("PUT", core.PersonalNamespace, tok, exact.reader(), exact.length())
	if r.status != 200 || r.sum != exact.sum() {
		t.Fatalf("a 10 MiB value: %d %.300s", r.status, r.body)
	}
	r = e.stream("PUT", core.PersonalNamespace, tok, object{1, core.MaxPreferenceValueBytes + 1}.reader(), -1)
	ae = e.wantError(r.response, 413, "value-too-large", "/k1")
	if !strings.Contains(ae.Detail, `"/k1"`) {
		t.Fatalf("detail %q does not name the key", ae.Detail)
	}
	if g := e.stream("GET", core.PersonalNamespace, tok, nil, -1); g.sum != exact.sum() {
		t.Fatal("a refused PUT changed the preferences")
	}
}

// object is a generated compact JSON object whose keys k0, k1, ... have
// string values of these sizes, in bytes of JSON (quotes included). It is
// generated as it is read, never held.
type object []int64

func (o object) reader() io.Reader {
	ps := []io.Reader{strings.NewReader("{")}
	for i, n := range o {
		if i > 0 {
			ps = append(ps, strings.NewReader(","))
		}
		ps = append(ps, strings.NewReader(fmt.Sprintf(`"k%d":"`, i)), io.LimitReader(filler{}, n-2), strings.NewReader(`"`))
	}
	return io.MultiReader(append(ps, strings.NewReader("}"))...)
}

func (o object) length() int64 {
	n := int64(2 + max(len(o)-1, 0))
	for i, size := range o {
		n += int64(len(fmt.Sprintf(`"k%d":`, i))) + size
	}
	return n
}

// sum is the SHA-256 of the object, in hex.
func (o object) sum() string {
	h := sha256.New()
	if _, err := io.Copy(h, o.reader()); err != nil {
		panic(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// filler is endless printable ASCII that needs no escaping in a string.
type filler struct{}

func (filler) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a' + byte(i%26)
	}
	return len(p), nil
}

// streamed is a response whose body was hashed as it arrived, and kept
// only up to 1 MiB (enough for any error document).
type streamed struct {
	response
	sum  string
	sent int64 // bytes of the request body the client sent
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n atomic.Int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// stream sends body through an io.Pipe, with a Content-Length of length
// (chunked if it is -1; a nil body sends none), and hashes the answer as it
// arrives.
func (e *env) stream(method, client, token string, body io.Reader, length int64) streamed {
	e.t.Helper()
	var reqBody io.Reader
	cnt := &counter{r: body}
	if body != nil {
		pr, pw := io.Pipe()
		go func() {
			_, err := io.Copy(pw, cnt)
			pw.CloseWithError(err)
		}()
		defer pr.Close()
		reqBody = pr
	}
	req, err := http.NewRequest(method, e.url("2025-1", client), reqBody)
	if err != nil {
		e.t.Fatal(err)
	}
	if length >= 0 {
		req.ContentLength = length
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s with a streamed body: %v (after sending %d bytes)", method, err, cnt.n.Load())
	}
	defer resp.Body.Close()
	out := streamed{response: response{status: resp.StatusCode, header: resp.Header}}
	h := sha256.New()
	var small bytes.Buffer
	if _, err := io.Copy(io.MultiWriter(h, &limitedBuffer{&small, 1 << 20}), resp.Body); err != nil {
		e.t.Fatal(err)
	}
	out.body, out.sum, out.sent = small.Bytes(), hex.EncodeToString(h.Sum(nil)), cnt.n.Load()
	return out
}

// limitedBuffer keeps the first max bytes written to it and drops the rest.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// testBigBodies sends 100 MB bodies: a valid one (ten values of 10 MiB),
// measuring the server's memory while it takes it, and two it must refuse
// without reading them to the end.
func (e *env) testBigBodies(t *testing.T) {
	tok := e.personal("user:preferences:read user:preferences:write")
	full := make(object, core.MaxPreferenceKeys)
	for i := range full {
		full[i] = core.MaxPreferenceValueBytes
	}
	size := full.length()
	sum := full.sum()

	// The server's heap must stay within 3x the body. The figure counts
	// this process whole, the client that streams the body included.
	peak := measureMemory(func() {
		r := e.stream("PUT", core.PersonalNamespace, tok, full.reader(), size)
		if r.status != 200 || r.sum != sum {
			t.Fatalf("PUT of %d bytes: %d %.300s", size, r.status, r.body)
		}
	})
	t.Logf("PUT of 10 x 10 MiB (%d bytes): peak heap in use +%d bytes (%.2fx the body); peak resident set +%d bytes (%.2fx)",
		size, peak.heap, float64(peak.heap)/float64(size), peak.rss, float64(peak.rss)/float64(size))
	if peak.heap > 3*size {
		t.Errorf("peak heap %d bytes is more than 3x the body (%d bytes)", peak.heap, size)
	}
	if g := e.stream("GET", core.PersonalNamespace, tok, nil, -1); g.status != 200 || g.sum != sum {
		t.Fatalf("GET after the 100 MB PUT: %d", g.status)
	}

	// A 100 MiB value is refused once 10 MiB of it were read.
	huge := object{100 << 20}
	r := e.stream("PUT", core.PersonalNamespace, tok, huge.reader(), huge.length())
	e.wantError(r.response, 413, "value-too-large", "/k0")
	t.Logf("a 100 MiB value was refused after the client sent %d bytes", r.sent)
	if r.sent > 60<<20 {
		t.Errorf("the client sent %d bytes of a 100 MiB value before it was refused", r.sent)
	}
	// A small object followed by 100 MiB of whitespace breaks the body's cap.
	spaces := io.MultiReader(strings.NewReader(`{"a":1}`), io.LimitReader(spaceFiller{}, core.MaxPreferencesBodyBytes))
	r = e.stream("PUT", core.PersonalNamespace, tok, spaces, -1)
	e.wantError(r.response, 413, "body-too-large", "")
	if g := e.stream("GET", core.PersonalNamespace, tok, nil, -1); g.sum != sum {
		t.Fatal("a refused PUT changed the preferences")
	}
}

type spaceFiller struct{}

func (spaceFiller) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}
