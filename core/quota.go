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

// quotaKinds describe each quota once: its field of Quotas, its name in
// the event quota.exceeded, and what the client is told past it.
var quotaKinds = map[Quota]struct {
	field  func(*Quotas) *int
	name   string
	reason func(limit int) string
}{
	QuotaSSHKeys:        {func(q *Quotas) *int { return &q.SSHKeys }, "ssh_keys", objects("SSH keys")},
	QuotaPersonalTokens: {func(q *Quotas) *int { return &q.PersonalTokens }, "personal_tokens", objects("personal access tokens")},
	QuotaOAuthClients:   {func(q *Quotas) *int { return &q.OAuthClients }, "oauth_clients", objects("OAuth clients in an account")},
	QuotaAccountUsers:   {func(q *Quotas) *int { return &q.AccountUsers }, "account_users", objects("users in an account")},
	QuotaPreferenceBytes: {func(q *Quotas) *int { return &q.PreferenceBytes }, "preference_bytes", func(limit int) string {
		return fmt.Sprintf("Your preferences, in every namespace together, may take at most %d bytes: "+
			"store less here, or empty another namespace (PUT {})", limit)
	}},
}

// AllQuotas are the quotas, in the order the operator's commands show them.
var AllQuotas = []Quota{QuotaSSHKeys, QuotaPersonalTokens, QuotaOAuthClients, QuotaAccountUsers, QuotaPreferenceBytes}

// Name is the quota's name: in the event quota.exceeded, the store's
// account_quotas and the operator's commands (ssh_keys, ...).
func (k Quota) Name() string { return quotaKinds[k].name }

// ParseQuota is the quota named name.
func ParseQuota(name string) (Quota, bool) {
	for _, k := range AllQuotas {
		if k.Name() == name {
			return k, true
		}
	}
	return 0, false
}

// objects is the reason of a quota on a number of things.
func objects(what string) func(limit int) string {
	return func(limit int) string {
		return fmt.Sprintf("You may have at most %d %s: delete one before adding another", limit, what)
	}
}

// withDefaults fills the zero fields of q from DefaultQuotas.
func (q Quotas) withDefaults() Quotas {
	for _, k := range quotaKinds {
		if f := k.field(&q); *f <= 0 {
			*f = *k.field(&DefaultQuotas)
		}
	}
	return q
}

// limit is the bound of k.
func (q Quotas) limit(k Quota) int { return *quotaKinds[k].field(&q) }

// ErrOverQuota is what a store's HoldQuota fails with, at once or at the
// latest at commit, when the owner already has as many objects as allowed.
var ErrOverQuota = errors.New("over quota")

// holdQuota makes tx fail unless ownerID (a user, or an account for
// QuotaOAuthClients and QuotaAccountUsers) has fewer objects of kind k
// than its quota, counted under the owner's row lock so that adds sent at
// once, to any replica, cannot pass the bound together. Call it in the
// transaction that adds the object, before the add, and pass Update's
// error to overQuota where the actor is known.
func (s *Service) holdQuota(ctx context.Context, tx Tx, k Quota, ownerID int64) error {
	return tx.HoldQuota(ctx, k, ownerID, s.quotas.limit(k), s.clock())
}

// overQuota turns the store's ErrOverQuota for k into the client's
// answer, and reports the refusal as the security event quota.exceeded
// (logged and counted, not sent: it changed nothing), so that operators
// see who reaches a quota, and how often.
func (s *Service) overQuota(ctx context.Context, err error, k Quota, a Actor) error {
	if !errors.Is(err, ErrOverQuota) {
		return err
	}
	kind := quotaKinds[k]
	s.emit(ctx, eventOf(EventQuotaExceeded, a, kind.name))
	limit := s.quotas.limit(k)
	// Past the quota only, the bound the guard used, for the answer: the
	// account's own, when it has one.
	if own, err := s.store.AccountQuotas(ctx, a.User.AccountID); err == nil && own[k] > 0 {
		limit = own[k]
	}
	return &Error{Kind: KindConflict, Code: CodeQuotaExceeded, Reason: kind.reason(limit)}
}

// maxQuota bounds an account's own quota: far above any real need, and
// within what every engine's integer holds.
const maxQuota = 1 << 40

// SetAccountQuotas gives an account its own bounds, in place of the
// server's (--quota-*), for the operator: a platform's tiers. A bound of 0
// gives the account back the server's. They are set together or, when
// one is out of range or the account is missing, not at all. The next add
// of the account's users is held to them, on every replica; what they
// already have stays, past them or not.
func (s *Service) SetAccountQuotas(ctx context.Context, accountID int64, bounds map[Quota]int) error {
	if len(bounds) == 0 {
		return Invalid("quota", "give at least one quota to set")
	}
	for _, k := range AllQuotas { // in a fixed order, so the first refusal is always the same
		max, ok := bounds[k]
		if ok && (max < 0 || max > maxQuota) {
			return Invalid(k.Name(), "%s must be 0 (the server's quota) to %d", k.Name(), maxQuota)
		}
	}
	for k := range bounds {
		if _, ok := quotaKinds[k]; !ok {
			return Invalid("quota", "unknown quota %d", k)
		}
	}
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		for _, k := range AllQuotas {
			max, ok := bounds[k]
			if !ok {
				continue
			}
			if err := tx.SetAccountQuota(ctx, accountID, k, max); err != nil {
				return notFound(err, "set account quota")
			}
			note(Event{Name: EventQuotaSet, Detail: fmt.Sprintf("account %d: %s=%d", accountID, k.Name(), max)})
		}
		return nil
	})
}

// AccountQuotas returns an account's own quotas (SetAccountQuota); the
// others are the server's. NotFound for a missing account.
func (s *Service) AccountQuotas(ctx context.Context, accountID int64) (map[Quota]int, error) {
	if _, err := s.store.Account(ctx, accountID); err != nil {
		return nil, notFound(err, "get account")
	}
	own, err := s.store.AccountQuotas(ctx, accountID)
	return own, notFound(err, "get account quotas")
}

// CodeQuotaExceeded is the Code of every answer past a quota.
const CodeQuotaExceeded = "quota-exceeded"
