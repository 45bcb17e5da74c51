package core_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/keytest"
)

const keyedAudience = "https://id.example"

// keyedClient registers a confidential client that authenticates with
// key (private_key_jwt).
func keyedClient(t *testing.T, e *env, key keytest.Key) core.OAuthClient {
	t.Helper()
	c, secret, err := e.svc.CreateOAuthClient(e.ctx, core.OAuthClientCreate{Label: "Bank", Website: "https://bank.example",
		RedirectURIs: []string{"https://bank.example/cb"}, JWKS: key.JWKS(t)})
	noErr(t, err)
	if secret != "" || c.SecretHash != nil || c.JWKS == "" {
		t.Fatalf("a client with keys got a secret %q (hash %x), keys %q", secret, c.SecretHash, c.JWKS)
	}
	return c
}

// introspectWith introspects nothing as the client an assertion names.
func introspectWith(e *env, auth core.ClientAuth) error {
	_, err := e.svc.Introspect(e.ctx, auth, "nothing")
	return err
}

// TestClientKeys: a client registered with a JWK Set authenticates with
// assertions signed by its key, each once: a replay, another key, another
// audience, an expired assertion, one that lives too long, one without a
// jti, one for another client, and a secret instead are refused; a key set
// that is not one of public signing keys is refused at registration; the
// operator removes the keys, and the assertions stop working.
func TestClientKeys(t *testing.T) {
	e := newEnv(t)
	key := keytest.New(t, "k1")
	c := keyedClient(t, e, key)
	now := e.clock.Now()
	auth := func(assertion string) core.ClientAuth {
		return core.ClientAuth{Assertion: assertion, Audiences: []string{keyedAudience, keyedAudience + "/oauth/token"}}
	}
	good := key.Assertion(t, c.ID, keyedAudience, "jti-1", now)
	noErr(t, introspectWith(e, auth(good)))
	withID := auth(key.Assertion(t, c.ID, keyedAudience+"/oauth/token", "jti-2", now))
	withID.ClientID = c.ID
	noErr(t, introspectWith(e, withID))

	other := keytest.New(t, "k1")
	for what, a := range map[string]core.ClientAuth{
		"a replay":               auth(good),
		"another key":            auth(other.Assertion(t, c.ID, keyedAudience, "jti-3", now)),
		"another audience":       auth(key.Assertion(t, c.ID, "https://evil.example", "jti-4", now)),
		"an expired assertion":   auth(key.Assertion(t, c.ID, keyedAudience, "jti-5", now.Add(-10*time.Minute))),
		"an assertion for a day": auth(key.Sign(t, keytest.Claims{Issuer: c.ID, Subject: c.ID, ID: "jti-6", Audience: []string{keyedAudience}, Expiry: now.Add(24 * time.Hour)})),
		"no jti":                 auth(key.Sign(t, keytest.Claims{Issuer: c.ID, Subject: c.ID, Audience: []string{keyedAudience}, Expiry: now.Add(time.Minute)})),
		"no exp":                 auth(key.Sign(t, keytest.Claims{Issuer: c.ID, Subject: c.ID, ID: "jti-7", Audience: []string{keyedAudience}})),
		"iss not sub":            auth(key.Sign(t, keytest.Claims{Issuer: "x", Subject: c.ID, ID: "jti-8", Audience: []string{keyedAudience}, Expiry: now.Add(time.Minute)})),
		"an unknown client":      auth(key.Assertion(t, "nope", keyedAudience, "jti-9", now)),
		"not a JWT":              auth("a.b.c"),
		"another client_id":      {ClientID: "nope", Assertion: key.Assertion(t, c.ID, keyedAudience, "jti-10", now), Audiences: []string{keyedAudience}},
		"its id and no secret":   {ClientID: c.ID},
		"a secret":               {ClientID: c.ID, ClientSecret: "anything"},
	} {
		wantOAuthCode(t, what, introspectWith(e, a), core.OAuthInvalidClient)
	}
	both := auth(key.Assertion(t, c.ID, keyedAudience, "jti-11", now))
	both.ClientSecret = "x"
	wantOAuthCode(t, "a secret and an assertion", introspectWith(e, both), core.OAuthInvalidRequest)
	// A jti spent is kept past the assertion's exp, then forgotten.
	e.clock.Advance(10 * time.Minute)
	noErr(t, introspectWith(e, auth(key.Assertion(t, c.ID, keyedAudience, "jti-1", e.clock.Now()))))

	// Key sets that are not of public signing keys.
	rsaSmall, err := rsa.GenerateKey(rand.Reader, 1024)
	noErr(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	noErr(t, err)
	set := func(keys ...jose.JSONWebKey) string {
		b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
		noErr(t, err)
		return string(b)
	}
	many := make([]jose.JSONWebKey, 11)
	for i := range many {
		many[i] = jose.JSONWebKey{Key: &ec.PublicKey}
	}
	for what, jwks := range map[string]string{
		"a private key":     set(jose.JSONWebKey{Key: ec}),
		"a short RSA key":   set(jose.JSONWebKey{Key: &rsaSmall.PublicKey}),
		"an HMAC secret":    set(jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef")}),
		"an encryption key": set(jose.JSONWebKey{Key: &ec.PublicKey, Use: "enc"}),
		"no keys":           `{"keys":[]}`,
		"11 keys":           set(many...),
		"not JSON":          "keys",
		"a key, not a set":  key.PrivateJWK(t),
		"too long":          `{"keys":[],"x":"` + strings.Repeat("x", 17<<10) + `"}`,
	} {
		t.Run(what, func(t *testing.T) {
			_, _, err := e.svc.CreateOAuthClient(e.ctx, core.OAuthClientCreate{Label: "Bad", Website: "https://bad.example",
				RedirectURIs: []string{"https://bad.example/cb"}, JWKS: jwks})
			wantErr(t, err, core.KindInvalid, "jwks")
			_, err = e.svc.UpdateOAuthClient(e.ctx, c.ID, core.OAuthClientUpdate{JWKS: &jwks})
			wantErr(t, err, core.KindInvalid, "jwks")
		})
	}
	_, _, err = e.svc.CreateOAuthClient(e.ctx, core.OAuthClientCreate{Label: "SPA", Website: "https://spa.example",
		RedirectURIs: []string{"https://spa.example/cb"}, Public: true, JWKS: key.JWKS(t)})
	wantErr(t, err, core.KindInvalid, "jwks")
	_, _, err = e.svc.ResetOAuthClientSecret(e.ctx, c.ID)
	wantErr(t, err, core.KindInvalid, "jwks")

	// A new key replaces the old one; no keys, no assertions.
	next := keytest.New(t, "k2")
	jwks := next.JWKS(t)
	_, err = e.svc.UpdateOAuthClient(e.ctx, c.ID, core.OAuthClientUpdate{JWKS: &jwks})
	noErr(t, err)
	wantOAuthCode(t, "the old key", introspectWith(e, auth(key.Assertion(t, c.ID, keyedAudience, "jti-20", e.clock.Now()))), core.OAuthInvalidClient)
	noErr(t, introspectWith(e, auth(next.Assertion(t, c.ID, keyedAudience, "jti-21", e.clock.Now()))))
	none := ""
	_, err = e.svc.UpdateOAuthClient(e.ctx, c.ID, core.OAuthClientUpdate{JWKS: &none})
	noErr(t, err)
	wantOAuthCode(t, "keys removed", introspectWith(e, auth(next.Assertion(t, c.ID, keyedAudience, "jti-22", e.clock.Now()))), core.OAuthInvalidClient)
	_, secret, err := e.svc.ResetOAuthClientSecret(e.ctx, c.ID)
	noErr(t, err)
	noErr(t, introspectWith(e, core.ClientAuth{ClientID: c.ID, ClientSecret: secret}))
}
