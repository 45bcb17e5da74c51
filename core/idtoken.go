package core

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OpenID Connect: profiled is the identity provider of a platform's other
// applications (a dashboard, a wiki, a cluster's API server). An
// authorization that asks for the scope openid gets, with its tokens, an
// ID token (OpenID Connect Core 1.0, 2) naming the user, signed with RS256
// (the algorithm every relying party must accept, 15.1) by a key of the
// store's, which the face publishes as a JSON Web Key Set. The scopes
// profile and email release the claims of those names, to the ID token
// and to the userinfo endpoint alike. The JOSE encoding is the face's.
const (
	// IDTokenLifetime is how long an ID token is good: that of the access
	// token it comes with.
	IDTokenLifetime = AccessTokenLifetime
	// KeySetMaxAge is how long a relying party may keep the published key
	// set (the face's Cache-Control). A new key signs only once it has
	// been published that long, so that no relying party meets a token of
	// a key its copy of the set does not have.
	KeySetMaxAge = 5 * time.Minute

	signingKeyBits = 2048
)

// SigningKey is a key that signs ID tokens. Every replica reads the same
// keys from the store, which keeps each private key sealed with the
// store's key (SecretBox).
type SigningKey struct {
	ID      string // the JWS kid
	Created time.Time
	Private *rsa.PrivateKey
}

// StoredSigningKey is a SigningKey as the store keeps it: its private key
// in PKCS #8, sealed (signingKeyAD).
type StoredSigningKey struct {
	ID      string
	Created time.Time
	Sealed  []byte
}

func signingKeyAD(id string) string { return "signing key " + id }

// IDToken is an ID token before it is signed: every claim but the issuer,
// which is the URL the client reached profiled at (the face's), and the
// key to sign it with.
type IDToken struct {
	Claims map[string]any
	Key    SigningKey
}

// SigningKeys returns the keys a relying party must know to check the ID
// tokens that are still good, newest first. The first is made when there
// is none, by whichever replica asks first; if two race, both are kept,
// and every replica signs with the same one (signingKey).
func (s *Service) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	keys, err := s.loadSigningKeys(ctx)
	if err != nil || len(keys) > 0 {
		return keys, err
	}
	// One request of this process makes it; the others wait for it.
	s.firstKey.Lock()
	defer s.firstKey.Unlock()
	if keys, err = s.loadSigningKeys(ctx); err != nil || len(keys) > 0 {
		return keys, err
	}
	if _, err := s.addSigningKey(ctx, s.clock(), nil); err != nil {
		return nil, err
	}
	return s.loadSigningKeys(ctx)
}

// loadSigningKeys reads and opens the stored keys, newest first. A key's
// content never changes, so each is parsed once per process.
func (s *Service) loadSigningKeys(ctx context.Context) ([]SigningKey, error) {
	stored, err := s.store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	keys := make([]SigningKey, 0, len(stored))
	for _, k := range stored {
		if p, ok := s.parsedKeys.Load(k.ID); ok {
			keys = append(keys, SigningKey{ID: k.ID, Created: k.Created, Private: p.(*rsa.PrivateKey)})
			continue
		}
		der, err := s.box.Open(k.Sealed, signingKeyAD(k.ID))
		if err != nil {
			return nil, fmt.Errorf("signing key %s does not open with this key file: start profiled with the secret key its database was made with: %w", k.ID, err)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(der)
		p, ok := parsed.(*rsa.PrivateKey)
		if err != nil || !ok {
			return nil, fmt.Errorf("signing key %s is not an RSA key: %v", k.ID, err)
		}
		s.parsedKeys.Store(k.ID, p)
		keys = append(keys, SigningKey{ID: k.ID, Created: k.Created, Private: p})
	}
	return keys, nil
}

// signingKey is the key that signs now: the newest that has been
// published for KeySetMaxAge, else (all are newer) the oldest.
func signingKey(keys []SigningKey, now time.Time) SigningKey {
	for _, k := range keys {
		if !k.Created.After(now.Add(-KeySetMaxAge)) {
			return k
		}
	}
	return keys[len(keys)-1]
}

// addSigningKey makes a key and stores it, made at created, and deletes
// retire's keys in the same transaction.
func (s *Service) addSigningKey(ctx context.Context, created time.Time, retire []SigningKey) (SigningKey, error) {
	priv, err := rsa.GenerateKey(s.rand, signingKeyBits)
	if err != nil {
		return SigningKey{}, fmt.Errorf("make signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return SigningKey{}, fmt.Errorf("make signing key: %w", err)
	}
	id, err := s.newSecret(8)
	if err != nil {
		return SigningKey{}, err
	}
	k := SigningKey{ID: id, Created: created, Private: priv}
	err = s.update(ctx, func(tx Tx, note func(Event)) error {
		for _, old := range retire {
			if err := tx.DeleteSigningKey(ctx, old.ID); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			note(Event{Name: EventSigningKeyRetired, Detail: "key " + old.ID})
		}
		note(Event{Name: EventSigningKeyCreated, Detail: "key " + id})
		return tx.CreateSigningKey(ctx, StoredSigningKey{ID: id, Created: k.Created, Sealed: s.box.Seal(der, signingKeyAD(id))})
	})
	if err != nil {
		return SigningKey{}, fmt.Errorf("store signing key: %w", err)
	}
	return k, nil
}

// RotateSigningKey makes a new signing key, for operators: it signs once
// it has been published for KeySetMaxAge, the key signing until then
// going on meanwhile. Keys whose last ID token has expired are retired:
// those that stopped signing more than IDTokenLifetime ago. So a rotation
// at any time, however often, leaves every good ID token checkable.
func (s *Service) RotateSigningKey(ctx context.Context) (SigningKey, []SigningKey, error) {
	keys, err := s.loadSigningKeys(ctx)
	if err != nil {
		return SigningKey{}, nil, err
	}
	now := s.clock()
	var retire []SigningKey
	// A key stopped signing when the next newer one began to:
	// KeySetMaxAge after that one was made.
	for i := 1; i < len(keys); i++ {
		if now.Sub(keys[i-1].Created) > KeySetMaxAge+IDTokenLifetime {
			retire = append(retire, keys[i])
		}
	}
	// The new key is the newest even when made within the second of the
	// last one: the store keeps whole seconds.
	created := now
	if len(keys) > 0 && !now.After(keys[0].Created) {
		created = keys[0].Created.Add(time.Second)
	}
	k, err := s.addSigningKey(ctx, created, retire)
	return k, retire, err
}

// idTokenKey is the key an authorization's ID token is signed with, read
// before its transaction (making the first key takes a while), or nil
// when scopes do not ask for one. "*" holds openid but does not ask for
// an ID token: a console asks for every API with it (Cloud Manager), and
// would read none.
func (s *Service) idTokenKey(ctx context.Context, scopes Scopes) (*SigningKey, error) {
	if scopes == AllScopes || !scopes.AllowsIdentity(ScopeOpenID) {
		return nil, nil
	}
	keys, err := s.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	k := signingKey(keys, s.clock())
	return &k, nil
}

// signedIn is how and when the user signed in to the session that
// approved an authorization, as its ID token says (auth_time, amr).
type signedIn struct {
	at      time.Time
	methods AuthMethods
}

// idToken makes the ID token of app's new tokens, signed with key (nil:
// none asked for), read through r. nonce and the sign-in are the
// authorization's, none after a refresh (Core 12.2).
func (s *Service) idToken(ctx context.Context, r Reader, key *SigningKey, app App, scopes Scopes, nonce string, in signedIn, now time.Time) (*IDToken, error) {
	if key == nil {
		return nil, nil
	}
	m, err := loadMe(ctx, r, app.UserID)
	if err != nil {
		return nil, err
	}
	c := identityClaims(m, scopes)
	c["aud"] = app.ClientID
	c["iat"] = now.Unix()
	c["exp"] = now.Add(IDTokenLifetime).Unix()
	if nonce != "" {
		c["nonce"] = nonce
	}
	if !in.at.IsZero() {
		c["auth_time"] = in.at.Unix()
	}
	if in.methods != "" {
		c["amr"] = strings.Fields(string(in.methods)) // RFC 8176: which a relying party may require
	}
	if in.methods.Has("mfa") {
		c["acr"] = ACRMultiFactor // what acr_values may ask for (stepup.go)
	}
	if app.SID != "" {
		c["sid"] = app.SID // the session a logout token will name (logout.go)
	}
	return &IDToken{Claims: c, Key: *key}, nil
}

// identityClaims are the claims about m that scopes release (Core 5.1,
// 5.4): the subject, the user's id, and account, the id of the user's
// account (as introspection and forward authentication name it: the
// tenant of a platform's other applications), always; with profile, the
// username, names, locale and time zone; with email, the address and
// whether it was verified.
func identityClaims(m Me, scopes Scopes) map[string]any {
	c := map[string]any{"sub": strconv.FormatInt(m.User.ID, 10), "account": strconv.FormatInt(m.User.AccountID, 10)}
	if scopes.AllowsIdentity(ScopeProfile) {
		c["preferred_username"] = m.User.Username
		for claim, v := range map[string]string{
			"name":        strings.TrimSpace(m.Profile.FirstName + " " + m.Profile.LastName),
			"given_name":  m.Profile.FirstName,
			"family_name": m.Profile.LastName,
			"locale":      m.Profile.Config.Locale,
			"zoneinfo":    m.User.Timezone,
			"picture":     m.Profile.PictureURL,
		} {
			if v != "" {
				c[claim] = v
			}
		}
	}
	if scopes.AllowsIdentity(ScopeEmail) && m.User.Email != "" {
		c["email"] = m.User.Email
		c["email_verified"] = m.Profile.EmailVerified
	}
	return c
}

// UserInfo serves OpenID Connect's userinfo endpoint (Core 5.3): the
// claims about the actor that its token's scopes release. The token must
// hold openid.
func (s *Service) UserInfo(ctx context.Context, a Actor) (map[string]any, error) {
	if !a.Token.Scopes.AllowsIdentity(ScopeOpenID) {
		return nil, &Error{Kind: KindForbidden, Required: ScopeOpenID, Reason: "This token was not granted the scope openid"}
	}
	m, err := loadMe(ctx, s.store, a.User.ID)
	if err != nil {
		return nil, err
	}
	return identityClaims(m, a.Token.Scopes), nil
}

// IdentityClaimsSupported are the claims identityClaims may release, for
// the provider's metadata.
func IdentityClaimsSupported() []string {
	c := []string{"account", "acr", "amr", "auth_time", "sub", "preferred_username", "name", "given_name", "family_name", "locale", "zoneinfo", "picture",
		"email", "email_verified", "aud", "exp", "iat", "iss", "nonce", "sid"}
	slices.Sort(c)
	return c
}

// SignInTooOld reports whether the actor's sign-in is older than the
// authorization request's max_age allows: then the user must type their
// password again (Core 3.1.2.1).
func (s *Service) SignInTooOld(a Actor, az Authorization) bool {
	return az.MaxAge != nil && s.clock().Sub(a.Token.Created) > *az.MaxAge
}

// MustSignInAgain reports whether the user of session a must type their
// password again before az is answered: its max_age asks it
// (SignInTooOld), or OpenID Connect's prompt=login does (promptLogin).
// A sign-in since a pushed request was pushed answers both: the request
// comes back by its request_uri after that sign-in, with its prompt and
// max_age unchanged, and would otherwise ask again without end. (Times
// are kept to the second, so a sign-in in the second of the push counts
// as after it.) A request the browser carried comes back without them.
func (s *Service) MustSignInAgain(a Actor, az Authorization, promptLogin bool) bool {
	if az.Pushed != "" && !a.Token.Created.Before(az.PushedAt.Truncate(time.Second)) {
		return false
	}
	return promptLogin || s.SignInTooOld(a, az)
}
