package iam_test

import (
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/internal/oidctest"
)

// testOIDC signs in with the external provider's access tokens: the user
// is made on first use, sync-from-auth refreshes it, the provider's key
// rotation is followed, and bad tokens are 401s.
func (e *env) testOIDC(t *testing.T) {
	e.idp.SetUser("ext-1", map[string]any{"preferred_username": "grace", "email": "grace@corp.example",
		"email_verified": true, "given_name": "Grace", "family_name": "Hopper", "picture": "https://corp.example/grace.png"})
	tok := e.idp.Issue(t, oidctest.Token{Subject: "ext-1", Audience: audience, Scope: "openid profile"})

	r := e.do("GET", "/iam/v1/users/me/", req{token: tok})
	u := r.json(t)
	if r.status != 200 || u["kind"] != "human" || u["username"] != "grace" || u["email"] != "grace@corp.example" ||
		u["email_verified"] != true || u["first_name"] != "Grace" || u["last_name"] != "Hopper" ||
		u["authentication_type"] != "corp" || u["avatar_url"] != "https://corp.example/grace.png" {
		t.Fatalf("first use: %d %s", r.status, r.body)
	}
	id := u["id"]
	// A token without profiled scopes gets the configured default,
	// account:read_write: it can write.
	if r := e.do("PUT", "/iam/v1/users/me/config/", jsonReq(tok, `{"theme": "dark"}`)); r.status != 200 {
		t.Errorf("write with the provider's token: %d %s", r.status, r.body)
	}
	// One with account:read_only in its scope claim can only read.
	ro := e.idp.Issue(t, oidctest.Token{Subject: "ext-1", Audience: audience, Scope: "openid account:read_only"})
	if r := e.do("GET", "/iam/v1/users/me/config/", req{token: ro}); r.status != 200 || r.json(t)["theme"] != "dark" {
		t.Errorf("read with a read-only provider token: %d %s", r.status, r.body)
	}
	wantDetail(t, "write with a read-only provider token", e.do("PUT", "/iam/v1/users/me/config/", jsonReq(ro, `{}`)), 403, "account:read_write")

	// sync-from-auth refreshes what the provider says now.
	e.idp.SetUser("ext-1", map[string]any{"email": "grace.hopper@corp.example", "email_verified": false,
		"given_name": "Grace B.", "family_name": "Hopper"})
	r = e.do("POST", "/iam/v1/users/me/sync-from-auth/", req{token: tok})
	if r.status != 202 || r.json(t)["message"] == nil {
		t.Fatalf("sync: %d %s", r.status, r.body)
	}
	u = e.do("GET", "/iam/v1/users/me/", req{token: tok}).json(t)
	if u["email"] != "grace.hopper@corp.example" || u["email_verified"] != false || u["first_name"] != "Grace B." ||
		u["avatar_url"] != nil || u["username"] != "grace" || u["id"] != id {
		t.Errorf("after sync: %v", u)
	}
	// Sync needs the provider's token, not a profiled token.
	wantDetail(t, "sync with a profiled token", e.do("POST", "/iam/v1/users/me/sync-from-auth/", req{}), 409, "identity provider")
	wantDetail(t, "a JWT in X-API-Key", e.do("GET", "/iam/v1/users/me/", req{token: tok, apiKey: true}), 401, "")

	// The provider rotates its signing key: new tokens work at once.
	e.idp.Rotate(t)
	rotated := e.idp.Issue(t, oidctest.Token{Subject: "ext-1", Audience: audience})
	if r := e.do("GET", "/iam/v1/users/me/", req{token: rotated}); r.status != 200 || r.json(t)["id"] != id {
		t.Errorf("a token signed with the new key: %d %s", r.status, r.body)
	}

	for name, bad := range map[string]string{
		"expired":          e.idp.Issue(t, oidctest.Token{Subject: "ext-1", Audience: audience, Expiry: time.Now().Add(-time.Minute)}),
		"foreign audience": e.idp.Issue(t, oidctest.Token{Subject: "ext-1", Audience: "https://another-api.example.com"}),
		"another issuer":   e.idp.Issue(t, oidctest.Token{Subject: "ext-1", Audience: audience, Issuer: "https://evil.example.com"}),
		"unknown key":      e.idp.Issue(t, oidctest.Token{Subject: "ext-1", Audience: audience, Foreign: true}),
		"tampered":         tamper(rotated),
	} {
		r := e.do("GET", "/iam/v1/users/me/", req{token: bad})
		wantDetail(t, name, r, 401, "")
		if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", name)
		}
	}
	// The Linode face does not take the provider's tokens.
	if r := e.do("GET", "/v4/profile", req{token: rotated}); r.status != 401 {
		t.Errorf("Linode with a provider token: %d", r.status)
	}
}

// tamper changes one character of a JWT's payload.
func tamper(jwt string) string {
	parts := strings.Split(jwt, ".")
	p := []byte(parts[1])
	if p[10] == 'A' {
		p[10] = 'B'
	} else {
		p[10] = 'A'
	}
	return parts[0] + "." + string(p) + "." + parts[2]
}
