package core

import (
	"context"
	"encoding/json"
	"time"
)

// Store is what the core needs from a database. Each backend (SQLite,
// PostgreSQL) implements it in its own package and passes the conformance
// suite in store/storetest. Methods return ErrNotFound for missing rows and
// ErrDuplicate for unique-constraint violations; everything else is internal.
//
// Every read and write is scoped by user id: a store never returns another
// user's object, so "not yours" and "absent" are the same answer.
type Store interface {
	Reader
	// Update runs fn in one write transaction and commits it if fn returns
	// nil. It retries fn, a bounded number of times, when the backend
	// reports a serialization failure, so fn must be free of side effects
	// outside the transaction. fn may run on another goroutine than the
	// caller's (store/sqlite runs every fn on its committer's); a panic in
	// fn still reaches the caller.
	Update(ctx context.Context, fn func(Tx) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// Tx is a write transaction: reads see its own writes.
type Tx interface {
	Reader
	Writer
}

// Reader holds the queries.
type Reader interface {
	AuthReader    // sign-in and OAuth: store_auth.go
	IAMReader     // the IAM face's data (store_iam.go)
	OutboxReader  // work after a change (store_outbox.go)
	AccountReader // accounts and their users (store_accounts.go)

	CountUsers(ctx context.Context) (int, error)
	UserByID(ctx context.Context, id int64) (User, error)
	UserByUsername(ctx context.Context, username string) (User, error)
	// TokenByHash is the hot path of every request: one indexed lookup that
	// returns the token and its user together.
	TokenByHash(ctx context.Context, hash []byte) (Token, User, error)

	SSHKey(ctx context.Context, userID, id int64) (SSHKey, error)
	ListSSHKeys(ctx context.Context, userID int64, q ListQuery) ([]SSHKey, int, error)

	Token(ctx context.Context, userID, id int64) (Token, error)
	ListTokens(ctx context.Context, userID int64, q ListQuery) ([]Token, int, error)

	App(ctx context.Context, userID, id int64) (App, error)
	ListApps(ctx context.Context, userID int64, q ListQuery) ([]App, int, error)

	Device(ctx context.Context, userID, id int64) (Device, error)
	ListDevices(ctx context.Context, userID int64, q ListQuery) ([]Device, int, error)

	Login(ctx context.Context, userID, id int64) (Login, error)
	ListLogins(ctx context.Context, userID int64, q ListQuery) ([]Login, int, error)

	// Preferences returns the stored JSON object, or ErrNotFound if none was ever stored.
	Preferences(ctx context.Context, userID int64, clientID string) (json.RawMessage, error)
	SecurityAnswers(ctx context.Context, userID int64) ([]SecurityAnswer, error)
	TFA(ctx context.Context, userID int64) (TFAState, error)
	// ScratchCodes returns the hashes of the user's unused scratch codes.
	ScratchCodes(ctx context.Context, userID int64) ([][]byte, error)
	// PhoneVerification returns the pending verification, or ErrNotFound.
	PhoneVerification(ctx context.Context, userID int64) (PhoneVerification, error)
	// Grants returns the stored grants of a restricted user, or ErrNotFound.
	Grants(ctx context.Context, userID int64) (Grants, error)
}

// Writer holds the changes. They are only reachable inside Store.Update.
type Writer interface {
	AuthWriter    // sign-in and OAuth: store_auth.go
	IAMWriter     // the IAM face's data (store_iam.go)
	OutboxWriter  // work after a change (store_outbox.go)
	AccountWriter // accounts and their users (store_accounts.go)

	// LockUser serializes write transactions on one user across every
	// replica (SELECT ... FOR UPDATE on PostgreSQL; SQLite already
	// serializes writers). Services call it first in every per-user rule
	// that reads before it writes, and it returns the user's row as
	// locked, so that the rule need not read it again. ErrNotFound if the
	// user is gone.
	LockUser(ctx context.Context, userID int64) (User, error)

	// CreateUser stores u and sets u.ID; an AccountID of 0 gives the user
	// a new account of their own, whose id it sets. ErrDuplicate on a
	// taken username, ErrNotFound for a missing account.
	CreateUser(ctx context.Context, u *User) error
	UpdateUser(ctx context.Context, u User) error // every field but ID, AccountID and Created; ErrDuplicate on a taken username

	// CreateSSHKey stores k (a key may be stored more than once). The
	// store may send it with the transaction's next statement or its
	// commit, which then fail if it does (ErrNotFound for a missing
	// user), and learn its id only then: k.ID is set by the time Update
	// returns nil, and fn must not read it.
	CreateSSHKey(ctx context.Context, k *SSHKey) error
	// UpdateSSHKeyLabel renames the key and returns it as it is now, in
	// one statement.
	UpdateSSHKeyLabel(ctx context.Context, userID, id int64, label string) (SSHKey, error)
	DeleteSSHKey(ctx context.Context, userID, id int64) error

	CreateToken(ctx context.Context, t *Token) error // sets t.ID
	UpdateTokenLabel(ctx context.Context, userID, id int64, label string) error
	// SetSessionAuthMethods records how the user's session id was signed
	// in (stepup.go); ErrNotFound when it is no session of theirs.
	SetSessionAuthMethods(ctx context.Context, userID, id int64, methods AuthMethods) error
	DeleteToken(ctx context.Context, userID, id int64) error
	// DeleteSessionApps deletes the user's authorizations that are
	// SessionBound to the session sid, with their tokens; none is no error.
	DeleteSessionApps(ctx context.Context, userID int64, sid string) error

	CreateApp(ctx context.Context, a *App) error
	// ExtendApp sets the expiry of the authorization, if it exists: a
	// refresh gave it a new refresh token, which lives until then.
	ExtendApp(ctx context.Context, userID, id int64, expiry time.Time) error
	// DeleteApp removes the authorization and every token issued under it.
	DeleteApp(ctx context.Context, userID, id int64) error

	CreateDevice(ctx context.Context, d *Device) error
	DeleteDevice(ctx context.Context, userID, id int64) error

	CreateLogin(ctx context.Context, l *Login) error
	// DeleteHistory deletes at most limit logins and at most limit account
	// events made before t, but each user's newest login (their last
	// login, UserSummary's), and returns how many rows it deleted in all.
	DeleteHistory(ctx context.Context, t time.Time, limit int) (int64, error)
	// DeleteUnusedRegistrations deletes at most limit clients that
	// registered themselves before t and hold no authorization and no
	// authorization code (registration.go).
	DeleteUnusedRegistrations(ctx context.Context, t time.Time, limit int) (int64, error)

	// PutPreferences takes the user's row lock (where transactions run
	// side by side) before it writes, so that HoldPreferenceBytes after it
	// counts every other namespace's last write.
	PutPreferences(ctx context.Context, userID int64, clientID string, value json.RawMessage) error
	// HoldPreferenceBytes makes the transaction fail with ErrOverQuota, at
	// this call or at the latest at commit, if the user's preferences, in
	// every namespace, take more than max bytes (or their account's own
	// bound, SetAccountQuota). Call it after the
	// transaction's PutPreferences.
	HoldPreferenceBytes(ctx context.Context, userID int64, max int) error
	// SetSecurityAnswers replaces all of the user's answers.
	SetSecurityAnswers(ctx context.Context, userID int64, answers []SecurityAnswer) error
	SetTFA(ctx context.Context, userID int64, s TFAState) error
	// SetScratchCodes replaces the user's unused scratch codes.
	SetScratchCodes(ctx context.Context, userID int64, hashes [][]byte) error
	// UseScratchCode deletes the code with this hash; ErrNotFound if there is none.
	UseScratchCode(ctx context.Context, userID int64, hash []byte) error
	SetPhoneVerification(ctx context.Context, userID int64, v PhoneVerification) error
	DeletePhoneVerification(ctx context.Context, userID int64) error
	SetGrants(ctx context.Context, userID int64, g Grants) error

	// HoldQuota makes the transaction fail with ErrOverQuota, at this
	// call or at the latest at commit, if ownerID already has max or more
	// objects of kind q (live ones, for tokens, at now), or as many as the
	// owner's account's own bound (SetAccountQuota). It first takes
	// the owner's row lock (the user's; the account's for
	// QuotaOAuthClients and QuotaAccountUsers) where transactions run side by side, so that the
	// count sees every add committed before, and adds that race on
	// several replicas pass the bound one at a time.
	HoldQuota(ctx context.Context, q Quota, ownerID int64, max int, now time.Time) error
	// SetAccountQuota sets the account's own bound of q, which HoldQuota
	// and HoldPreferenceBytes then take instead of their max; max 0
	// removes it. ErrNotFound for a missing account.
	SetAccountQuota(ctx context.Context, accountID int64, q Quota, max int) error

	// HitLimit counts one attempt against key in a fixed window that starts
	// at the first attempt and lasts window. It returns the count including
	// this attempt and when the window ends. Counters live in the database
	// so that every replica enforces one limit.
	HitLimit(ctx context.Context, key string, window time.Duration, now time.Time) (count int, resetAt time.Time, err error)
	// ResetLimit forgets key's counter (after a success).
	ResetLimit(ctx context.Context, key string) error
	// RefundLimit takes back one attempt that HitLimit counted in the
	// window still open at now: for a limit that reserves each attempt as
	// a failure before judging it, and gives it back when it succeeds.
	// Nothing happens when the counter is at zero, ended or missing.
	RefundLimit(ctx context.Context, key string, now time.Time) error
}
