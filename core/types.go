package core

import (
	"encoding/json"
	"time"
)

// User is a person (or, later, a service account) who owns everything else.
type User struct {
	ID                  int64
	AccountID           int64 // the account the user belongs to
	Username            string
	Email               string
	Timezone            string
	EmailNotifications  bool
	IPWhitelistEnabled  bool
	LishAuthMethod      string // password_keys | keys_only | disabled
	AuthorizedKeys      []string
	Restricted          bool
	TwoFactorAuth       bool
	AuthenticationType  string // password | github | an OIDC provider's name
	VerifiedPhoneNumber string // E.164, empty if none
	ReferralCode        string
	Created             time.Time
	// Disabled users cannot sign in and their tokens are refused, until
	// an operator enables them (profiled users enable).
	Disabled bool
}

// Lish authentication methods.
const (
	LishPasswordKeys = "password_keys"
	LishKeysOnly     = "keys_only"
	LishDisabled     = "disabled"
)

// SSHKey is a public key a user keeps in their profile.
type SSHKey struct {
	ID          int64
	UserID      int64
	Label       string
	Key         string // byte-identical to what the user sent
	Fingerprint string // SHA256 fingerprint; one user may not store the same key twice
	Created     time.Time
}

// TokenKind tells how a token came to be.
type TokenKind string

const (
	TokenPersonal TokenKind = "personal" // a personal access token (POST /profile/tokens, CLI)
	TokenSession  TokenKind = "session"  // a sign-in session
	TokenOAuth    TokenKind = "oauth"    // issued to an OAuth client through an authorization
)

// Token is a bearer credential. Only the SHA-256 of the secret is stored.
type Token struct {
	ID       int64
	UserID   int64
	Kind     TokenKind
	Label    string
	Scopes   Scopes
	Created  time.Time
	Expiry   *time.Time // nil: never expires
	Prefix   string     // the first 16 characters, shown in lists
	Hash     []byte     // SHA-256 of the raw token
	ClientID string     // the OAuth client whose preferences namespace it uses; "" for personal tokens
	AppID    int64      // the authorization it belongs to, for OAuth tokens
	// AuthMethods are how a session's user proved who they were; ""
	// for other tokens, and sessions made before profiled kept it.
	AuthMethods AuthMethods
	// Resource is the audience of an OAuth access token (RFC 8707,
	// resource.go): the resource server it is for; "" for any.
	Resource string
}

// AuthMethods are the ways a user proved who they were at a sign-in,
// as RFC 8176 names them (an ID token's amr), space-separated as kept.
type AuthMethods string

// The ways of a sign-in: the password alone (a trusted device skips the
// second factor, and so counts none), or with a one-time code, TOTP or
// scratch.
const (
	AuthPassword           AuthMethods = "pwd"
	AuthPasswordAndOneTime AuthMethods = "pwd otp mfa"
)

// Active reports whether the token may be used at now.
func (t Token) Active(now time.Time) bool { return t.Expiry == nil || now.Before(*t.Expiry) }

// App is a third-party OAuth application a user has authorized.
type App struct {
	ID           int64
	UserID       int64
	ClientID     string
	Label        string
	Scopes       Scopes
	Website      string
	ThumbnailURL string // empty: none
	Created      time.Time
	Expiry       *time.Time
	// SID is the sid of the sign-in session the user approved it in
	// (logout.go), "" for one made before profiled kept it.
	SID string
	// Issuer is the iss of the ID tokens its client got at the exchange,
	// which its logout tokens name too ("" before profiled kept it).
	Issuer string
	// SessionBound: its tokens end with the sign-in session SID, as an
	// OpenID Connect sign-in without offline_access should (Core 11,
	// Back-Channel Logout 2.7): none expires after the session, and
	// signing out of it, or any other end of it, revokes them.
	SessionBound bool
	// Resource is the resource server its tokens are for (RFC 8707,
	// resource.go); "" for any.
	Resource string
}

// Device is a trusted ("remember me") browser session.
type Device struct {
	ID                int64
	UserID            int64
	Created           time.Time
	Expiry            time.Time
	LastAuthenticated time.Time
	LastRemoteAddr    string
	UserAgent         string
}

// Login is one sign-in attempt.
type Login struct {
	ID         int64
	UserID     int64
	AccountID  int64
	Datetime   time.Time
	IP         string
	Username   string
	Status     string // successful | failed
	Restricted bool
}

// Login statuses.
const (
	LoginSuccessful = "successful"
	LoginFailed     = "failed"
)

// SecurityAnswer is a user's answer to one catalogue question, encrypted at rest.
type SecurityAnswer struct {
	QuestionID int
	AnswerEnc  []byte
}

// TFAState is a user's two-factor configuration as the store keeps it.
// Secrets are AES-GCM ciphertexts; the core alone can read them.
type TFAState struct {
	SecretEnc        []byte    // the confirmed secret; nil when TFA is off
	PendingSecretEnc []byte    // the secret from tfa-enable awaiting confirmation
	PendingExpiry    time.Time // when the pending secret stops being confirmable
	LastStep         int64     // the last TOTP time step accepted; a step is never accepted twice
}

// PhoneVerification is an SMS code sent and not yet verified.
type PhoneVerification struct {
	Phone   string // E.164
	ISOCode string
	CodeEnc []byte // encrypted, because asking again before expiry re-sends the same code
	Expiry  time.Time
}

// Grants is what a restricted user may do, stored and returned as-is
// (the GrantsResponse of the Linode API). It is JSON validated by the core.
type Grants = json.RawMessage
