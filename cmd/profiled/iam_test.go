package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/profiled/profiled/internal/oidctest"
)

// iamCall makes one request to the IAM face with the token in X-API-Key
// (or, for a JWT, as a bearer token) and decodes the JSON answer.
func iamCall(t *testing.T, method, url, token, contentType string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(token, ".") == 2 {
		req.Header.Set("Authorization", "Bearer "+token)
	} else if token != "" {
		req.Header.Set("X-API-Key", token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	_ = json.Unmarshal(b, &v)
	return resp.StatusCode, v
}

// TestIAMFace runs serve with an OpenID Connect provider and a public URL,
// makes a service account with the command line, and uses the IAM face
// with its key, with the bootstrap token and with the provider's token.
func TestIAMFace(t *testing.T) {
	idp := oidctest.Start(t)
	_, db := tempDB(t)
	env := map[string]string{"PROFILED_DB": db, "PROFILED_OIDC_ISSUER": idp.URL, "PROFILED_OIDC_AUDIENCE": "profiled",
		"PROFILED_PUBLIC_URL": "https://id.example.com/"}
	s := startServe(t, env, "--oidc-name", "corp", "--oidc-claims", "username=nickname")
	if s.token == "" {
		t.Fatal("no bootstrap token")
	}
	base := s.base + "/iam/v1"

	status, me := iamCall(t, "GET", base+"/users/me/", s.token, "", nil)
	if status != 200 || me["username"] != "admin" || me["kind"] != "human" {
		t.Fatalf("GET /iam/v1/users/me/ as admin: %d %v", status, me)
	}

	// A service account, made while the server runs.
	key := strings.TrimSpace(mustRun(t, env, "service-accounts", "create", "--name", "CI deploy", "--description", "ships builds",
		"--owner", "admin", "--scopes", "account:read_only"))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(key) {
		t.Fatalf("service-accounts create printed %q, want the key alone", key)
	}
	status, sa := iamCall(t, "GET", base+"/users/me/", key, "", nil)
	if status != 200 || sa["kind"] != "service" || sa["name"] != "CI deploy" || sa["description"] != "ships builds" || sa["owner"] != me["id"] {
		t.Errorf("the service account: %d %v", status, sa)
	}
	if status, _ := iamCall(t, "PUT", base+"/users/me/config/", key, "application/json", []byte(`{}`)); status != http.StatusForbidden {
		t.Errorf("a write with the read-only key: %d", status)
	}
	if got := profileUsername(t, s.base, key); !strings.HasPrefix(got, "sa-") {
		t.Errorf("the service account on the Linode face: %q", got)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--description", "x"}, "--name is required"},
		{[]string{"--name", "x", "--owner", "nobody"}, "--owner"},
		{[]string{"--name", "x", "--scopes", "root"}, "--scopes"},
		{[]string{"--name", strings.Repeat("n", 65)}, "--name"},
	} {
		_, _, err := runCmd(t, env, append([]string{"service-accounts", "create"}, bad.args...)...)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("service-accounts create %v: %v, want an error naming %s", bad.args, err, bad.want)
		}
	}

	// The provider's access token signs its user in, made on first use.
	idp.SetUser("ext", map[string]any{"nickname": "ext-user", "email": "ext@corp.example", "email_verified": true})
	jwt := idp.Issue(t, oidctest.Token{Subject: "ext", Audience: "profiled"})
	status, ext := iamCall(t, "GET", base+"/users/me/", jwt, "", nil)
	if status != 200 || ext["username"] != "ext-user" || ext["authentication_type"] != "corp" || ext["email"] != "ext@corp.example" {
		t.Errorf("the provider's user: %d %v", status, ext)
	}
	if status, _ := iamCall(t, "GET", base+"/users/me/", idp.Issue(t, oidctest.Token{Subject: "ext", Audience: "other"}), "", nil); status != 401 {
		t.Errorf("a token for another audience: %d", status)
	}

	// avatar_url is absolute under --public-url.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "me.png")
	_ = png.Encode(fw, image.NewGray(image.Rect(0, 0, 32, 32)))
	_ = mw.Close()
	status, up := iamCall(t, "POST", base+"/users/me/avatar/", s.token, mw.FormDataContentType(), body.Bytes())
	url, _ := up["avatar_url"].(string)
	if status != 201 || !strings.HasPrefix(url, "https://id.example.com/iam/v1/avatars/") {
		t.Fatalf("avatar upload: %d %v", status, up)
	}
	resp, err := http.Get(s.base + strings.TrimPrefix(url, "https://id.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("GET the avatar: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// The request log names the IAM routes.
	if !s.stderr.has(`"route":"GET /iam/v1/users/me/{$}"`) {
		t.Errorf("the log has no IAM route:\n%s", s.stderr)
	}
	if strings.Contains(s.stderr.String(), jwt) || strings.Contains(s.stderr.String(), key) {
		t.Error("a credential reached the log")
	}
}

func TestIAMFlags(t *testing.T) {
	_, db := tempDB(t)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"issuer without audience", []string{"--oidc-issuer", "https://idp.example.com"}, "--oidc-audience"},
		{"audience without issuer", []string{"--oidc-audience", "x"}, "--oidc-issuer"},
		{"bad claims", []string{"--oidc-issuer", "https://idp.example.com", "--oidc-audience", "x", "--oidc-claims", "nick=name"}, "--oidc-claims"},
		{"bad scopes", []string{"--oidc-issuer", "https://idp.example.com", "--oidc-audience", "x", "--oidc-scopes", "all"}, "--oidc-scopes"},
		{"bad name", []string{"--oidc-issuer", "https://idp.example.com", "--oidc-audience", "x", "--oidc-name", "Corp SSO"}, "name"},
		{"bad issuer", []string{"--oidc-issuer", "idp.example.com", "--oidc-audience", "x"}, "issuer"},
		{"bad public url", []string{"--public-url", "id.example.com/path"}, "--public-url"},
	} {
		_, _, err := runCmd(t, nil, append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, c.args...)...)
		var ue *usageError
		if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a usage error naming %s", c.name, err, c.want)
		}
	}
	help := mustRun(t, nil, "help", "serve")
	for _, want := range []string{"--oidc-issuer", "PROFILED_OIDC_ISSUER", "--oidc-audience", "PROFILED_OIDC_AUDIENCE", "--oidc-name",
		"PROFILED_OIDC_NAME", "--oidc-claims", "PROFILED_OIDC_CLAIMS", "--oidc-scopes", "PROFILED_OIDC_SCOPES", "--public-url", "PROFILED_PUBLIC_URL"} {
		if !strings.Contains(help, want) {
			t.Errorf("help serve lacks %q", want)
		}
	}
	if out := mustRun(t, nil, "help"); !strings.Contains(out, "  service-accounts create ") {
		t.Errorf("help does not list service-accounts create:\n%s", out)
	}
}
