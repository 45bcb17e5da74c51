// Package jwt signs the JSON Web Tokens profiled issues (ID tokens,
// logout tokens) as compact JWS with RS256, the kid naming the key in
// the published key set. The claims and the choice of key are the
// core's; this is only their encoding.
package jwt

import (
	"encoding/json"

	"github.com/go-jose/go-jose/v4"

	"github.com/profiled/profiled/core"
)

// Sign signs claims with key, typ in the header (JWT for an ID token,
// logout+jwt for a logout token, which a relying party must not take for
// an ID token: Back-Channel Logout 2.4).
func Sign(claims map[string]any, key core.SigningKey, typ string) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key.Private, KeyID: key.ID}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}
