// Package keytest gives tests an OAuth client's signing key: its public
// JWK Set to register, its private JWK for another program, and the
// client assertions (private_key_jwt, RFC 7523) it signs.
package keytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Key is an ES256 key.
type Key struct {
	Private *ecdsa.PrivateKey
	KID     string
}

// New makes a key with the key id kid.
func New(t testing.TB, kid string) Key {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return Key{Private: k, KID: kid}
}

// JWKS is the JWK Set of the public key, as a client registers it.
func (k Key) JWKS(t testing.TB) string {
	t.Helper()
	return marshal(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.Private.PublicKey, KeyID: k.KID, Algorithm: "ES256", Use: "sig"}}})
}

// PrivateJWK is the private key as a JWK.
func (k Key) PrivateJWK(t testing.TB) string {
	t.Helper()
	return marshal(t, jose.JSONWebKey{Key: k.Private, KeyID: k.KID, Algorithm: "ES256", Use: "sig"})
}

// Claims are those of an assertion; a zero IssuedAt is left out.
type Claims struct {
	Issuer, Subject, ID string
	Audience            []string
	Expiry, IssuedAt    time.Time
}

// Sign signs claims with the key, its kid in the header.
func (k Key) Sign(t testing.TB, c Claims) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k.Private, KeyID: k.KID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.Claims{Issuer: c.Issuer, Subject: c.Subject, ID: c.ID, Audience: c.Audience}
	if !c.Expiry.IsZero() {
		claims.Expiry = jwt.NewNumericDate(c.Expiry)
	}
	if !c.IssuedAt.IsZero() {
		claims.IssuedAt = jwt.NewNumericDate(c.IssuedAt)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Assertion is a good assertion of clientID for aud, for 5 minutes from
// now, with the jti given.
func (k Key) Assertion(t testing.TB, clientID, aud, jti string, now time.Time) string {
	t.Helper()
	return k.Sign(t, Claims{Issuer: clientID, Subject: clientID, ID: jti, Audience: []string{aud}, Expiry: now.Add(5 * time.Minute), IssuedAt: now})
}

func marshal(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
