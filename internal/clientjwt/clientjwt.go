// Package clientjwt reads the JSON Web Tokens OAuth clients authenticate
// with (private_key_jwt: RFC 7523 2.2, OpenID Connect Core 9) and the key
// sets they register, with go-jose. What the claims must say beyond their
// signature and their audience (how long an assertion may live, that its
// jti is spent once) is the core's (core/clientkeys.go); this is only
// their encoding.
package clientjwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/profiled/profiled/core"
)

// Keys implements core.ClientKeys.
type Keys struct {
	cache keyCache
	// OnRead, if set, is told of each read of a published key set and
	// its failure (nil: a set was kept), for the log and the metrics.
	OnRead func(uri string, err error)
}

// New returns the Keys that read published key sets through client (nil:
// one of its own), keeping them by the clock now (nil: time.Now).
// Redirects are not followed: a client registers the URL its keys are at.
func New(client *http.Client, now func() time.Time) *Keys {
	c := http.Client{}
	if client != nil {
		c = *client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if now == nil {
		now = time.Now
	}
	return &Keys{cache: keyCache{client: &c, now: now, sets: map[string]publishedSet{}}}
}

// algorithms are the signatures an assertion may carry: asymmetric ones
// only, so that no key set can be used as an HMAC secret, and never none.
var algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

// Algorithms names the signature algorithms an assertion may use, for
// the server's metadata.
func Algorithms() []string {
	out := make([]string, len(algorithms))
	for i, a := range algorithms {
		out[i] = string(a)
	}
	return out
}

const (
	maxKeySetBytes = 16 << 10
	maxKeys        = 10
	minRSABits     = 2048
	// leeway is the clock skew allowed between a client and profiled.
	leeway = 30 * time.Second
)

// CheckKeySet accepts a JWK Set (RFC 7517 5) of 1 to 10 public signing
// keys: RSA of at least 2048 bits, EC or Ed25519. A private key is
// refused, so that one pasted by mistake is not kept.
func (*Keys) CheckKeySet(raw string) error {
	if len(raw) > maxKeySetBytes {
		return fmt.Errorf("the key set is over %d KiB", maxKeySetBytes>>10)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(raw), &set); err != nil {
		return errors.New(`the key set is not a JWK Set ({"keys": [...]})`)
	}
	if len(set.Keys) == 0 || len(set.Keys) > maxKeys {
		return fmt.Errorf("the key set must hold 1 to %d keys", maxKeys)
	}
	for i, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			return fmt.Errorf("key %d is for %q, not for signatures", i+1, k.Use)
		}
		if err := checkKey(k); err != nil {
			return fmt.Errorf("key %d %w", i+1, err)
		}
	}
	return nil
}

// errCannotSign is a key of a kind no assertion is signed with.
var errCannotSign = errors.New("is of a kind that cannot sign")

// checkKey accepts a public RSA key of at least 2048 bits, EC or Ed25519.
func checkKey(k jose.JSONWebKey) error {
	switch pub := k.Key.(type) {
	case []byte:
		return fmt.Errorf("%w (a shared secret)", errCannotSign)
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return fmt.Errorf("is an RSA key of %d bits: at least %d are needed", pub.N.BitLen(), minRSABits)
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return errors.New("is not a public key: give the public half only")
	default:
		return fmt.Errorf("%w (%T)", errCannotSign, k.Key)
	}
	if !k.Valid() {
		return errors.New("is not a valid key")
	}
	return nil
}

// Subject reads the client an assertion says it is (its sub, which must
// equal its iss), without checking it: the caller then finds that
// client's keys and calls Verify.
func (*Keys) Subject(assertion string) (string, error) {
	tok, err := jwt.ParseSigned(assertion, algorithms)
	if err != nil {
		return "", errors.New("client_assertion is not a JWT signed with an asymmetric algorithm")
	}
	var c jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil || c.Subject == "" || c.Issuer != c.Subject {
		return "", errors.New("client_assertion must name the client in iss and sub, the same in both")
	}
	return c.Subject, nil
}

// Verify checks the assertion's signature by a key of the JWK Set jwks
// (the one its kid names, if it names one), that its iss and sub are
// clientID, that its aud holds one of audiences, and that it is within
// its nbf, iat and exp, and returns its jti and exp.
func (*Keys) Verify(assertion, jwks, clientID string, audiences []string, now time.Time) (core.ClientAssertion, error) {
	tok, err := jwt.ParseSigned(assertion, algorithms)
	if err != nil || len(tok.Headers) != 1 {
		return core.ClientAssertion{}, errors.New("client_assertion is not a JWT signed with an asymmetric algorithm")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(jwks), &set); err != nil {
		return core.ClientAssertion{}, err
	}
	keys := set.Keys
	if kid := tok.Headers[0].KeyID; kid != "" {
		keys = set.Key(kid)
	}
	var c jwt.Claims
	signed := false
	for _, k := range keys {
		if tok.Claims(k.Key, &c) == nil {
			signed = true
			break
		}
	}
	if !signed {
		return core.ClientAssertion{}, core.ErrUnknownClientKey
	}
	if c.Expiry == nil {
		return core.ClientAssertion{}, errors.New("client_assertion has no exp")
	}
	err = c.ValidateWithLeeway(jwt.Expected{Issuer: clientID, Subject: clientID, AnyAudience: audiences, Time: now}, leeway)
	switch {
	case errors.Is(err, jwt.ErrInvalidAudience):
		return core.ClientAssertion{}, fmt.Errorf("client_assertion's aud must be this server's issuer or the URL of the endpoint (%s)", audiences[0])
	case errors.Is(err, jwt.ErrExpired), errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return core.ClientAssertion{}, errors.New("client_assertion is expired or not valid yet: check the client's clock")
	case err != nil:
		return core.ClientAssertion{}, errors.New("client_assertion must name the client in iss and sub")
	}
	return core.ClientAssertion{ID: c.ID, Expiry: c.Expiry.Time()}, nil
}
