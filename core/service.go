package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// SMSSender delivers a text message to an E.164 number.
type SMSSender interface {
	SendSMS(ctx context.Context, to, message string) error
}

// Config holds the service's dependencies. Clock and Rand are injected so
// TOTP windows and code expiries are tested exactly, without sleeping.
type Config struct {
	Store Store
	Box   *SecretBox
	SMS   SMSSender
	Now   func() time.Time // default time.Now
	Rand  io.Reader        // default crypto/rand.Reader
	// Identity is an external OpenID Connect provider whose access tokens
	// AuthenticateBearer accepts; nil for none (external.go).
	Identity IdentityProvider
	// ClientKeys reads the keys and assertions of clients that
	// authenticate with a key (clientkeys.go); nil: none may.
	ClientKeys ClientKeys
	// Clients knows which OAuth clients exist, for the per-client
	// preferences (ClientPreferences). Optional: without it, only the
	// token's own namespace and PersonalNamespace exist.
	Clients ClientDirectory
	// Events receives the security events (events.go); nil for none.
	Events EventSink
	// EventsOutbox also writes each security event into the outbox, in
	// the transaction of its change, for RunOutbox to deliver (the
	// webhook). Off, nothing is queued: no one would take it out.
	EventsOutbox bool
	// Mail queues the mails of the security notifications in the outbox
	// (OutboxMail), for a worker that sends them; off, none are queued.
	Mail bool
	// Signup lets anyone make an account (POST /auth/signup), when mail is
	// on to verify their address.
	Signup bool
	// PublicURL is the scheme and host users reach profiled at, for the
	// links of mails (recovery); without it, no mail carries a link.
	PublicURL string
	// PasswordCost lowers the cost of password hashes, for tests only
	// (internal/testenv.FastPasswords); nil, as cmd/profiled leaves it, is
	// ProductionPasswordCost.
	PasswordCost *PasswordCost
	// Quotas bound the objects one user or account keeps; zero fields
	// are DefaultQuotas.
	Quotas Quotas
	// Logouts says this process runs a worker of OutboxLogout, to wake
	// at each commit that queues a logout. Logouts are queued either way
	// (logout.go): the server's worker takes those a command line queued.
	Logouts bool
	// Registration lets applications register themselves (RFC 7591,
	// registration.go); off, only the operator and accounts register.
	Registration bool
}

// Service enforces every rule of the account domain, once, for all faces.
type Service struct {
	store Store
	box   *SecretBox
	sms   SMSSender
	now   func() time.Time
	rand  io.Reader
	idp   IdentityProvider

	clients    ClientDirectory // may be nil
	clientKeys ClientKeys      // may be nil
	cost       PasswordCost
	events     EventSink // may be nil
	outbox     bool      // Config.EventsOutbox
	mail       bool      // Config.Mail
	// wake tells this process's outbox workers of a commit that queued
	// work for them; nil without an outbox (outbox.go).
	wake *outboxWake
	// publicURL is Config.PublicURL, without a trailing slash.
	publicURL string
	signup    bool // Config.Signup
	// registration is Config.Registration.
	registration bool
	quotas       Quotas
	// parsedKeys holds the signing keys opened so far, by id (idtoken.go).
	parsedKeys sync.Map
	firstKey   sync.Mutex // held while this process makes the first signing key
}

// New builds a Service.
func New(c Config) *Service {
	s := &Service{store: c.Store, box: c.Box, sms: c.SMS, now: c.Now, rand: c.Rand, idp: c.Identity, clients: c.Clients,
		clientKeys: c.ClientKeys, cost: ProductionPasswordCost, events: c.Events, outbox: c.EventsOutbox, mail: c.Mail,
		publicURL: strings.TrimRight(c.PublicURL, "/"), signup: c.Signup, quotas: c.Quotas.withDefaults(),
		registration: c.Registration}
	if c.PasswordCost != nil {
		s.cost = *c.PasswordCost
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.outbox || s.mail || c.Logouts {
		s.wake = newOutboxWake()
		s.store = wakingStore{Store: s.store, wake: s.wake}
	}
	return s
}

// Store returns the service's store, for health checks and tooling.
func (s *Service) Store() Store { return s.store }

// Actor is the authenticated caller of an operation: a user acting through one token.
type Actor struct {
	User  User
	Token Token
}

// Authenticate resolves a raw bearer token to its actor, for profiled's
// own API. Every failure (malformed, unknown, expired, revoked, user gone,
// a token for another resource server: resource.go) is the same
// Unauthorized.
func (s *Service) Authenticate(ctx context.Context, raw string) (Actor, error) {
	a, err := s.authenticate(ctx, raw)
	if err == nil && !s.forThisServer(a.Token) {
		return Actor{}, Unauthorized()
	}
	return a, err
}

// authenticate is Authenticate for a token of any resource.
func (s *Service) authenticate(ctx context.Context, raw string) (Actor, error) {
	if len(raw) == 0 || len(raw) > 512 {
		return Actor{}, Unauthorized()
	}
	t, u, err := s.store.TokenByHash(ctx, HashToken(raw))
	if errors.Is(err, ErrNotFound) {
		return Actor{}, Unauthorized()
	}
	if err != nil {
		return Actor{}, fmt.Errorf("authenticate: %w", err)
	}
	if !t.Active(s.now()) || u.Disabled {
		return Actor{}, Unauthorized()
	}
	return Actor{User: u, Token: t}, nil
}

// HashToken is how every high-entropy secret (tokens, scratch codes) is stored.
func HashToken(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}

// newSecret returns n random bytes as lowercase hex (2n characters).
func (s *Service) newSecret(n int) (string, error) {
	b, err := s.random(n)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// random reads n bytes of the service's random source.
func (s *Service) random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	return b, nil
}

// require checks that the actor's token grants level on category. A
// missing scope is KindForbidden with Required set (the token is good, its
// scopes are not enough); each face words it as its API does (the Linode
// API answers 401).
func require(a Actor, category, level string) error {
	if a.Token.Scopes.Allows(category, level) {
		return nil
	}
	scope := Scope(category, level)
	return &Error{Kind: KindForbidden, Reason: "Your OAuth token is not authorized to use this endpoint. It needs " + scope + ".", Required: scope}
}

// mustRead and mustWrite are the two checks of the account category that
// every /profile operation but GET /profile and grants needs.
func mustRead(a Actor) error  { return require(a, "account", ReadOnly) }
func mustWrite(a Actor) error { return require(a, "account", ReadWrite) }

// notFound maps a store's ErrNotFound to the domain's NotFound and wraps anything else.
func notFound(err error, what string) error {
	if errors.Is(err, ErrNotFound) {
		return NotFound()
	}
	if err != nil && AsError(err) == nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return err
}

// truncate to whole seconds: the wire shows seconds, and stores keep what we show.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Second) }

// attempt consumes one attempt from a rate-limited budget in its own
// committed transaction, before the guessed code is checked: concurrent
// guesses on any number of replicas draw from one counter. A success
// resets it (clearAttempts).
func (s *Service) attempt(ctx context.Context, key string, limit int, window time.Duration) error {
	var count int
	var reset time.Time
	now := s.now()
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		count, reset, err = tx.HitLimit(ctx, key, window, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	if count > limit {
		wait := reset.Sub(now)
		if wait < time.Second {
			wait = time.Second
		}
		return TooManyRequests(wait)
	}
	return nil
}

func clearAttempts(ctx context.Context, tx Tx, key string) error { return tx.ResetLimit(ctx, key) }

// Rate limits on guessable codes.
const (
	codeAttempts = 5                // tries of a TOTP or SMS code per window
	codeWindow   = 15 * time.Minute // the window; it starts at the first try
)
