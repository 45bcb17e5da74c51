// Package oidc lets profiled trust an external OpenID Connect provider. It
// implements core.IdentityProvider: it verifies the provider's JWT access
// tokens with github.com/coreos/go-oidc/v3 (discovery, and a remote key
// set that fetches the provider's keys again when a token names a key it
// has not seen, so key rotation needs no restart), and asks the provider's
// userinfo endpoint with the access token through golang.org/x/oauth2.
//
// Access tokens must be JWTs (RFC 9068) signed with an algorithm the
// provider's discovery document lists, with profiled's audience in aud,
// the provider's issuer in iss, and an exp in the future.
package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/profiled/profiled/core"
)

// ClaimMap names the claims profiled reads a user's profile from. Each
// field is the name of a claim in the provider's access tokens and
// userinfo answers.
type ClaimMap struct {
	Username      string // a username suggestion for the user made on first use
	Email         string
	EmailVerified string
	FirstName     string
	LastName      string
	Picture       string
	Scopes        string // space-separated, or an array of strings
}

// DefaultClaimMap uses the standard claims of OpenID Connect Core 1.0
// (section 5.1) and the scope claim of RFC 9068.
func DefaultClaimMap() ClaimMap {
	return ClaimMap{Username: "preferred_username", Email: "email", EmailVerified: "email_verified",
		FirstName: "given_name", LastName: "family_name", Picture: "picture", Scopes: "scope"}
}

// claimKeys are the names ParseClaimMap accepts, as the JSON of the IAM face calls them.
var claimKeys = []string{"username", "email", "email_verified", "first_name", "last_name", "picture", "scopes"}

func (m *ClaimMap) field(key string) *string {
	switch key {
	case "username":
		return &m.Username
	case "email":
		return &m.Email
	case "email_verified":
		return &m.EmailVerified
	case "first_name":
		return &m.FirstName
	case "last_name":
		return &m.LastName
	case "picture":
		return &m.Picture
	case "scopes":
		return &m.Scopes
	}
	return nil
}

// ParseClaimMap reads "key=claim,key=claim" over the defaults, for
// example "username=nickname,first_name=name". The keys are username,
// email, email_verified, first_name, last_name, picture and scopes.
func ParseClaimMap(s string) (ClaimMap, error) {
	m := DefaultClaimMap()
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, claim, ok := strings.Cut(part, "=")
		key, claim = strings.TrimSpace(key), strings.TrimSpace(claim)
		f := m.field(key)
		if !ok || f == nil || claim == "" {
			return ClaimMap{}, fmt.Errorf("%q is not key=claim with a key among %s", part, strings.Join(claimKeys, ", "))
		}
		*f = claim
	}
	return m, nil
}

// Config describes the provider to trust.
type Config struct {
	// Name is the provider's name, the authentication_type of the users it
	// brings: 1 to 32 lower-case letters, digits, '.', '_' or '-'.
	Name string
	// Issuer is the provider's issuer URL, where discovery starts.
	Issuer string
	// Audience must be among a token's audiences: the identifier of
	// profiled's API at the provider.
	Audience string
	// Claims maps profile fields to claims; the zero value is DefaultClaimMap.
	Claims ClaimMap
	// DefaultScopes are what a token may do when its scope claim names no
	// profiled scope (<category>:read_only|read_write); the zero value is
	// account:read_write. Scopes the claim names replace them.
	DefaultScopes core.Scopes
	// HTTPClient talks to the provider; nil is a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock for token expiry; nil is time.Now.
	Now func() time.Time
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// Provider is a configured external OpenID Connect provider.
type Provider struct {
	cfg    Config
	client *http.Client

	mu       sync.Mutex
	prov     *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
	failedAt time.Time
	failure  error
}

var _ core.IdentityProvider = (*Provider)(nil)

// retryAfter is how long a failed discovery is remembered before the
// next request tries again, so an unreachable provider is not asked by
// every request.
const retryAfter = 5 * time.Second

// New checks the configuration. It does not contact the provider: the
// first request that needs it does (or Discover).
func New(cfg Config) (*Provider, error) {
	if !namePattern.MatchString(cfg.Name) || cfg.Name == "password" || cfg.Name == "service_account" {
		return nil, errors.New("the provider name must be 1 to 32 lower-case letters, digits, '.', '_' or '-', and not password or service_account")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("the issuer must be an absolute https:// URL (http:// for a provider on this machine), without query or fragment")
	}
	if strings.TrimSpace(cfg.Audience) == "" {
		return nil, errors.New("the audience is required: the identifier of profiled's API at the provider, which its access tokens carry in aud")
	}
	if cfg.Claims == (ClaimMap{}) {
		cfg.Claims = DefaultClaimMap()
	}
	if cfg.DefaultScopes == "" {
		cfg.DefaultScopes = core.Scopes(core.Scope("account", core.ReadWrite))
	}
	if cfg.DefaultScopes, err = core.ParseScopes(string(cfg.DefaultScopes)); err != nil {
		return nil, fmt.Errorf("default scopes: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Provider{cfg: cfg, client: client}, nil
}

// Name is the provider's name.
func (p *Provider) Name() string { return p.cfg.Name }

// Discover fetches the provider's discovery document, if it has not yet,
// and reports whether that worked.
func (p *Provider) Discover(ctx context.Context) error {
	_, _, err := p.discovered(ctx)
	return err
}

func (p *Provider) discovered(ctx context.Context) (*gooidc.Provider, *gooidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.prov != nil {
		return p.prov, p.verifier, nil
	}
	if p.failure != nil && time.Since(p.failedAt) < retryAfter {
		return nil, nil, p.failure
	}
	prov, err := gooidc.NewProvider(gooidc.ClientContext(ctx, p.client), p.cfg.Issuer)
	if err != nil {
		p.failedAt, p.failure = time.Now(), fmt.Errorf("oidc: discovery at %s: %w", p.cfg.Issuer, err)
		return nil, nil, p.failure
	}
	// The key set outlives this request: it gets a context of its own,
	// which only carries the HTTP client.
	keys := gooidc.ClientContext(context.Background(), p.client)
	p.prov = prov
	p.verifier = prov.VerifierContext(keys, &gooidc.Config{ClientID: p.cfg.Audience, Now: p.cfg.Now})
	p.failure = nil
	return p.prov, p.verifier, nil
}

// Verify checks an access token and returns whom it names. Any token the
// provider did not sign for profiled, or that has expired, is
// core.Unauthorized; an unreachable provider is another error.
func (p *Provider) Verify(ctx context.Context, raw string) (core.ExternalIdentity, error) {
	_, v, err := p.discovered(ctx)
	if err != nil {
		return core.ExternalIdentity{}, err
	}
	tok, err := v.Verify(ctx, raw)
	if err != nil || tok.Subject == "" {
		return core.ExternalIdentity{}, core.Unauthorized()
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return core.ExternalIdentity{}, core.Unauthorized()
	}
	c := p.profile(claims)
	c.Subject = tok.Subject
	return core.ExternalIdentity{Subject: tok.Subject, Expiry: tok.Expiry, Scopes: p.scopes(claims), Claims: c}, nil
}

// UserInfo asks the provider's userinfo endpoint about the token's
// subject. A token the provider refuses is core.Unauthorized.
func (p *Provider) UserInfo(ctx context.Context, raw string) (core.ExternalClaims, error) {
	prov, _, err := p.discovered(ctx)
	if err != nil {
		return core.ExternalClaims{}, err
	}
	info, err := prov.UserInfo(gooidc.ClientContext(ctx, p.client), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: raw, TokenType: "Bearer"}))
	if err != nil {
		// go-oidc reports the status first: "401 Unauthorized: ...".
		if strings.HasPrefix(err.Error(), "401 ") || strings.HasPrefix(err.Error(), "403 ") {
			return core.ExternalClaims{}, core.Unauthorized()
		}
		return core.ExternalClaims{}, fmt.Errorf("oidc: userinfo: %w", err)
	}
	var claims map[string]any
	if err := info.Claims(&claims); err != nil {
		return core.ExternalClaims{}, fmt.Errorf("oidc: userinfo: %w", err)
	}
	c := p.profile(claims)
	c.Subject = info.Subject
	if c.Subject == "" {
		return core.ExternalClaims{}, errors.New("oidc: userinfo: the answer has no sub")
	}
	return c, nil
}

// profile reads the mapped claims; a claim of the wrong type is ignored.
func (p *Provider) profile(claims map[string]any) core.ExternalClaims {
	str := func(name string) string {
		s, _ := claims[name].(string)
		return s
	}
	m := p.cfg.Claims
	c := core.ExternalClaims{Username: str(m.Username), Email: str(m.Email), FirstName: str(m.FirstName),
		LastName: str(m.LastName), Picture: str(m.Picture)}
	switch v := claims[m.EmailVerified].(type) {
	case bool:
		c.EmailVerified = v
	case string: // some providers send "true"
		c.EmailVerified = v == "true"
	}
	return c
}

// scopes keeps the profiled scopes of the token's scope claim; a token
// with none gets DefaultScopes.
func (p *Provider) scopes(claims map[string]any) core.Scopes {
	var entries []string
	switch v := claims[p.cfg.Claims.Scopes].(type) {
	case string:
		entries = strings.Fields(v)
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				entries = append(entries, s)
			}
		}
	}
	var kept []string
	for _, e := range entries {
		if _, err := core.ParseScopes(e); err == nil && strings.Contains(e, ":") && !slices.Contains(kept, e) {
			kept = append(kept, e)
		}
	}
	if len(kept) == 0 {
		return p.cfg.DefaultScopes
	}
	s, err := core.ParseScopes(strings.Join(kept, " "))
	if err != nil {
		return p.cfg.DefaultScopes
	}
	return s
}
