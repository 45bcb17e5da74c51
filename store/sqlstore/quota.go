package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/profiled/profiled/core"
)

// quotaCounts are, for each quota, the owner's row to lock and the count
// of the owner's objects, with the count's arguments.
var quotaCounts = map[core.Quota]struct {
	lock, count string
	args        func(ownerID int64, now any) []any
}{
	core.QuotaSSHKeys: {UserRowSQL, `SELECT count(*) FROM ssh_keys WHERE user_id = ?`, owner},
	core.QuotaPersonalTokens: {UserRowSQL,
		`SELECT count(*) FROM tokens WHERE user_id = ? AND kind = ? AND (expiry IS NULL OR expiry > ?)`,
		func(ownerID int64, now any) []any { return []any{ownerID, string(core.TokenPersonal), now} }},
	core.QuotaOAuthClients: {accountRowSQL, `SELECT count(*) FROM oauth_clients WHERE account_id = ?`, owner},
	core.QuotaAccountUsers: {accountRowSQL, `SELECT count(*) FROM users WHERE account_id = ?`, owner},
}

// accountRowSQL reads an account's row, to lock it (LockAccount, HoldQuota).
const accountRowSQL = `SELECT 1 FROM accounts WHERE id = ?`

// UserRowSQL reads a user's row: whether it exists (userExists), or, with
// the dialect's ForUpdate, to lock it, here and in the engines where
// sqlstore's own statements cannot.
const UserRowSQL = `SELECT 1 FROM users WHERE id = ?`

// owner is the arguments of a count that takes only the owner.
func owner(ownerID int64, _ any) []any { return []any{ownerID} }

// HoldQuota refuses the transaction once the owner has max objects, with
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
	return t.refuseWhen(ctx, "hold quota", `(`+c.count+`) >= ?`, append(c.args(ownerID, t.d.Time(now)), max)...)
}

// refuseWhen fails the transaction, as a deferred write, with
// core.ErrOverQuota if condition holds: it inserts a row into
// over_quota, whose CHECK refuses every one.
func (t Tx) refuseWhen(ctx context.Context, op, condition string, args ...any) error {
	return t.deferred(ctx, op, `INSERT INTO over_quota (never) SELECT 1 WHERE `+condition, args...)
}
