package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/profiled/profiled/core"
)

// quotaCounts are, for each quota, the owner's row to lock, the count of
// the owner's objects, with the count's arguments, and the owner's
// account (its id, of the owner's as the one argument).
var quotaCounts = map[core.Quota]struct {
	lock, count string
	args        func(ownerID int64, now any) []any
	account     string
}{
	core.QuotaSSHKeys: {UserRowSQL, `SELECT count(*) FROM ssh_keys WHERE user_id = ?`, owner, userAccountSQL},
	core.QuotaPersonalTokens: {UserRowSQL,
		`SELECT count(*) FROM tokens WHERE user_id = ? AND kind = ? AND (expiry IS NULL OR expiry > ?)`,
		func(ownerID int64, now any) []any { return []any{ownerID, string(core.TokenPersonal), now} }, userAccountSQL},
	core.QuotaOAuthClients: {accountRowSQL, `SELECT count(*) FROM oauth_clients WHERE account_id = ?`, owner, "?"},
	core.QuotaAccountUsers: {accountRowSQL, `SELECT count(*) FROM users WHERE account_id = ?`, owner, "?"},
}

// userAccountSQL is the account of the user its argument names.
const userAccountSQL = `(SELECT account_id FROM users WHERE id = ?)`

// limitSQL is an owner's bound of a quota: its account's own
// (account_quotas), else the server's, the last argument. account is the
// SQL of the account's id, whose argument comes first, then the quota's
// name.
func limitSQL(account string) string {
	return `coalesce((SELECT max FROM account_quotas WHERE account_id = ` + account + ` AND quota = ?), ?)`
}

// AccountQuotas reads on account_quotas' primary key.
func (r Reader) AccountQuotas(ctx context.Context, accountID int64) (map[core.Quota]int, error) {
	type row struct {
		name string
		max  int
	}
	rows, err := collect(ctx, r, "read account quotas", func(rs Row) (row, error) {
		var v row
		return v, rs.Scan(&v.name, &v.max)
	}, `SELECT quota, max FROM account_quotas WHERE account_id = ?`, accountID)
	out := map[core.Quota]int{}
	for _, v := range rows {
		if q, ok := core.ParseQuota(v.name); ok {
			out[q] = v.max
		}
	}
	return out, err
}

// SetAccountQuota sets the account's own bound of q, or, with max 0,
// gives it back the server's; ErrNotFound for a missing account.
func (t Tx) SetAccountQuota(ctx context.Context, accountID int64, q core.Quota, max int) error {
	if err := t.LockAccount(ctx, accountID); err != nil {
		return err
	}
	if max <= 0 {
		return t.execAny(ctx, "reset account quota", `DELETE FROM account_quotas WHERE account_id = ? AND quota = ?`, accountID, q.Name())
	}
	return t.execAny(ctx, "set account quota", `INSERT INTO account_quotas (account_id, quota, max) VALUES (?, ?, ?)
		ON CONFLICT (account_id, quota) DO UPDATE SET max = excluded.max`, accountID, q.Name(), max)
}

// accountRowSQL reads an account's row, to lock it (LockAccount, HoldQuota).
const accountRowSQL = `SELECT 1 FROM accounts WHERE id = ?`

// UserRowSQL reads a user's row: whether it exists (userExists), or, with
// the dialect's ForUpdate, to lock it, here and in the engines where
// sqlstore's own statements cannot.
const UserRowSQL = `SELECT 1 FROM users WHERE id = ?`

// owner is the arguments of a count that takes only the owner.
func owner(ownerID int64, _ any) []any { return []any{ownerID} }

// HoldQuota refuses the transaction once the owner has max objects (or
// as many as its account's own bound, when it has one), with
// no round trip of its own: it is two deferred writes (Deferrer) that go
// with the add that follows. The first takes the owner's row lock
// (PostgreSQL; SQLite runs one writer at a time), so that the second, a
// new statement with a new snapshot, counts every add committed before it.
// The second inserts into over_quota, whose CHECK refuses every row, one
// row when the count has reached max: the statement, and with it the
// transaction, fails, and Classify reads that as core.ErrOverQuota.
func (t Tx) HoldQuota(ctx context.Context, q core.Quota, ownerID int64, max int, now time.Time) error {
	c, ok := quotaCounts[q]
	if !ok {
		return fmt.Errorf("%s: hold quota: unknown quota %d", t.d.Name, q)
	}
	if t.d.ForUpdate != "" {
		if err := t.deferred(ctx, "lock quota owner", c.lock+t.d.ForUpdate, ownerID); err != nil {
			return err
		}
	}
	return t.refuseWhen(ctx, "hold quota", `(`+c.count+`) >= `+limitSQL(c.account),
		append(c.args(ownerID, t.d.Time(now)), ownerID, q.Name(), max)...)
}

// refuseWhen fails the transaction, as a deferred write, with
// core.ErrOverQuota if condition holds: it inserts a row into
// over_quota, whose CHECK refuses every one.
func (t Tx) refuseWhen(ctx context.Context, op, condition string, args ...any) error {
	return t.deferred(ctx, op, `INSERT INTO over_quota (never) SELECT 1 WHERE `+condition, args...)
}
