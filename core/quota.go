package core

import (
	"context"
	"errors"
	"fmt"
)

// Quota names a kind of object whose number per owner is bounded: without
// a bound, one user's token (or a script gone wrong) adding SSH keys at
// thousands a second would fill the database's disk for everyone.
type Quota int

const (
	QuotaSSHKeys        Quota = iota + 1 // a user's SSH keys
	QuotaPersonalTokens                  // a user's live personal access tokens
	QuotaOAuthClients                    // an account's OAuth clients
	QuotaAccountUsers                    // an account's users
	// QuotaPreferenceBytes bounds the bytes of a user's preferences, in
	// every namespace together: a namespace may hold 10 values of 10 MiB
	// (the PACE limits), and every registered client is a namespace.
	QuotaPreferenceBytes
)

// Quotas are the bounds, each the most objects of its kind one owner may
// keep. A zero field is its default (DefaultQuotas).
type Quotas struct {
	SSHKeys        int
	PersonalTokens int
	OAuthClients   int
	AccountUsers   int
	// PreferenceBytes is in bytes of stored JSON.
	PreferenceBytes int
}

// DefaultQuotas are far above what a person or a console keeps (the real
// API's clients, Terraform's acceptance tests included, keep a few dozen),
// and low enough that every list stays a few pages. OAuth clients get
// fewer: an account registers a handful, and each one is a namespace of
// per-client preferences (up to 10 values of 10 MiB) for every user.
// Users are many more: a company's console may keep all its people in one
// account; each one added through the API is also an invitation mail.
// Preferences get 256 MiB: two namespaces filled to the PACE limits, and
// thousands of times what a console keeps.
var DefaultQuotas = Quotas{SSHKeys: 1000, PersonalTokens: 1000, OAuthClients: 100, AccountUsers: 10000,
	PreferenceBytes: 256 << 20}

// withDefaults fills the zero fields of q from DefaultQuotas.
func (q Quotas) withDefaults() Quotas {
	if q.SSHKeys <= 0 {
		q.SSHKeys = DefaultQuotas.SSHKeys
	}
	if q.PersonalTokens <= 0 {
		q.PersonalTokens = DefaultQuotas.PersonalTokens
	}
	if q.OAuthClients <= 0 {
		q.OAuthClients = DefaultQuotas.OAuthClients
	}
	if q.AccountUsers <= 0 {
		q.AccountUsers = DefaultQuotas.AccountUsers
	}
	if q.PreferenceBytes <= 0 {
		q.PreferenceBytes = DefaultQuotas.PreferenceBytes
	}
	return q
}

// max is the bound of k, and what a client is told past it.
func (q Quotas) max(k Quota) (limit int, reason string) {
	objects := "You may have at most %d %s: delete one before adding another"
	switch k {
	case QuotaSSHKeys:
		return q.SSHKeys, fmt.Sprintf(objects, q.SSHKeys, "SSH keys")
	case QuotaPersonalTokens:
		return q.PersonalTokens, fmt.Sprintf(objects, q.PersonalTokens, "personal access tokens")
	case QuotaOAuthClients:
		return q.OAuthClients, fmt.Sprintf(objects, q.OAuthClients, "OAuth clients in an account")
	case QuotaAccountUsers:
		return q.AccountUsers, fmt.Sprintf(objects, q.AccountUsers, "users in an account")
	case QuotaPreferenceBytes:
		return q.PreferenceBytes, fmt.Sprintf("Your preferences, in every namespace together, may take at most %d bytes: "+
			"store less here, or empty another namespace (PUT {})", q.PreferenceBytes)
	}
	panic(fmt.Sprintf("core: unknown quota %d", k))
}

// ErrOverQuota is what a store's HoldQuota fails with, at once or at the
// latest at commit, when the owner already has as many objects as allowed.
var ErrOverQuota = errors.New("over quota")

// holdQuota makes tx fail unless ownerID (a user, or an account for
// QuotaOAuthClients and QuotaAccountUsers) has fewer objects of kind k
// than its quota, counted under the owner's row lock so that adds sent at
// once, to any replica, cannot pass the bound together. Call it in the transaction that adds
// the object, before the add, and pass Update's error to overQuota where
// the actor is known.
func (s *Service) holdQuota(ctx context.Context, tx Tx, k Quota, ownerID int64) error {
	limit, _ := s.quotas.max(k)
	return tx.HoldQuota(ctx, k, ownerID, limit, s.clock())
}

// overQuota turns the store's ErrOverQuota for k into the client's
// answer, and reports the refusal as the security event quota.exceeded
// (logged and counted, not sent: it changed nothing), so that operators
// see who reaches a quota, and how often.
func (s *Service) overQuota(ctx context.Context, err error, k Quota, a Actor) error {
	if !errors.Is(err, ErrOverQuota) {
		return err
	}
	_, reason := s.quotas.max(k)
	s.emit(ctx, eventOf(EventQuotaExceeded, a, quotaNames[k]))
	return &Error{Kind: KindConflict, Code: CodeQuotaExceeded, Reason: reason}
}

// quotaNames are the quotas as the event quota.exceeded names them.
var quotaNames = map[Quota]string{
	QuotaSSHKeys:         "ssh_keys",
	QuotaPersonalTokens:  "personal_tokens",
	QuotaOAuthClients:    "oauth_clients",
	QuotaAccountUsers:    "account_users",
	QuotaPreferenceBytes: "preference_bytes",
}

// CodeQuotaExceeded is the Code of every answer past a quota.
const CodeQuotaExceeded = "quota-exceeded"
