package core

import (
	"context"
	"time"
)

// This file holds what sign-in and the OAuth authorization server need
// from a store, apart from the profile's own methods in store.go: password
// hashes, trusted devices' secrets, login challenges, OAuth clients,
// authorization codes and refresh tokens. Every secret arrives hashed by
// the core (SHA-256 for random secrets, argon2id for passwords).

// OAuthClient is a third-party application an operator registered.
type OAuthClient struct {
	ID           string   // public, random hex
	SecretHash   []byte   // SHA-256 of the secret; nil for a public client
	Label        string   // shown on the consent page and as the app's label
	Website      string   // an absolute http(s) URL
	ThumbnailURL string   // empty: none
	RedirectURIs []string // exact-match redirect URIs, at least one
	Public       bool     // a client that cannot keep a secret: PKCE (S256) is required
	// FirstParty marks the platform's own application (its console): its
	// tokens are trusted as a sign-in session is (see Service.delegated).
	FirstParty bool
	Created    time.Time
	// AccountID is the account that registered the client through the
	// Linode API (/account/oauth-clients); 0 for the operator's clients.
	AccountID int64
	// Status is active, or disabled: a disabled client is refused at
	// /oauth/authorize and /oauth/token.
	Status string
	// HasThumbnail reports a stored thumbnail (read only: the store
	// sets it, SetOAuthClientThumbnail changes it).
	HasThumbnail bool
	// BackchannelLogoutURI is where the client takes logout tokens
	// (OpenID Connect Back-Channel Logout 1.0); "" for none.
	BackchannelLogoutURI string
	// DeviceGrant allows the client the device authorization grant
	// (RFC 8628, device.go), which the operator turns on.
	DeviceGrant bool
	// RequirePushed refuses the client's authorization requests that do
	// not come by a request_uri (RFC 9126 6, par.go).
	RequirePushed bool
	// RequireMFA has a user approve the client's requests only from a
	// session signed in with a second factor (stepup.go).
	RequireMFA bool
	// Registered is a client that registered itself (registration.go):
	// the consent page says no one checked who runs it.
	Registered bool
	// JWKS is the JWK Set of the public keys the client authenticates
	// with (private_key_jwt, clientkeys.go); "" for none. A client with
	// keys authenticates with them only.
	JWKS string
	// JWKSURI is where the client publishes that key set instead (RFC
	// 7591 2), so that it rotates its keys itself; "" for none. A client
	// has JWKS or JWKSURI, never both.
	JWKSURI string
}

// Keyed reports whether the client authenticates with keys (JWKS or
// JWKSURI) rather than a secret.
func (c OAuthClient) Keyed() bool { return c.JWKS != "" || c.JWKSURI != "" }

// OAuth client statuses.
const (
	OAuthClientActive   = "active"
	OAuthClientDisabled = "disabled"
)

// LoginChallenge is the state between a correct password and the second
// factor: the challenge id is random, and only its SHA-256 is stored.
type LoginChallenge struct {
	Hash      []byte
	UserID    int64
	Remember  bool // the sign-in asked to trust the device
	Created   time.Time
	Expiry    time.Time
	IP        string
	UserAgent string
}

// AuthCode is an OAuth authorization code (RFC 6749 4.1) awaiting exchange.
type AuthCode struct {
	Hash        []byte // SHA-256 of the code
	ClientID    string
	UserID      int64
	RedirectURI string
	Scopes      Scopes
	Challenge   string      // the PKCE code_challenge (RFC 7636), "" if none
	Nonce       string      // OpenID Connect's nonce, for the ID token; "" if none
	AuthTime    time.Time   // when the user signed in to approve it, for the ID token
	AuthMethods AuthMethods // how they signed in, for the ID token's amr
	Resource    string      // the resource its tokens are for (resource.go); "" for any
	SID         string      // the sid of the session that approved it (logout.go)
	Created     time.Time
	Expiry      time.Time
	Used        bool
	AppID       int64 // the authorization the exchange created; 0 before
}

// DeviceCode is a device authorization request (RFC 8628) awaiting the
// user's decision and the device's poll.
type DeviceCode struct {
	Hash     []byte // SHA-256 of the device_code
	UserCode []byte // SHA-256 of the user code, without its dash
	ClientID string
	Scopes   Scopes // asked for
	Created  time.Time
	Expiry   time.Time
	// Interval is how long the device waits between polls; each poll
	// sooner than that adds DeviceSlowDown (slow_down).
	Interval time.Duration
	Status   string // a DeviceCode* status
	// Once decided: the user, the scopes they granted, and the session
	// and sign-in time of the approval, as an AuthCode has them.
	UserID      int64
	Granted     Scopes
	SID         string
	AuthTime    time.Time
	AuthMethods AuthMethods
	AppID       int64  // the authorization the tokens made; 0 before
	Resource    string // the resource its tokens are for (resource.go); "" for any
}

// PushedAuthorization is an authorization request a client pushed
// (RFC 9126), awaiting the browser at the authorization endpoint.
type PushedAuthorization struct {
	Hash     []byte // SHA-256 of the request_uri
	ClientID string
	Params   map[string]string // the request's parameters
	Created  time.Time
	Expiry   time.Time
}

// Device code statuses.
const (
	DeviceCodePending  = "pending"
	DeviceCodeApproved = "approved"
	DeviceCodeDenied   = "denied"
	DeviceCodeUsed     = "used"
)

// RefreshToken is an OAuth refresh token. Each is used once: refreshing
// marks it used and issues a new one; presenting a used one again revokes
// the whole authorization (RFC 6819 5.2.2.3, OAuth 2.1 4.3.1).
type RefreshToken struct {
	Hash     []byte
	UserID   int64
	AppID    int64
	ClientID string
	Scopes   Scopes
	Created  time.Time
	Expiry   time.Time
	Used     bool
}

// AuthReader holds the queries of sign-in and OAuth.
type AuthReader interface {
	// PasswordHash returns the user's password hash (a PHC string), or
	// ErrNotFound if the user has none (or does not exist).
	PasswordHash(ctx context.Context, userID int64) (string, error)
	// DeviceBySecret returns the user's device whose secret has this
	// SHA-256, expired or not, or ErrNotFound.
	DeviceBySecret(ctx context.Context, userID int64, secretHash []byte) (Device, error)
	// LoginChallenge returns the challenge with this hash, expired or not, or ErrNotFound.
	LoginChallenge(ctx context.Context, hash []byte) (LoginChallenge, error)
	// OAuthClient returns a registered client, or ErrNotFound.
	OAuthClient(ctx context.Context, clientID string) (OAuthClient, error)
	// AuthCode returns the code with this hash, used or not, or ErrNotFound.
	AuthCode(ctx context.Context, hash []byte) (AuthCode, error)
	// PushedAuthorization returns the pushed request with this hash,
	// expired or not, or ErrNotFound.
	PushedAuthorization(ctx context.Context, hash []byte) (PushedAuthorization, error)
	// DeviceCodeByUserCode returns the device code whose user code has
	// this SHA-256, in any status, expired or not, or ErrNotFound.
	DeviceCodeByUserCode(ctx context.Context, userCodeHash []byte) (DeviceCode, error)
	// RefreshToken returns the refresh token with this hash, used or not,
	// or ErrNotFound (also once its authorization is revoked).
	RefreshToken(ctx context.Context, hash []byte) (RefreshToken, error)
	// PeekLimit returns key's counter as HitLimit left it, without
	// counting: 0 and the zero time when there is none or its window
	// ended at or before now.
	PeekLimit(ctx context.Context, key string, now time.Time) (count int, resetAt time.Time, err error)
	// SigningKeys returns every ID token signing key, newest first (by
	// Created, then by ID).
	SigningKeys(ctx context.Context) ([]StoredSigningKey, error)
	// LoggedInApps returns the user's authorizations approved in the
	// session sid, unexpired at now, whose clients have a
	// BackchannelLogoutURI.
	LoggedInApps(ctx context.Context, userID int64, sid string, now time.Time) ([]App, error)
}

// AuthWriter holds the changes of sign-in and OAuth.
type AuthWriter interface {
	// SetPasswordHash sets or replaces the user's password hash, set at
	// at (the zero time keeps the time stored, for a rehash);
	// ErrNotFound for a missing user.
	SetPasswordHash(ctx context.Context, userID int64, phc string, at time.Time) error
	// CreateTrustedDevice stores d (setting d.ID) with the SHA-256 of the
	// secret kept in the device's cookie; ErrDuplicate on a repeated hash.
	CreateTrustedDevice(ctx context.Context, d *Device, secretHash []byte) error
	// TouchDevice records a sign-in through the device; ErrNotFound if it is gone.
	TouchDevice(ctx context.Context, userID, id int64, at time.Time, remoteAddr, userAgent string) error
	// CreateLoginChallenge stores c, and forgets challenges that expired
	// before c.Created.
	CreateLoginChallenge(ctx context.Context, c LoginChallenge) error
	// DeleteLoginChallenge forgets a challenge; ErrNotFound if there is none,
	// so that of two concurrent uses only one succeeds.
	DeleteLoginChallenge(ctx context.Context, hash []byte) error
	// CreateOAuthClient stores c; ErrDuplicate on a taken id.
	CreateOAuthClient(ctx context.Context, c OAuthClient) error
	// CreateAuthCode stores c, and forgets codes that expired before c.Created.
	CreateAuthCode(ctx context.Context, c AuthCode) error
	// ClaimAuthCode marks an unused code used by the authorization appID;
	// ErrNotFound if there is no such code or it was already used.
	ClaimAuthCode(ctx context.Context, hash []byte, appID int64) error
	// CreatePushedAuthorization stores p, and forgets pushed requests
	// that expired before p.Created.
	CreatePushedAuthorization(ctx context.Context, p PushedAuthorization) error
	// DeletePushedAuthorization forgets a pushed request; ErrNotFound if
	// there is none, so that of two uses only one succeeds.
	DeletePushedAuthorization(ctx context.Context, hash []byte) error
	// SpendClientAssertion records that the client used the assertion
	// whose jti has this hash, kept until expiry; ErrDuplicate if it was
	// used already. It forgets those that expired before now.
	SpendClientAssertion(ctx context.Context, clientID string, jtiHash []byte, expiry, now time.Time) error
	// CreateDeviceCode stores d, pollable at once, and forgets device
	// codes that expired before d.Created; ErrDuplicate when its hash or
	// its user code is taken.
	CreateDeviceCode(ctx context.Context, d DeviceCode) error
	// DecideDeviceCode records the user's decision (d.Status approved or
	// denied, with d.UserID, d.Granted, d.SID, d.AuthTime) on the pending
	// device code with d.UserCode unexpired at now; ErrNotFound if there
	// is none, so that of two decisions only one counts.
	DecideDeviceCode(ctx context.Context, d DeviceCode, now time.Time) error
	// PollDeviceCode records a poll of the device code with this hash at
	// now and returns it; soon reports a poll before the interval since
	// the last one had passed, which also adds slowDown (whole seconds) to
	// the interval. ErrNotFound if there is no such code.
	PollDeviceCode(ctx context.Context, hash []byte, now time.Time, slowDown time.Duration) (d DeviceCode, soon bool, err error)
	// ClaimDeviceCode marks an approved device code used by the
	// authorization appID; ErrNotFound if it is not approved (or was
	// used already).
	ClaimDeviceCode(ctx context.Context, hash []byte, appID int64) error
	// CreateRefreshToken stores r; ErrNotFound if its authorization is gone.
	CreateRefreshToken(ctx context.Context, r RefreshToken) error
	// ClaimRefreshToken marks an unused refresh token used; ErrNotFound if
	// there is no such token or it was already used.
	ClaimRefreshToken(ctx context.Context, hash []byte) error
	// CreateSigningKey stores k; ErrDuplicate on a taken id.
	CreateSigningKey(ctx context.Context, k StoredSigningKey) error
	// DeleteSigningKey forgets a signing key; ErrNotFound if there is none.
	DeleteSigningKey(ctx context.Context, id string) error
	// DeleteExpired deletes at most limit rows of each kind whose expiry
	// is before t: tokens, refresh tokens, authorizations (with whatever
	// was issued under them), trusted devices, and the HitLimit counters
	// whose window ended. It returns how many rows it deleted in all.
	DeleteExpired(ctx context.Context, t time.Time, limit int) (int64, error)
}
