package clientjwt

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/keytest"
)

// testKeys is Keys on a clock the test moves.
func testKeys(t *testing.T) (*Keys, *time.Time) {
	t.Helper()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	return New(nil, func() time.Time { return now }), &now
}

// TestPublishedKeySetKept: a published set is read once while it is
// kept (5 minutes, or its max-age within 1 minute and 1 hour), a fresh
// read is made at most every 10 seconds, and an assertion verifies by
// the set read.
func TestPublishedKeySetKept(t *testing.T) {
	ctx := context.Background()
	k, now := testKeys(t)
	key := keytest.New(t, "k1")
	pub := keytest.Publish(t, key)
	read := func(fresh bool, wantReads int) string {
		t.Helper()
		jwks, err := k.KeySet(ctx, pub.URL, fresh)
		if err != nil {
			t.Fatalf("KeySet: %v", err)
		}
		if pub.Reads() != wantReads {
			t.Fatalf("the URL was read %d times, want %d", pub.Reads(), wantReads)
		}
		return jwks
	}
	jwks := read(false, 1)
	a := key.Assertion(t, "c1", "https://id.example", "j1", *now)
	if _, err := k.Verify(a, jwks, "c1", []string{"https://id.example"}, *now); err != nil {
		t.Fatalf("an assertion by the published key: %v", err)
	}
	read(false, 1)
	read(true, 1) // read just now
	*now = now.Add(11 * time.Second)
	read(true, 2)
	*now = now.Add(4 * time.Minute)
	read(false, 2)
	*now = now.Add(time.Minute)
	read(false, 3) // 5 minutes after the last read

	for cc, keep := range map[string]time.Duration{"max-age=3600": time.Hour, "public, max-age=86400": time.Hour,
		"max-age=5": time.Minute, `max-age="120"`: 2 * time.Minute,
		"max-age=9223372037": time.Hour, "max-age=-1": time.Minute, "no-cache": 5 * time.Minute, "max-age=x": 5 * time.Minute} {
		if got := keepFor(cc); got != keep {
			t.Errorf("Cache-Control %q keeps a set %v, want %v", cc, got, keep)
		}
	}
	pub.SetBody(key.JWKS(t), "max-age=1800")
	*now = now.Add(5 * time.Minute)
	reads := pub.Reads()
	read(false, reads+1)
	*now = now.Add(29 * time.Minute)
	read(false, reads+1)
	*now = now.Add(time.Minute)
	read(false, reads+2)
}

// TestPublishedKeySetReadOnceAtOnce: many assertions needing a set at
// once read its URL once.
func TestPublishedKeySetReadOnceAtOnce(t *testing.T) {
	k, _ := testKeys(t)
	pub := keytest.Publish(t, keytest.New(t, "k1"))
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := k.KeySet(context.Background(), pub.URL, true); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if pub.Reads() != 1 {
		t.Errorf("50 requests at once read the URL %d times, want 1", pub.Reads())
	}
}

// TestPublishedKeySetRefused: what is no usable key set is an error
// naming the URL and why, kept 10 seconds; encryption keys and keys that
// cannot sign are left out of a set, private and weak keys fail it.
func TestPublishedKeySetRefused(t *testing.T) {
	ctx := context.Background()
	ec := keytest.New(t, "ec")
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	jwk := func(key any, use string) jose.JSONWebKey { return jose.JSONWebKey{Key: key, KeyID: "x", Use: use} }
	set := func(keys ...jose.JSONWebKey) string {
		b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var many []jose.JSONWebKey
	for range 21 {
		many = append(many, jwk(&other.PublicKey, "sig"))
	}
	for what, c := range map[string]struct{ body, want string }{
		"not JSON":          {"<html>", "not a JWK Set"},
		"no keys":           {`{"keys":[]}`, "no public signing key"},
		"only an enc key":   {set(jwk(&other.PublicKey, "enc")), "no public signing key"},
		"only an HMAC key":  {set(jwk([]byte("0123456789abcdef0123456789abcdef"), "sig")), "no public signing key"},
		"a private key":     {set(jwk(ec.Private, "sig")), "key 1 is not a public key"},
		"a weak RSA key":    {set(jwk(&weak.PublicKey, "")), "RSA key of 1024 bits"},
		"21 keys":           {set(many...), "over 20 keys"},
		"over 64 KiB":       {`{"keys":[],"x":"` + strings.Repeat("a", 64<<10) + `"}`, "over 64 KiB"},
		"a key for nothing": {set(jwk(&other.PublicKey, "enc"), jwk(&ec.Private.PublicKey, "sig")), ""},
	} {
		k, _ := testKeys(t)
		pub := keytest.Publish(t)
		pub.SetBody(c.body, "")
		jwks, err := k.KeySet(ctx, pub.URL, false)
		if c.want == "" {
			if err != nil || strings.Count(jwks, `"kty"`) != 1 {
				t.Errorf("%s: %q, %v: want the signing key alone", what, jwks, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), pub.URL) {
			t.Errorf("%s: %q, %v: want an error naming the URL and %q", what, jwks, err, c.want)
		}
	}

	k, now := testKeys(t)
	answers := []int{http.StatusNotFound, http.StatusFound}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := answers[0]
		answers = answers[1:]
		if code == http.StatusFound {
			w.Header().Set("Location", "https://elsewhere.example/jwks")
		}
		w.WriteHeader(code)
	}))
	defer srv.Close()
	if _, err := k.KeySet(ctx, srv.URL, false); err == nil || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("a 404: %v", err)
	}
	if _, err := k.KeySet(ctx, srv.URL, true); err == nil || !strings.Contains(err.Error(), "404") || len(answers) != 1 {
		t.Errorf("a fresh read within 10 seconds of a failed one: %v, %d answers left", err, len(answers))
	}
	*now = now.Add(10 * time.Second)
	if _, err := k.KeySet(ctx, srv.URL, false); err == nil || !strings.Contains(err.Error(), "elsewhere.example") {
		t.Errorf("a redirect: %v", err)
	}
	srv.Close()
	*now = now.Add(10 * time.Second)
	if _, err := k.KeySet(ctx, srv.URL, false); err == nil || !strings.Contains(err.Error(), srv.URL) {
		t.Errorf("a server that is gone: %v", err)
	}
}

// TestVerifyUnknownKey: an assertion by a key the set lacks is
// core.ErrUnknownClientKey, which makes the core read a published set
// again.
func TestVerifyUnknownKey(t *testing.T) {
	k, now := testKeys(t)
	a := keytest.New(t, "a").Assertion(t, "c1", "https://id.example", "j1", *now)
	_, err := k.Verify(a, keytest.New(t, "b").JWKS(t), "c1", []string{"https://id.example"}, *now)
	if !errors.Is(err, core.ErrUnknownClientKey) {
		t.Errorf("an assertion by another key: %v, want core.ErrUnknownClientKey", err)
	}
}

// FuzzPublishedKeySet: no answer of a jwks_uri, nor Cache-Control,
// panics; what is kept is a set CheckKeySet's key rules accept, and is
// kept between 1 minute and 1 hour.
func FuzzPublishedKeySet(f *testing.F) {
	key := keytest.New(f, "k1")
	f.Add([]byte(key.JWKS(f)), "max-age=600")
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`), "no-store")
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`), `max-age="-5"`)
	f.Add([]byte(`{"keys":null}`), "max-age=99999999999999999999")
	f.Fuzz(func(t *testing.T, body []byte, cc string) {
		if keep := keepFor(cc); keep < minKeep || keep > maxKeep {
			t.Fatalf("Cache-Control %q keeps a set %v", cc, keep)
		}
		jwks, err := usableKeys(body)
		if err != nil {
			return
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal([]byte(jwks), &set); err != nil || len(set.Keys) == 0 || len(set.Keys) > maxPublishedKeys {
			t.Fatalf("kept %q (%v)", jwks, err)
		}
		for _, k := range set.Keys {
			if err := checkKey(k); err != nil {
				t.Fatalf("kept a key its rules refuse: %v (%q)", err, jwks)
			}
		}
	})
}
