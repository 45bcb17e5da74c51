package linode_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/profiled/profiled/internal/testenv"
)

// do sends a raw request with the admin token.
func (e *env) do(method, path, contentType string, body []byte, header ...string) (int, http.Header, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// envelope decodes a Linode error body strictly.
func envelope(t *testing.T, b []byte) []struct{ Reason, Field string } {
	t.Helper()
	var body struct {
		Errors []struct{ Reason, Field string } `json:"errors"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || len(body.Errors) == 0 || body.Errors[0].Reason == "" {
		t.Fatalf("not a Linode error envelope: %s (%v)", b, err)
	}
	return body.Errors
}

func TestMalformedRequests(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { testMalformed(t, b) })
	}
}

func testMalformed(t *testing.T, b testenv.Backend) {
	e := newEnv(t, b)
	before := e.snapshot()
	cases := []struct {
		name, method, path, ctype, body string
		header                          []string
		status                          int
		field                           string
	}{
		{"bad json", "PUT", "/v4/profile", "application/json", `{"email":`, nil, 400, ""},
		{"not an object", "PUT", "/v4/profile", "application/json", `[1,2]`, nil, 400, ""},
		{"trailing data", "PUT", "/v4/profile", "application/json", `{} {}`, nil, 400, ""},
		{"known field of the wrong type beside an unknown one", "PUT", "/v4/profile", "application/json", `{"shoe_size":44,"timezone":5}`, nil, 400, "timezone"},
		{"wrong type", "PUT", "/v4/profile", "application/json", `{"email":5}`, nil, 400, "email"},
		{"changed uid", "PUT", "/v4/profile", "application/json", `{"uid":999}`, nil, 400, "uid"},
		{"changed username", "PUT", "/v4/profile", "application/json", `{"username":"root"}`, nil, 400, "username"},
		{"changed authentication_type", "PUT", "/v4/profile", "application/json", `{"authentication_type":"github"}`, nil, 400, "authentication_type"},
		{"half valid", "PUT", "/v4/profile", "application/json", `{"email":"ok@example.com","timezone":"Nowhere/Land"}`, nil, 400, "timezone"},
		{"wrong content type", "PUT", "/v4/profile", "text/plain", `{}`, nil, 400, ""},
		{"no content type", "POST", "/v4/profile/sshkeys", "", `{}`, nil, 400, ""},
		{"empty body", "POST", "/v4/profile/tokens", "application/json", ``, nil, 400, ""},
		{"oversized body", "PUT", "/v4/profile/preferences", "application/json", `{"a":"` + strings.Repeat("x", 2<<20) + `"}`, nil, 413, ""},
		{"longview plan oversized", "PUT", "/v4/longview/plan", "application/json", `{"x":"` + strings.Repeat("x", 2<<20) + `"}`, nil, 413, ""},
		{"longview plan wrong type", "PUT", "/v4/longview/plan", "application/json", `{"longview_subscription":10}`, nil, 400, "longview_subscription"},
		{"longview plan not json", "PUT", "/v4/longview/plan", "text/plain", `longview-10`, nil, 400, ""},
		{"longview pro plan", "PUT", "/v4/longview/plan", "application/json", `{"longview_subscription":"longview-10"}`, nil, 400, "longview_subscription"},
		{"preferences not object", "PUT", "/v4/profile/preferences", "application/json", `"x"`, nil, 400, "preferences"},
		{"user without email", "POST", "/v4/account/users", "application/json", `{"username":"newbie"}`, nil, 400, "email"},
		{"user bad name", "POST", "/v4/account/users", "application/json", `{"username":"no way","email":"a@example.com"}`, nil, 400, "username"},
		{"user taken name", "POST", "/v4/account/users", "application/json", `{"username":"ADMIN","email":"a@example.com"}`, nil, 400, "username"},
		{"rename to bad", "PUT", "/v4/account/users/admin", "application/json", `{"username":"x"}`, nil, 400, "username"},
		{"user name with a double dash", "POST", "/v4/account/users", "application/json", `{"username":"new--bie","email":"a@example.com"}`, nil, 400, "username"},
		{"rename to a trailing underscore", "PUT", "/v4/account/users/admin", "application/json", `{"username":"admin_"}`, nil, 400, "username"},
		{"restrict last owner", "PUT", "/v4/account/users/admin", "application/json", `{"restricted":true}`, nil, 400, "restricted"},
		{"delete last owner", "DELETE", "/v4/account/users/admin", "", ``, nil, 400, "username"},
		{"missing user", "PUT", "/v4/account/users/nobody", "application/json", `{"email":"a@example.com"}`, nil, 404, ""},
		{"grants not json", "PUT", "/v4/account/users/admin/grants", "application/json", `{"global":`, nil, 400, ""},
		{"grants wrong type", "PUT", "/v4/account/users/admin/grants", "text/plain", `{}`, nil, 400, ""},
		{"account field type", "PUT", "/v4/account", "application/json", `{"company":5}`, nil, 400, "company"},
		{"account long zip", "PUT", "/v4/account", "application/json", `{"zip":"` + strings.Repeat("9", 300) + `"}`, nil, 400, "zip"},
		{"settings bad interfaces", "PUT", "/v4/account/settings", "application/json", `{"interfaces_for_new_linodes":"any"}`, nil, 400, "interfaces_for_new_linodes"},
		{"client no label", "POST", "/v4/account/oauth-clients", "application/json", `{"redirect_uri":"https://a.example/cb"}`, nil, 400, "label"},
		{"client bad uri", "POST", "/v4/account/oauth-clients", "application/json", `{"label":"a","redirect_uri":"javascript:alert(1)"}`, nil, 400, "redirect_uri"},
		{"client huge label", "POST", "/v4/account/oauth-clients", "application/json", `{"label":"` + strings.Repeat("x", 600) + `","redirect_uri":"https://a.example/cb"}`, nil, 400, "label"},
		{"missing client", "PUT", "/v4/account/oauth-clients/0123456789abcdef0123", "application/json", `{"label":"a"}`, nil, 404, ""},
		{"thumbnail as json", "PUT", "/v4/account/oauth-clients/0123456789abcdef0123/thumbnail", "application/json", `{}`, nil, 400, "file"},
		// Invalid UTF-8 (a surrogate half, as CESU-8 writes it): PostgreSQL
		// answered 500 and SQLite stored invalid JSON (issue 11, item 9).
		{"preferences invalid UTF-8", "PUT", "/v4/profile/preferences", "application/json", "{\"a\":\"\xed\xa0\x80\"}", nil, 400, "preferences"},
		{"profile invalid UTF-8", "PUT", "/v4/profile", "application/json", "{\"timezone\":\"\xff\"}", nil, 400, ""},
		{"sshkey label invalid UTF-8", "POST", "/v4/profile/sshkeys", "application/json", "{\"label\":\"\xc3\",\"ssh_key\":\"x\"}", nil, 400, ""},
		{"unknown route", "GET", "/v4/profile/nothing", "", ``, nil, 404, ""},
		{"unknown version", "GET", "/v5/profile", "", ``, nil, 404, ""},
		{"method not allowed", "PATCH", "/v4/profile", "application/json", `{}`, nil, 405, ""},
		{"bad id", "GET", "/v4/profile/sshkeys/abc", "", ``, nil, 404, ""},
		{"huge id", "GET", "/v4/profile/sshkeys/99999999999999999999999", "", ``, nil, 404, ""},
		{"bad page", "GET", "/v4/profile/sshkeys?page=0", "", ``, nil, 400, "page"},
		{"bad page size", "GET", "/v4/profile/sshkeys?page_size=10", "", ``, nil, 400, "page_size"},
		{"bad filter", "GET", "/v4/profile/tokens", "", ``, []string{"X-Filter", `{"label":`}, 400, "X-Filter"},
		{"filter on a field the resource lacks", "GET", "/v4/profile/sshkeys", "", ``, []string{"X-Filter", `{"user_agent":"x"}`}, 400, "X-Filter"},
		{"security questions wrong count", "POST", "/v4/profile/security-questions", "application/json", `{"security_questions":[{"question_id":1,"response":"abc"}]}`, nil, 400, "security_questions"},
		{"tfa confirm missing code", "POST", "/v4/profile/tfa-enable-confirm", "application/json", `{}`, nil, 400, "tfa_code"},
		{"phone missing iso", "POST", "/v4/profile/phone-number", "application/json", `{"phone_number":"+12015550123"}`, nil, 400, "iso_code"},
		{"token label too long", "POST", "/v4/profile/tokens", "application/json", `{"label":"` + strings.Repeat("x", 101) + `"}`, nil, 400, "label"},
		{"token expiry garbage", "POST", "/v4/profile/tokens", "application/json", `{"label":"x","expiry":"tomorrow"}`, nil, 400, "expiry"},
		{"token expiry past", "POST", "/v4/profile/tokens", "application/json", `{"label":"x","expiry":"2001-01-01T00:00:00"}`, nil, 400, "expiry"},
		{"sshkey missing key", "POST", "/v4/profile/sshkeys", "application/json", `{"label":"x"}`, nil, 400, "ssh_key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, h, body := e.do(c.method, c.path, c.ctype, []byte(c.body), c.header...)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, body)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
			errs := envelope(t, body)
			if c.field != "" && errs[0].Field != c.field {
				t.Fatalf("field %q, want %q: %s", errs[0].Field, c.field, body)
			}
		})
	}
	if after := e.snapshot(); after != before {
		t.Fatalf("refused requests changed state:\n%s\n%s", before, after)
	}
	t.Run("no token", func(t *testing.T) {
		resp, err := http.Get(e.srv.URL + "/v4/profile")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 401 || envelope(t, b)[0].Reason != "Invalid Token" {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
	})
	t.Run("a token with only preferences scopes", func(t *testing.T) {
		// It reads no profile and no grants (issue 11, item 16).
		_, raw, err := e.svc.IssueToken(context.Background(), "admin", "prefs", "user:preferences:read user:preferences:write", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/v4/profile", "/v4/profile/grants"} {
			req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+raw)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 401 || strings.Contains(string(b), `"username"`) {
				t.Fatalf("GET %s with a preferences-only token: %d %s", path, resp.StatusCode, b)
			}
		}
	})
	t.Run("scope headers", func(t *testing.T) {
		_, h, _ := e.do("GET", "/v4/profile/sshkeys", "", nil)
		if h.Get("X-OAuth-Scopes") != "*" || h.Get("X-Accepted-OAuth-Scopes") != "account:read_only" {
			t.Fatalf("headers: %v", h)
		}
	})
}

// snapshot renders everything a user can see, to prove refused requests changed nothing.
func (e *env) snapshot() string {
	ctx := context.Background()
	var b strings.Builder
	p, _ := e.client.GetProfile(ctx)
	keys, _ := e.client.ListSSHKeys(ctx, nil)
	toks, _ := e.client.ListTokens(ctx, nil)
	prefs, _ := e.client.GetProfilePreferences(ctx)
	qs, _ := e.client.SecurityQuestionsList(ctx)
	acc, _ := e.client.GetAccount(ctx)
	settings, _ := e.client.GetAccountSettings(ctx)
	users, _ := e.client.ListUsers(ctx, nil)
	clients, _ := e.client.ListOAuthClients(ctx, nil)
	for _, v := range []any{p, keys, toks, prefs, qs, acc, settings, users, clients} {
		j, _ := json.Marshal(v)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// FuzzRequestBodies sends arbitrary bodies to every write operation: the
// answer is never a 500 and always the Linode envelope on errors.
func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{`{}`, `{"email":"a@b.co"}`, `{"label":"x","ssh_key":"ssh-ed25519 AAAA"}`, `{"security_questions":[{"question_id":1,"response":"abc"}]}`,
		`{"tfa_code":"123456"}`, `{"iso_code":"US","phone_number":"2015550123"}`, `{"label":"t","scopes":"account:read_only","expiry":"2999-01-01T00:00:00"}`, `null`, `[]`, `{"authorized_keys":null}`,
		`{"username":"newbie","email":"n@example.com","restricted":true}`, `{"global":{"add_linodes":true},"linode":[{"id":1,"permissions":"read_only"}]}`,
		`{"label":"app","redirect_uri":"https://a.example/cb","public":false}`, `{"company":"x"}`, `{"network_helper":true}`} {
		for i := range 8 {
			f.Add(uint8(i), []byte(s))
		}
	}
	e := newEnv(f, testenv.Backend{Name: "sqlite", Open: testenv.OpenSQLite})
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		e.t = t
		ops := [][2]string{{"PUT", "/v4/profile"}, {"POST", "/v4/profile/sshkeys"}, {"POST", "/v4/profile/tokens"},
			{"PUT", "/v4/profile/preferences"}, {"POST", "/v4/profile/security-questions"}, {"POST", "/v4/profile/tfa-enable-confirm"},
			{"POST", "/v4/profile/phone-number"}, {"PUT", "/v4/profile/tokens/1"}, {"POST", "/v4/account/users"},
			{"PUT", "/v4/account/users/admin"}, {"PUT", "/v4/account/users/admin/grants"}, {"PUT", "/v4/account"},
			{"PUT", "/v4/account/settings"}, {"POST", "/v4/account/oauth-clients"}}
		op := ops[int(which)%len(ops)]
		status, h, resp := e.do(op[0], op[1], "application/json", body)
		if status >= 500 {
			t.Fatalf("%s %s %q -> %d %s", op[0], op[1], body, status, resp)
		}
		if h.Get("Content-Type") != "application/json" {
			t.Fatalf("Content-Type %q", h.Get("Content-Type"))
		}
		if status >= 400 {
			envelope(t, resp)
		}
	})
}
