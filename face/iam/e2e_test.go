package iam_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// TestEndToEnd runs every operation of the face against a real server on
// each backend, then checks every response of the run against the OpenAPI
// description.
func TestEndToEnd(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			t.Run("auth", e.testAuth)
			t.Run("me", e.testMe)
			t.Run("patch", e.testPatch)
			t.Run("config", e.testConfig)
			t.Run("notifications", e.testNotifications)
			t.Run("password", e.testPassword)
			t.Run("avatar", e.testAvatar)
			t.Run("avatar refusals", e.testAvatarRefusals)
			t.Run("service account", e.testServiceAccount)
			t.Run("oidc", e.testOIDC)
			t.Run("delete", e.testDelete)
			t.Run("routing", e.testRouting)
			t.Run("openapi.json", e.testServeOpenAPI)
			validateAgainstSpec(t, e.srv.URL, e.rec.Take())
		})
	}
}

func (e *env) testAuth(t *testing.T) {
	for name, o := range map[string]req{
		"bearer":       {},
		"X-API-Key":    {apiKey: true},
		"lower-case":   {header: map[string]string{"Authorization": "bearer " + e.token}, token: "-"},
		"key wins":     {apiKey: true, header: map[string]string{"Authorization": "Bearer wrong"}},
		"key, spaces ": {token: "-", header: map[string]string{"X-API-Key": "  " + e.token + " "}},
	} {
		if r := e.do("GET", "/iam/v1/users/me/", o); r.status != 200 || r.json(t)["username"] != "admin" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	r := e.do("GET", "/iam/v1/users/me/", req{token: "-"})
	wantDetail(t, "no credentials", r, 401, "Not authenticated")
	if r.header.Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
	}
	for name, o := range map[string]req{
		"unknown bearer":  {token: strings.Repeat("0", 64)},
		"unknown key":     {token: strings.Repeat("0", 64), apiKey: true},
		"basic":           {token: "-", header: map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="}},
		"a JWT as a key":  {token: "a.b.c", apiKey: true},
		"a forged JWT":    {token: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
		"an oversize key": {token: strings.Repeat("a", 600), apiKey: true},
	} {
		wantDetail(t, name, e.do("GET", "/iam/v1/users/me/", o), 401, "")
	}

	// Scopes: reads need account:read_only, writes account:read_write.
	_, other := e.user("scoped", "linodes:read_write")
	r = e.do("GET", "/iam/v1/users/me/", req{token: other})
	wantDetail(t, "a token without account scope", r, 403, "account:read_only")
	if !strings.Contains(r.header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
	}
	ro := e.tokenFor("scoped", "account:read_only")
	if r := e.do("GET", "/iam/v1/users/me/config/", req{token: ro}); r.status != 200 {
		t.Errorf("read with account:read_only: %d %s", r.status, r.body)
	}
	for _, w := range []struct{ method, path string }{
		{"PATCH", "/iam/v1/users/me/"}, {"PUT", "/iam/v1/users/me/config/"},
		{"PUT", "/iam/v1/users/me/notification-preferences/"}, {"DELETE", "/iam/v1/users/me/avatar/"},
		{"POST", "/iam/v1/users/me/sync-from-auth/"}, {"DELETE", "/iam/v1/users/me/"},
	} {
		o := jsonReq(ro, `{}`)
		r := e.do(w.method, w.path, o)
		wantDetail(t, w.method+" "+w.path+" with account:read_only", r, 403, "account:read_write")
	}
	// The user survived the refused DELETE.
	if r := e.do("GET", "/iam/v1/users/me/", req{token: ro}); r.status != 200 {
		t.Errorf("after a refused delete: %d", r.status)
	}
}

func (e *env) testMe(t *testing.T) {
	r := e.do("GET", "/iam/v1/users/me/", req{})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var u map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&u); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"kind": "human", "username": "admin", "email": "admin@example.com", "email_verified": false,
		"first_name": "", "last_name": "", "timezone": "UTC", "locale": "en-US", "avatar_url": nil,
		"authentication_type": "password", "two_factor_auth": false, "restricted": false}
	for k, v := range want {
		if u[k] != v {
			t.Errorf("%s = %#v, want %#v", k, u[k], v)
		}
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("headers: %v", r.header)
	}
}

func (e *env) testPatch(t *testing.T) {
	r := e.do("PATCH", "/iam/v1/users/me/", jsonReq("", map[string]any{"first_name": "Ada", "locale": "fr_ca"}))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	u := r.json(t)
	if u["first_name"] != "Ada" || u["locale"] != "fr-CA" || u["email"] != "admin@example.com" || u["last_name"] != "" {
		t.Errorf("after PATCH: %s", r.body)
	}
	r = e.do("PATCH", "/iam/v1/users/me/", jsonReq("", map[string]any{"email": "ada@example.org", "timezone": "Europe/Berlin", "last_name": "Lovelace"}))
	if u := r.json(t); r.status != 200 || u["first_name"] != "Ada" || u["email"] != "ada@example.org" || u["timezone"] != "Europe/Berlin" {
		t.Errorf("second PATCH: %s", r.body)
	}
	// The Linode face sees the same user.
	lr := e.do("GET", "/v4/profile", req{})
	if p := lr.json(t); p["email"] != "ada@example.org" || p["timezone"] != "Europe/Berlin" {
		t.Errorf("Linode profile after PATCH: %s", lr.body)
	}
	// The same rules as the Linode face, named FastAPI's way.
	for field, v := range map[string]any{"email": "not-an-email", "timezone": "Mars/Olympus", "locale": "und", "first_name": strings.Repeat("x", 101)} {
		r := e.do("PATCH", "/iam/v1/users/me/", jsonReq("", map[string]any{field: v}))
		wantProblem(t, "PATCH "+field, r, "value_error", "body", field)
	}
	wantProblem(t, "null", e.do("PATCH", "/iam/v1/users/me/", jsonReq("", `{"email": null}`)), "string_type", "body", "email")
	wantProblem(t, "a number", e.do("PATCH", "/iam/v1/users/me/", jsonReq("", `{"first_name": 7}`)), "string_type", "body", "first_name")
	r = e.do("PATCH", "/iam/v1/users/me/", jsonReq("", `{"username": "root", "first_name": 1}`))
	wantProblem(t, "a read-only field", r, "extra_forbidden", "body", "username")
	wantProblem(t, "and the other problem too", r, "string_type", "body", "first_name")
	after := e.do("GET", "/iam/v1/users/me/", req{}).json(t)
	if after["email"] != "ada@example.org" || after["username"] != "admin" {
		t.Errorf("a refused PATCH changed the user: %v", after)
	}
	// An empty object changes nothing.
	if r := e.do("PATCH", "/iam/v1/users/me/", jsonReq("", `{}`)); r.status != 200 || r.json(t)["first_name"] != "Ada" {
		t.Errorf("empty PATCH: %d %s", r.status, r.body)
	}
}

func (e *env) testConfig(t *testing.T) {
	r := e.do("GET", "/iam/v1/users/me/config/", req{})
	want := map[string]any{"locale": "fr-CA", "theme": "system", "date_format": "YYYY-MM-DD", "time_format": "24h", "week_start": "monday", "landing_page": "dashboard"}
	if c := r.json(t); r.status != 200 || !equalJSON(c, want) {
		t.Errorf("GET config: %s", r.body)
	}
	in := map[string]any{"locale": "de-DE", "theme": "dark", "date_format": "DD.MM.YYYY", "time_format": "12h", "week_start": "sunday", "landing_page": "api-tokens"}
	r = e.do("PUT", "/iam/v1/users/me/config/", jsonReq("", in))
	if c := r.json(t); r.status != 200 || !equalJSON(c, in) {
		t.Errorf("PUT config: %d %s", r.status, r.body)
	}
	// PUT replaces: what is left out takes its default.
	r = e.do("PUT", "/iam/v1/users/me/config/", jsonReq("", map[string]any{"theme": "light"}))
	want = map[string]any{"locale": "en-US", "theme": "light", "date_format": "YYYY-MM-DD", "time_format": "24h", "week_start": "monday", "landing_page": "dashboard"}
	if c := r.json(t); r.status != 200 || !equalJSON(c, want) {
		t.Errorf("partial PUT config: %s", r.body)
	}
	if u := e.do("GET", "/iam/v1/users/me/", req{}).json(t); u["locale"] != "en-US" {
		t.Errorf("the user's locale after PUT config: %v", u["locale"])
	}
	for field, v := range map[string]any{"theme": "blue", "date_format": "", "landing_page": "../admin", "locale": "xx"} {
		wantProblem(t, "PUT config "+field, e.do("PUT", "/iam/v1/users/me/config/", jsonReq("", map[string]any{field: v})), "value_error", "body", field)
	}
	wantProblem(t, "PUT config extra", e.do("PUT", "/iam/v1/users/me/config/", jsonReq("", `{"colour": "red"}`)), "extra_forbidden", "body", "colour")
	if c := e.do("GET", "/iam/v1/users/me/config/", req{}).json(t); c["theme"] != "light" {
		t.Errorf("a refused PUT changed the config: %v", c)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func (e *env) testNotifications(t *testing.T) {
	const path = "/iam/v1/users/me/notification-preferences/"
	r := e.do("GET", path, req{})
	want := `{"security":{"email":true,"sms":false},"account":{"email":true,"sms":false},"product":{"email":false,"sms":false}}`
	if r.status != 200 || strings.TrimSpace(string(r.body)) != want {
		t.Errorf("GET notifications: %d %s", r.status, r.body)
	}
	// account.email is the Linode face's email_notifications, both ways.
	lr := e.do("PUT", "/v4/profile", jsonReq("", `{"email_notifications": false}`))
	if lr.status != 200 {
		t.Fatalf("Linode PUT: %d %s", lr.status, lr.body)
	}
	if n := e.do("GET", path, req{}).json(t); n["account"].(map[string]any)["email"] != false {
		t.Errorf("account.email after the Linode face turned email_notifications off: %v", n)
	}
	r = e.do("PUT", path, jsonReq("", `{"account": {"email": true}, "product": {"email": true}}`))
	want = `{"security":{"email":true,"sms":false},"account":{"email":true,"sms":false},"product":{"email":true,"sms":false}}`
	if r.status != 200 || strings.TrimSpace(string(r.body)) != want {
		t.Errorf("PUT notifications: %d %s", r.status, r.body)
	}
	if p := e.do("GET", "/v4/profile", req{}).json(t); p["email_notifications"] != true {
		t.Errorf("email_notifications after account.email on: %v", p["email_notifications"])
	}
	wantProblem(t, "security email off", e.do("PUT", path, jsonReq("", `{"security": {"email": false}}`)), "value_error", "body", "security", "email")
	wantProblem(t, "sms without a phone", e.do("PUT", path, jsonReq("", `{"account": {"sms": true}}`)), "value_error", "body", "account", "sms")
	wantProblem(t, "a string for a boolean", e.do("PUT", path, jsonReq("", `{"product": {"email": "yes"}}`)), "bool_type", "body", "product", "email")
	wantProblem(t, "an unknown channel", e.do("PUT", path, jsonReq("", `{"product": {"pigeon": true}}`)), "extra_forbidden", "body", "product", "pigeon")
	wantProblem(t, "a category that is not an object", e.do("PUT", path, jsonReq("", `{"account": true}`)), "model_attributes_type", "body", "account")
	if n := e.do("GET", path, req{}).json(t); n["product"].(map[string]any)["email"] != true {
		t.Errorf("a refused PUT changed the preferences: %v", n)
	}

	// With a verified phone, text messages can be turned on; removing the
	// number turns them off again (issue 11, item 11).
	if r := e.do("POST", "/v4/profile/phone-number", jsonReq("", `{"iso_code":"US","phone_number":"2015550123"}`)); r.status != 200 {
		t.Fatalf("send a code: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v4/profile/phone-number/verify", jsonReq("", `{"otp_code":"`+e.sms.LastCode()+`"}`)); r.status != 200 {
		t.Fatalf("verify: %d %s", r.status, r.body)
	}
	r = e.do("PUT", path, jsonReq("", `{"security": {"sms": true}, "account": {"sms": true}, "product": {"sms": true}}`))
	if r.status != 200 || strings.Count(string(r.body), `"sms":true`) != 3 {
		t.Fatalf("SMS on with a verified phone: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/v4/profile/phone-number", req{}); r.status != 200 {
		t.Fatalf("delete the phone: %d %s", r.status, r.body)
	}
	if r := e.do("GET", path, req{}); strings.Contains(string(r.body), `"sms":true`) {
		t.Errorf("SMS still on after the phone number was removed: %s", r.body)
	}
}

func (e *env) testPassword(t *testing.T) {
	const path = "/iam/v1/users/me/password/"
	ctx := context.Background()
	admin, err := e.store.UserByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	const oldPW, newPW = "old secret of the admin", "Another long passphrase 42"
	if err := e.svc.SetPassword(ctx, admin.ID, oldPW); err != nil {
		t.Fatal(err)
	}
	// A sign-in session of the same user, which the change must end.
	session := strings.Repeat("5e", 32)
	// And a trusted device, which must stop skipping the second factor.
	now := time.Now().UTC().Truncate(time.Second)
	err = e.store.Update(ctx, func(tx core.Tx) error {
		d := core.Device{UserID: admin.ID, Created: now, Expiry: now.Add(time.Hour), LastAuthenticated: now}
		if err := tx.CreateTrustedDevice(ctx, &d, core.HashToken("device secret")); err != nil {
			return err
		}
		return tx.CreateToken(ctx, &core.Token{UserID: admin.ID, Kind: core.TokenSession, Label: "session", Scopes: core.AllScopes,
			Created: now, Prefix: session[:16], Hash: core.HashToken(session)})
	})
	if err != nil {
		t.Fatal(err)
	}
	change := func(current, next string) response {
		return e.do("POST", path, jsonReq("", map[string]string{"current_password": current, "new_password": next}))
	}
	wantDetail(t, "wrong current password", change("not it at all", newPW), http.StatusBadRequest, "current_password")
	wantDetail(t, "new password breaks the policy", change(oldPW, "short"), http.StatusBadRequest, "new_password")
	wantDetail(t, "new password is common", change(oldPW, "password1234"), http.StatusBadRequest, "new_password")
	if r := change(oldPW, newPW); r.status != http.StatusAccepted {
		t.Fatalf("change password: %d %s", r.status, r.body)
	}
	if ok, _ := e.svc.VerifyPassword(ctx, admin.ID, newPW); !ok {
		t.Fatal("the new password does not verify")
	}
	if r := e.do("GET", "/iam/v1/users/me/", req{token: session}); r.status != http.StatusUnauthorized {
		t.Fatalf("the other session survived the change: %d", r.status)
	}
	if devices, _, err := e.store.ListDevices(ctx, admin.ID, core.ListQuery{Page: 1}); err != nil || len(devices) != 0 {
		t.Fatalf("trusted devices after the change: %d, %v (issue 11, item 12)", len(devices), err)
	}
	if r := e.do("GET", "/iam/v1/users/me/", req{}); r.status != http.StatusOK {
		t.Fatalf("the acting token was revoked: %d", r.status)
	}
	// Guesses of the current password draw from a limited budget.
	for i := 0; i < 5; i++ {
		wantDetail(t, "guess", change("guess number "+strconv.Itoa(i), "Yet another passphrase 7"), http.StatusBadRequest, "current_password")
	}
	if r := change(newPW, "Yet another passphrase 7"); r.status != http.StatusTooManyRequests {
		t.Fatalf("sixth attempt: %d %s", r.status, r.body)
	}
	wantProblem(t, "missing new_password", e.do("POST", path, jsonReq("", `{"current_password": "x"}`)), "missing", "body", "new_password")
	wantProblem(t, "empty current_password", e.do("POST", path, jsonReq("", `{"current_password": "", "new_password": "x"}`)), "string_too_short", "body", "current_password")
	wantProblem(t, "long new_password", e.do("POST", path, jsonReq("", map[string]string{"current_password": "x", "new_password": strings.Repeat("p", 1025)})), "string_too_long", "body", "new_password")
	wantProblem(t, "extra field", e.do("POST", path, jsonReq("", `{"current_password": "x", "new_password": "y", "confirm": "y"}`)), "extra_forbidden", "body", "confirm")
	wantDetail(t, "form body", e.do("POST", path, req{contentType: "application/x-www-form-urlencoded", body: []byte("current_password=x")}), 415, "application/json")
}

func (e *env) testServeOpenAPI(t *testing.T) {
	r := e.do("GET", "/iam/v1/openapi.json", req{token: "-"})
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" || !json.Valid(r.body) {
		t.Fatalf("openapi.json: %d %s", r.status, r.header)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	_ = json.Unmarshal(r.body, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
}

func (e *env) testRouting(t *testing.T) {
	for _, p := range []string{"/iam/v1/users/me", "/iam/v1/users/me/config", "/iam/v1/users/me/x/", "/iam/v1/", "/iam/v1/users/", "/iam/v1/avatars/"} {
		wantDetail(t, "GET "+p, e.do("GET", p, req{skipSpec: true}), 404, "Not Found")
	}
	put := jsonReq("", `{}`)
	put.skipSpec = true
	r := e.do("PUT", "/iam/v1/users/me/", put)
	r2 := e.do("POST", "/iam/v1/users/me/config/", req{skipSpec: true})
	for name, r := range map[string]response{"PUT me": r, "POST config": r2} {
		wantDetail(t, name, r, 405, "Method Not Allowed")
		if r.header.Get("Allow") == "" {
			t.Errorf("%s: no Allow header", name)
		}
	}
	if allow := r.header.Get("Allow"); allow != "DELETE, GET, HEAD, PATCH, OPTIONS" {
		t.Errorf("Allow = %q", allow)
	}
	// A browser's preflight.
	pre := e.do("OPTIONS", "/iam/v1/users/me/", req{token: "-", skipSpec: true, header: map[string]string{
		"Origin": "https://console.example.com", "Access-Control-Request-Method": "PATCH"}})
	if pre.status != 204 || pre.header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "X-API-Key") {
		t.Errorf("preflight: %d %v", pre.status, pre.header)
	}
	// JSON bodies have limits and a type.
	big := `{"first_name": "` + strings.Repeat("a", 1<<20) + `"}`
	wantDetail(t, "a body over 1 MiB", e.do("PATCH", "/iam/v1/users/me/", jsonReq("", big)), 413, "at most")
	wantDetail(t, "no Content-Type", e.do("PATCH", "/iam/v1/users/me/", req{body: []byte(`{}`)}), 415, "application/json")
	wantProblem(t, "invalid JSON", e.do("PATCH", "/iam/v1/users/me/", jsonReq("", `{"first_name": `)), "json_invalid", "body")
	wantProblem(t, "an array", e.do("PATCH", "/iam/v1/users/me/", jsonReq("", `[1]`)), "model_attributes_type", "body")
	wantProblem(t, "no body", e.do("PATCH", "/iam/v1/users/me/", jsonReq("", ``)), "missing", "body")
	wantProblem(t, "two objects", e.do("PATCH", "/iam/v1/users/me/", jsonReq("", `{} {}`)), "json_invalid", "body")
	wantProblem(t, "invalid UTF-8", e.do("PATCH", "/iam/v1/users/me/", jsonReq("", "{\"first_name\": \"\xed\xa0\x80\"}")), "json_invalid", "body")
	// The Linode face is untouched by the mount.
	if r := e.do("GET", "/v4/profile", req{}); r.status != 200 {
		t.Errorf("Linode profile: %d", r.status)
	}
}

// testServiceAccount checks a machine identity: it reads itself, and every
// operation for people answers 404.
func (e *env) testServiceAccount(t *testing.T) {
	ctx := context.Background()
	admin, err := e.store.UserByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	sa, key, err := e.svc.CreateServiceAccount(ctx, core.ServiceAccountCreate{Name: "CI", Description: "builds", Owner: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []req{{token: key}, {token: key, apiKey: true}} {
		r := e.do("GET", "/iam/v1/users/me/", o)
		var got map[string]any
		dec := json.NewDecoder(bytes.NewReader(r.body))
		dec.UseNumber()
		_ = dec.Decode(&got)
		if r.status != 200 || got["kind"] != "service" || got["name"] != "CI" || got["description"] != "builds" ||
			got["owner"] != json.Number(itoa(admin.ID)) || got["id"] != json.Number(itoa(sa.User.ID)) || got["email"] != nil {
			t.Errorf("service account: %d %s", r.status, r.body)
		}
	}
	for _, op := range []struct {
		method, path string
		o            req
	}{
		{"PATCH", "/iam/v1/users/me/", jsonReq(key, `{"first_name": "x"}`)},
		{"DELETE", "/iam/v1/users/me/", req{token: key}},
		{"POST", "/iam/v1/users/me/password/", jsonReq(key, `{"current_password": "x", "new_password": "y"}`)},
		{"POST", "/iam/v1/users/me/avatar/", upload(key, "file", []byte("\x89PNG\r\n\x1a\n"))},
		{"DELETE", "/iam/v1/users/me/avatar/", req{token: key}},
		{"GET", "/iam/v1/users/me/config/", req{token: key}},
		{"PUT", "/iam/v1/users/me/config/", jsonReq(key, `{}`)},
		{"GET", "/iam/v1/users/me/notification-preferences/", req{token: key}},
		{"PUT", "/iam/v1/users/me/notification-preferences/", jsonReq(key, `{}`)},
		{"POST", "/iam/v1/users/me/sync-from-auth/", req{token: key}},
	} {
		wantDetail(t, "service account "+op.method+" "+op.path, e.do(op.method, op.path, op.o), 404, "Not found")
	}
	// It still exists, and works on the Linode face, as a user.
	if r := e.do("GET", "/iam/v1/users/me/", req{token: key}); r.status != 200 {
		t.Errorf("after the refusals: %d", r.status)
	}
	if r := e.do("GET", "/v4/profile", req{token: key}); r.status != 200 || r.json(t)["username"] != sa.User.Username {
		t.Errorf("Linode profile of a service account: %d %s", r.status, r.body)
	}
}

func itoa(n int64) string { return strings.TrimSpace(string(must(json.Marshal(n)))) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// testDelete deletes a user through the face: 410, and every token of the
// user fails at once, on both faces.
func (e *env) testDelete(t *testing.T) {
	_, tok := e.user("leaving", core.AllScopes)
	second := e.tokenFor("leaving", "account:read_only")
	if r := e.do("POST", "/iam/v1/users/me/avatar/", upload(tok, "file", pngFile(40, 40))); r.status != 201 {
		t.Fatalf("avatar: %d %s", r.status, r.body)
	}
	avatar := e.do("GET", "/iam/v1/users/me/", req{token: tok}).json(t)["avatar_url"].(string)
	if r := e.do("PUT", "/v4/profile/preferences", jsonReq(tok, `{"x": 1}`)); r.status != 200 {
		t.Fatalf("preferences: %d", r.status)
	}

	r := e.do("DELETE", "/iam/v1/users/me/", req{token: tok})
	if r.status != http.StatusGone || len(r.body) != 0 {
		t.Fatalf("DELETE: %d %q", r.status, r.body)
	}
	for _, k := range []string{tok, second} {
		wantDetail(t, "IAM with a deleted user's token", e.do("GET", "/iam/v1/users/me/", req{token: k}), 401, "")
		if r := e.do("GET", "/v4/profile", req{token: k}); r.status != 401 {
			t.Errorf("Linode with a deleted user's token: %d", r.status)
		}
	}
	wantDetail(t, "a deleted user's avatar", e.do("GET", avatar, req{token: "-"}), 404, "")
	wantDetail(t, "DELETE again", e.do("DELETE", "/iam/v1/users/me/", req{token: tok}), 401, "")
	if _, err := e.store.UserByUsername(context.Background(), "leaving"); err == nil {
		t.Error("the user is still in the store")
	}
}
