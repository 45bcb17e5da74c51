package core_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
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

// TestPublishedClientKeys: a client registered with a jwks_uri gets no
// secret and authenticates with the keys it publishes there; it rotates
// them itself (a new key works at once, a withdrawn one once the copy
// kept expires); a URL that fails refuses its assertions, saying why;
// the operator swaps the URL for a set and back; the URL must be https
// (or loopback http), and comes alone, for a confidential client.
func TestPublishedClientKeys(t *testing.T) {
	e := newEnv(t)
	oldKey, newKey := keytest.New(t, "old"), keytest.New(t, "new")
	pub := keytest.Publish(t, oldKey)
	c, secret, err := e.svc.CreateOAuthClient(e.ctx, core.OAuthClientCreate{Label: "Bank", Website: "https://bank.example",
		RedirectURIs: []string{"https://bank.example/cb"}, JWKSURI: pub.URL})
	noErr(t, err)
	if secret != "" || c.SecretHash != nil || c.JWKSURI != pub.URL || !c.Keyed() {
		t.Fatalf("a client publishing its keys: %+v, secret %q", c, secret)
	}
	n := 0
	assert := func(key keytest.Key) error {
		n++
		return introspectWith(e, core.ClientAuth{Assertion: key.Assertion(t, c.ID, keyedAudience, fmt.Sprint("jti-", n), e.clock.Now()),
			Audiences: []string{keyedAudience}})
	}
	noErr(t, assert(oldKey))
	wantOAuthCode(t, "a secret", introspectWith(e, core.ClientAuth{ClientID: c.ID, ClientSecret: "x"}), core.OAuthInvalidClient)
	if pub.Reads() != 1 {
		t.Errorf("the URL was read %d times, want 1", pub.Reads())
	}

	// The client rotates: both keys, then the new one alone.
	pub.Set(t, oldKey, newKey)
	e.clock.Advance(11 * time.Second)
	noErr(t, assert(newKey))
	noErr(t, assert(oldKey))
	pub.Set(t, newKey)
	e.clock.Advance(4 * time.Minute)
	noErr(t, assert(oldKey)) // the copy kept is 5 minutes old at most
	e.clock.Advance(time.Minute)
	wantOAuthCode(t, "a withdrawn key", assert(oldKey), core.OAuthInvalidClient)
	noErr(t, assert(newKey))

	pub.SetBody("not found", "")
	e.clock.Advance(5 * time.Minute)
	err = assert(newKey)
	wantOAuthCode(t, "a URL that answers no key set", err, core.OAuthInvalidClient)
	if !strings.Contains(err.Error(), "jwks_uri") || !strings.Contains(err.Error(), pub.URL) {
		t.Errorf("the refusal does not say the jwks_uri failed: %v", err)
	}
	pub.Set(t, newKey)

	// The operator gives a set instead, then the URL again.
	jwks := newKey.JWKS(t)
	c, err = e.svc.UpdateOAuthClient(e.ctx, c.ID, core.OAuthClientUpdate{JWKS: &jwks})
	noErr(t, err)
	if c.JWKS != jwks || c.JWKSURI != "" {
		t.Errorf("a set given: jwks %q, jwks_uri %q", c.JWKS, c.JWKSURI)
	}
	c, err = e.svc.UpdateOAuthClient(e.ctx, c.ID, core.OAuthClientUpdate{JWKSURI: &pub.URL})
	noErr(t, err)
	if c.JWKS != "" || c.JWKSURI != pub.URL {
		t.Errorf("a URL given: jwks %q, jwks_uri %q", c.JWKS, c.JWKSURI)
	}
	e.clock.Advance(11 * time.Second)
	noErr(t, assert(newKey))
	_, _, err = e.svc.ResetOAuthClientSecret(e.ctx, c.ID)
	wantErr(t, err, core.KindInvalid, "jwks")

	for what, in := range map[string]core.OAuthClientCreate{
		"http":          {JWKSURI: "http://bank.example/jwks"},
		"a fragment":    {JWKSURI: "https://bank.example/jwks#k"},
		"not a URL":     {JWKSURI: "jwks.json"},
		"a set and one": {JWKSURI: pub.URL, JWKS: jwks},
		"public":        {JWKSURI: pub.URL, Public: true},
	} {
		t.Run(what, func(t *testing.T) {
			in.Label, in.Website, in.RedirectURIs = "Bad", "https://bad.example", []string{"https://bad.example/cb"}
			_, _, err := e.svc.CreateOAuthClient(e.ctx, in)
			wantErr(t, err, core.KindInvalid, "jwks_uri")
			if !in.Public {
				_, err = e.svc.UpdateOAuthClient(e.ctx, c.ID, core.OAuthClientUpdate{JWKSURI: &in.JWKSURI, JWKS: &in.JWKS})
				wantErr(t, err, core.KindInvalid, "jwks_uri")
			}
		})
	}
	spa, _, err := e.svc.CreateOAuthClient(e.ctx, core.OAuthClientCreate{Label: "SPA", Website: "https://spa.example",
		RedirectURIs: []string{"https://spa.example/cb"}, Public: true})
	noErr(t, err)
	_, err = e.svc.UpdateOAuthClient(e.ctx, spa.ID, core.OAuthClientUpdate{JWKSURI: &pub.URL})
	wantErr(t, err, core.KindInvalid, "jwks_uri")

	// No URL, no keys: the client may be given a secret.
	none := ""
	c, err = e.svc.UpdateOAuthClient(e.ctx, c.ID, core.OAuthClientUpdate{JWKSURI: &none})
	noErr(t, err)
	wantOAuthCode(t, "the URL removed", assert(newKey), core.OAuthInvalidClient)
	_, secret, err = e.svc.ResetOAuthClientSecret(e.ctx, c.ID)
	noErr(t, err)
	noErr(t, introspectWith(e, core.ClientAuth{ClientID: c.ID, ClientSecret: secret}))
}
