package core

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// IdentityProvider is an external OpenID Connect provider whose access
// tokens profiled accepts (package oidc implements it).
type IdentityProvider interface {
	// Name is the provider's name: the authentication_type of the users it
	// brings.
	Name() string
	// Verify checks an access token (signature, issuer, audience, expiry)
	// and returns whom it names. A token that fails any check is
	// Unauthorized; other errors mean the provider could not be asked.
	Verify(ctx context.Context, accessToken string) (ExternalIdentity, error)
	// UserInfo asks the provider's userinfo endpoint, with the access
	// token, who its subject is now.
	UserInfo(ctx context.Context, accessToken string) (ExternalClaims, error)
}

// ExternalIdentity is what a verified access token says.
type ExternalIdentity struct {
	Subject string
	Expiry  time.Time
	Scopes  Scopes         // what the token may do in profiled
	Claims  ExternalClaims // the profile claims the token carries, often few
}

// ExternalClaims are a subject's profile claims, after the provider's
// claim mapping. Empty strings are claims the provider did not send.
type ExternalClaims struct {
	Subject       string
	Username      string
	Email         string
	EmailVerified bool
	FirstName     string
	LastName      string
	Picture       string
}

// TokenExternal is the kind of the token of an actor authenticated by an
// external provider's access token. profiled stores no such token.
const TokenExternal TokenKind = "external"

// externalDomain is where users whose provider tells no usable email
// address get one (.invalid is reserved, RFC 2606); sync-from-auth
// replaces it when the provider tells one.
const externalDomain = "@external-identity.invalid"

// looksLikeJWT tells a JWS compact serialization (three base64url parts)
// from profiled's own tokens, which are hex.
func looksLikeJWT(raw string) bool { return strings.Count(raw, ".") == 2 }

// AuthenticateBearer resolves a bearer credential: an access token of the
// external identity provider, if one is configured and the credential is a
// JWT, or else one of profiled's own tokens (Authenticate).
func (s *Service) AuthenticateBearer(ctx context.Context, raw string) (Actor, error) {
	if s.idp != nil && looksLikeJWT(raw) {
		return s.AuthenticateExternal(ctx, raw)
	}
	return s.Authenticate(ctx, raw)
}

// AuthenticateExternal resolves an access token of the external identity
// provider to its actor. The first time a subject shows up, its user is
// made, with authentication_type set to the provider's name and the
// profile the provider's userinfo endpoint tells.
func (s *Service) AuthenticateExternal(ctx context.Context, raw string) (Actor, error) {
	if s.idp == nil || len(raw) > 16<<10 {
		return Actor{}, Unauthorized()
	}
	id, err := s.idp.Verify(ctx, raw)
	if err != nil {
		if AsError(err) != nil {
			return Actor{}, err
		}
		return Actor{}, fmt.Errorf("verify access token: %w", err)
	}
	// A subject is at most 255 characters (OpenID Connect Core 1.0, 2);
	// one no store can keep is refused like any bad token.
	if id.Subject == "" || len(id.Subject) > 255 || strings.ContainsRune(id.Subject, 0) ||
		(!id.Expiry.IsZero() && !s.now().Before(id.Expiry)) {
		return Actor{}, Unauthorized()
	}
	provider := s.idp.Name()
	u, err := s.store.UserByExternalID(ctx, provider, id.Subject)
	if errors.Is(err, ErrNotFound) {
		u, err = s.createExternalUser(ctx, raw, id)
	}
	if err != nil {
		return Actor{}, notFound(err, "external user")
	}
	tok := Token{UserID: u.ID, Kind: TokenExternal, Label: provider, Scopes: id.Scopes, Created: s.clock()}
	if !id.Expiry.IsZero() {
		exp := id.Expiry.UTC()
		tok.Expiry = &exp
	}
	return Actor{User: u, Token: tok}, nil
}

// errRaced says another request created the same external user first.
var errRaced = errors.New("external user created concurrently")

func (s *Service) createExternalUser(ctx context.Context, raw string, id ExternalIdentity) (User, error) {
	claims := id.Claims
	if info, err := s.idp.UserInfo(ctx, raw); err == nil && info.Subject == id.Subject {
		claims = mergeClaims(claims, info)
	}
	// Without userinfo the user is still made, from the token's claims;
	// sync-from-auth fills the rest in later.
	code, err := s.newSecret(20)
	if err != nil {
		return User{}, err
	}
	suffix, err := s.newSecret(4)
	if err != nil {
		return User{}, err
	}
	provider := s.idp.Name()
	base := usernameFrom(claims)
	u := User{Timezone: "UTC", EmailNotifications: true, LishAuthMethod: LishKeysOnly, AuthorizedKeys: []string{},
		AuthenticationType: provider, ReferralCode: code, Created: s.clock()}
	p := IAMProfile{Kind: UserHuman}
	applyClaims(&u, &p, claims)
	err = s.store.Update(ctx, func(tx Tx) error {
		var err error
		// The name the provider suggests, else the same with a suffix (cut
		// so that no separator comes before the suffix's own).
		for i, name := range []string{base, strings.TrimRight(base[:min(len(base), 23)], "-_") + "-" + suffix} {
			u.Username = name
			if u.Email == "" || strings.HasSuffix(u.Email, externalDomain) {
				u.Email = name + externalDomain
			}
			err := createUser(ctx, tx, &u)
			if err == nil {
				break
			}
			if !errors.Is(err, ErrDuplicate) || i == 1 {
				return err
			}
		}
		p.UserID = u.ID
		if err := tx.PutIAMProfile(ctx, p); err != nil {
			return err
		}
		err = tx.LinkExternalID(ctx, provider, id.Subject, u.ID)
		if errors.Is(err, ErrDuplicate) {
			return errRaced
		}
		return err
	})
	if errors.Is(err, errRaced) {
		return s.store.UserByExternalID(ctx, provider, id.Subject)
	}
	return u, err
}

// mergeClaims takes what the userinfo endpoint told over what the token said.
func mergeClaims(token, info ExternalClaims) ExternalClaims {
	out := token
	for _, f := range []struct {
		dst *string
		src string
	}{{&out.Username, info.Username}, {&out.Email, info.Email},
		{&out.FirstName, info.FirstName}, {&out.LastName, info.LastName}, {&out.Picture, info.Picture}} {
		if f.src != "" {
			*f.dst = f.src
		}
	}
	if info.Email != "" {
		out.EmailVerified = info.EmailVerified
	}
	return out
}

// usernameFrom makes a valid username from the provider's preferred
// username, else the email's local part, else "user".
func usernameFrom(c ExternalClaims) string {
	base := c.Username
	if base == "" {
		base, _, _ = strings.Cut(c.Email, "@")
	}
	// Each run of characters a username cannot hold, or of separators,
	// becomes one separator (the run's first, else '-'): "john..doe" is
	// "john-doe".
	var b strings.Builder
	separated := false
	for _, r := range base {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
			separated = false
		case !separated:
			sep := byte('-')
			if r == '_' {
				sep = '_'
			}
			b.WriteByte(sep)
			separated = true
		}
	}
	name := b.String()
	if len(name) > 32 {
		name = name[:32]
	}
	name = strings.Trim(name, "-_")
	if ValidateUsername("username", name) != nil {
		return "user"
	}
	return name
}

// applyClaims copies the usable claims onto the user: a claim that breaks
// a rule (an invalid address, a name too long) is left out rather than
// refused, since the user cannot fix it here.
func applyClaims(u *User, p *IAMProfile, c ExternalClaims) {
	if c.Email != "" && ValidateEmail("email", c.Email) == nil {
		if c.Email != u.Email {
			u.Email = c.Email
		}
		p.EmailVerified = c.EmailVerified
	}
	if n, err := validatePersonName("first_name", c.FirstName); err == nil && c.FirstName != "" {
		p.FirstName = n
	}
	if n, err := validatePersonName("last_name", c.LastName); err == nil && c.LastName != "" {
		p.LastName = n
	}
	p.PictureURL = pictureURL(c.Picture)
}

// pictureURL returns the picture's address if it is an absolute http(s)
// URL of reasonable length, "" otherwise.
func pictureURL(s string) string {
	if s == "" || len(s) > maxPictureURL || strings.ContainsAny(s, " \t\r\n\x00") {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ""
	}
	return u.String()
}

// SyncFromAuth refreshes the actor's email, names, email_verified and
// picture from the identity provider's userinfo endpoint. It needs the
// provider's access token as the credential of the request (accessToken),
// and account:read_write.
func (s *Service) SyncFromAuth(ctx context.Context, a Actor, accessToken string) error {
	if err := mustWrite(a); err != nil {
		return err
	}
	m, err := loadHuman(ctx, s.store, a.User.ID)
	if err != nil {
		return err
	}
	if s.idp == nil || a.Token.Kind != TokenExternal || m.User.AuthenticationType != s.idp.Name() {
		return Conflict("", "sync-from-auth needs an access token from the identity provider the user signs in with, sent as the bearer token; this user signs in with %s", m.User.AuthenticationType)
	}
	info, err := s.idp.UserInfo(ctx, accessToken)
	if err != nil {
		if AsError(err) != nil {
			return err
		}
		return fmt.Errorf("userinfo: %w", err)
	}
	linked, err := s.store.UserByExternalID(ctx, s.idp.Name(), info.Subject)
	if err != nil || linked.ID != a.User.ID {
		return Unauthorized() // the provider describes someone else
	}
	return s.store.Update(ctx, func(tx Tx) error {
		m, err := lockHuman(ctx, tx, a.User.ID)
		if err != nil {
			return err
		}
		applyClaims(&m.User, &m.Profile, info)
		if err := tx.UpdateUser(ctx, m.User); err != nil {
			return notFound(err, "update user")
		}
		return notFound(tx.PutIAMProfile(ctx, m.Profile), "update iam profile")
	})
}
