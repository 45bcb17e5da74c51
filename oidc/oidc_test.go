package oidc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/oidctest"
	"github.com/profiled/profiled/oidc"
)

const audience = "https://profiled.example.com/iam"

func newProvider(t *testing.T, idp *oidctest.Provider, mutate ...func(*oidc.Config)) *oidc.Provider {
	t.Helper()
	cfg := oidc.Config{Name: "corp", Issuer: idp.URL, Audience: audience}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := oidc.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func wantUnauthorized(t *testing.T, what string, err error) {
	t.Helper()
	if core.KindOf(err) != core.KindUnauthorized {
		t.Errorf("%s: %v, want Unauthorized", what, err)
	}
}

func TestVerify(t *testing.T) {
	idp := oidctest.Start(t)
	p := newProvider(t, idp)
	ctx := context.Background()
	exp := time.Now().Add(30 * time.Minute).Truncate(time.Second)
	raw := idp.Issue(t, oidctest.Token{Subject: "u-1", Audience: audience, Expiry: exp,
		Claims: map[string]any{"preferred_username": "ada", "email": "ada@example.com", "email_verified": "true", "given_name": "Ada"}})
	id, err := p.Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	want := core.ExternalIdentity{Subject: "u-1", Expiry: exp, Scopes: "account:read_write",
		Claims: core.ExternalClaims{Subject: "u-1", Username: "ada", Email: "ada@example.com", EmailVerified: true, FirstName: "Ada"}}
	if !id.Expiry.Equal(want.Expiry) || id.Subject != want.Subject || id.Scopes != want.Scopes || id.Claims != want.Claims {
		t.Errorf("Verify = %+v\nwant %+v", id, want)
	}
	if p.Name() != "corp" {
		t.Errorf("Name = %q", p.Name())
	}

	// The scope claim's profiled scopes replace the default; others are ignored.
	for scope, want := range map[string]core.Scopes{
		"openid email":                               "account:read_write",
		"openid account:read_only":                   "account:read_only",
		"account:read_only linodes:read_write email": "account:read_only linodes:read_write",
		"account:everything *":                       "account:read_write",
	} {
		id, err := p.Verify(ctx, idp.Issue(t, oidctest.Token{Subject: "u-1", Audience: audience, Scope: scope}))
		if err != nil || id.Scopes != want {
			t.Errorf("scope %q: %q, %v; want %q", scope, id.Scopes, err, want)
		}
	}
}

func TestVerifyRefusals(t *testing.T) {
	idp := oidctest.Start(t)
	other := oidctest.Start(t)
	p := newProvider(t, idp)
	ctx := context.Background()
	for name, raw := range map[string]string{
		"expired":          idp.Issue(t, oidctest.Token{Subject: "u", Audience: audience, Expiry: time.Now().Add(-time.Second)}),
		"foreign audience": idp.Issue(t, oidctest.Token{Subject: "u", Audience: "https://someone-else.example.com"}),
		"another issuer":   idp.Issue(t, oidctest.Token{Subject: "u", Audience: audience, Issuer: other.URL}),
		"another provider": other.Issue(t, oidctest.Token{Subject: "u", Audience: audience}),
		"unknown key":      idp.Issue(t, oidctest.Token{Subject: "u", Audience: audience, Foreign: true}),
		"no subject":       idp.Issue(t, oidctest.Token{Audience: audience}),
		"unsigned":         "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1IiwiYXVkIjoiaHR0cHM6Ly9wcm9maWxlZC5leGFtcGxlLmNvbS9pYW0ifQ.",
		"garbage":          "a.b.c",
		"tampered": func() string {
			raw := idp.Issue(t, oidctest.Token{Subject: "u", Audience: audience})
			parts := strings.Split(raw, ".")
			good := idp.Issue(t, oidctest.Token{Subject: "admin", Audience: audience})
			return parts[0] + "." + strings.Split(good, ".")[1] + "." + parts[2]
		}(),
	} {
		_, err := p.Verify(ctx, raw)
		wantUnauthorized(t, name, err)
	}
}

func TestKeyRotation(t *testing.T) {
	idp := oidctest.Start(t)
	p := newProvider(t, idp)
	ctx := context.Background()
	before := idp.Issue(t, oidctest.Token{Subject: "u", Audience: audience})
	if _, err := p.Verify(ctx, before); err != nil {
		t.Fatal(err)
	}
	jwks0, _ := idp.Hits()
	idp.Rotate(t)
	after := idp.Issue(t, oidctest.Token{Subject: "u", Audience: audience})
	if _, err := p.Verify(ctx, after); err != nil {
		t.Fatalf("a token signed with the new key: %v", err)
	}
	if jwks1, _ := idp.Hits(); jwks1 <= jwks0 {
		t.Errorf("the key set was not fetched again after the rotation (%d, %d)", jwks0, jwks1)
	}
	if _, err := p.Verify(ctx, before); err != nil {
		t.Errorf("a token signed with the old, still published key: %v", err)
	}
	// A new process that never saw the old key refuses tokens signed
	// with it once the provider stops publishing it.
	idp.Retire()
	fresh := newProvider(t, idp)
	_, err := fresh.Verify(ctx, before)
	wantUnauthorized(t, "a token signed with a retired key", err)
	if _, err := fresh.Verify(ctx, after); err != nil {
		t.Errorf("a token signed with the current key: %v", err)
	}
}

func TestUserInfo(t *testing.T) {
	idp := oidctest.Start(t)
	p := newProvider(t, idp, func(c *oidc.Config) {
		m, err := oidc.ParseClaimMap("username = nickname, first_name=name")
		if err != nil {
			t.Fatal(err)
		}
		c.Claims = m
	})
	idp.SetUser("u-2", map[string]any{"nickname": "grace", "name": "Grace", "family_name": "Hopper",
		"email": "grace@example.com", "email_verified": true, "picture": "https://idp.example.com/g.png", "preferred_username": "ignored"})
	ctx := context.Background()
	raw := idp.Issue(t, oidctest.Token{Subject: "u-2", Audience: audience})
	got, err := p.UserInfo(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	want := core.ExternalClaims{Subject: "u-2", Username: "grace", Email: "grace@example.com", EmailVerified: true,
		FirstName: "Grace", LastName: "Hopper", Picture: "https://idp.example.com/g.png"}
	if got != want {
		t.Errorf("UserInfo = %+v\nwant %+v", got, want)
	}
	_, err = p.UserInfo(ctx, idp.Issue(t, oidctest.Token{Subject: "u-2", Audience: audience, Expiry: time.Now().Add(-time.Minute)}))
	wantUnauthorized(t, "userinfo with an expired token", err)
}

func TestUnreachableProvider(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	url := down.URL
	down.Close()
	p, err := oidc.New(oidc.Config{Name: "corp", Issuer: url, Audience: audience})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Verify(context.Background(), "a.b.c")
	if err == nil || core.AsError(err) != nil {
		t.Errorf("Verify with the provider down: %v, want an error that is not the client's", err)
	}
	if err := p.Discover(context.Background()); err == nil {
		t.Error("Discover succeeded with the provider down")
	}
}

func TestConfig(t *testing.T) {
	good := oidc.Config{Name: "corp", Issuer: "https://idp.example.com/realms/x", Audience: "profiled"}
	if _, err := oidc.New(good); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*oidc.Config){
		"no name":             func(c *oidc.Config) { c.Name = "" },
		"upper-case name":     func(c *oidc.Config) { c.Name = "Corp" },
		"reserved name":       func(c *oidc.Config) { c.Name = "password" },
		"service_account":     func(c *oidc.Config) { c.Name = "service_account" },
		"relative issuer":     func(c *oidc.Config) { c.Issuer = "idp.example.com" },
		"issuer with a query": func(c *oidc.Config) { c.Issuer = "https://idp.example.com/?x=1" },
		"no audience":         func(c *oidc.Config) { c.Audience = " " },
		"invalid scopes":      func(c *oidc.Config) { c.DefaultScopes = "everything" },
		"ftp issuer":          func(c *oidc.Config) { c.Issuer = "ftp://idp.example.com" },
	} {
		c := good
		mutate(&c)
		if _, err := oidc.New(c); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	for _, bad := range []string{"user=nickname", "username", "username=", "email=a,=b"} {
		if _, err := oidc.ParseClaimMap(bad); err == nil {
			t.Errorf("ParseClaimMap(%q) succeeded", bad)
		}
	}
	if m, err := oidc.ParseClaimMap(""); err != nil || m != oidc.DefaultClaimMap() {
		t.Errorf("ParseClaimMap(\"\") = %+v, %v", m, err)
	}
}
