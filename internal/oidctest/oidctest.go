// Package oidctest runs a small but real OpenID Connect provider for
// tests: an HTTP server on a loopback port with discovery
// (/.well-known/openid-configuration), a JSON Web Key Set, and a userinfo
// endpoint, issuing RS256-signed JWT access tokens (RFC 9068) with
// github.com/go-jose/go-jose/v4. Tests rotate its keys, change what its
// userinfo says, and mint tokens that are expired, for another audience,
// from another issuer or signed by an unknown key.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Provider is a running OpenID Connect provider.
type Provider struct {
	// URL is the issuer: discovery is at URL + "/.well-known/openid-configuration".
	URL string

	srv *httptest.Server

	mu        sync.Mutex
	published []signingKey // in the JWKS; the last one signs
	users     map[string]map[string]any
	jwksHits  int
	infoHits  int
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func newKey(t testing.TB) signingKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{id: randomID(), key: k}
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Start runs a provider until the test ends.
func Start(t testing.TB) *Provider {
	t.Helper()
	p := &Provider{published: []signingKey{newKey(t)}, users: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"jwks_uri":                              p.URL + "/jwks",
		"userinfo_endpoint":                     p.URL + "/userinfo",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.jwksHits++
	set := jose.JSONWebKeySet{}
	for _, k := range p.published {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.key.PublicKey, KeyID: k.id, Algorithm: string(jose.RS256), Use: "sig"})
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, set)
}

// userinfo answers for a valid, unexpired access token of this provider.
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.infoHits++
	keys := append([]signingKey(nil), p.published...)
	p.mu.Unlock()
	fail := func() {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
	}
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		fail()
		return
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		fail()
		return
	}
	var claims jwt.Claims
	verified := false
	for _, k := range keys {
		if k.id == tok.Headers[0].KeyID && tok.Claims(&k.key.PublicKey, &claims) == nil {
			verified = true
		}
	}
	if !verified || claims.Issuer != p.URL || claims.ValidateWithLeeway(jwt.Expected{Time: time.Now()}, 0) != nil {
		fail()
		return
	}
	p.mu.Lock()
	out := map[string]any{}
	for k, v := range p.users[claims.Subject] {
		out[k] = v
	}
	p.mu.Unlock()
	out["sub"] = claims.Subject
	writeJSON(w, http.StatusOK, out)
}

// SetUser sets what userinfo says about subject (besides "sub"), such as
// preferred_username, email, email_verified, given_name, family_name and
// picture.
func (p *Provider) SetUser(subject string, claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[subject] = claims
}

// Rotate makes a new signing key and publishes it beside the old ones;
// tokens are signed with it from now on.
func (p *Provider) Rotate(t testing.TB) {
	k := newKey(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = append(p.published, k)
}

// Retire stops publishing every key but the newest.
func (p *Provider) Retire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = p.published[len(p.published)-1:]
}

// Hits says how often the JWKS and the userinfo endpoint were asked.
func (p *Provider) Hits() (jwks, userinfo int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jwksHits, p.infoHits
}

// Token describes an access token to issue.
type Token struct {
	Subject  string
	Audience string
	// Expiry is when it stops being valid; zero means in an hour.
	Expiry time.Time
	// Scope is the space-separated scope claim; empty for none.
	Scope string
	// Claims are further claims (email, preferred_username, ...).
	Claims map[string]any
	// Issuer overrides the provider's URL as the iss claim.
	Issuer string
	// Foreign signs with a key the provider never published.
	Foreign bool
}

// Issue signs an access token.
func (p *Provider) Issue(t testing.TB, tok Token) string {
	t.Helper()
	p.mu.Lock()
	k := p.published[len(p.published)-1]
	p.mu.Unlock()
	if tok.Foreign {
		k = newKey(t)
		k.id = p.published[len(p.published)-1].id // claims to be the current key
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.key, KeyID: k.id}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if tok.Expiry.IsZero() {
		tok.Expiry = now.Add(time.Hour)
	}
	if tok.Issuer == "" {
		tok.Issuer = p.URL
	}
	std := jwt.Claims{Issuer: tok.Issuer, Subject: tok.Subject, Audience: jwt.Audience{tok.Audience},
		Expiry: jwt.NewNumericDate(tok.Expiry), IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)), ID: randomID()}
	extra := map[string]any{}
	for k, v := range tok.Claims {
		extra[k] = v
	}
	if tok.Scope != "" {
		extra["scope"] = tok.Scope
	}
	raw, err := jwt.Signed(signer).Claims(std).Claims(extra).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
