package sqlstore

import (
	"context"
	"errors"

	"github.com/profiled/profiled/core"
)

// userColumns is the select list of a core.User from "users u".
const userColumns = `u.id, u.account_id, u.disabled, u.username, u.email, u.timezone, u.email_notifications,
	u.ip_whitelist_enabled, u.lish_auth_method, u.authorized_keys, u.restricted,
	u.two_factor_auth, u.authentication_type, u.verified_phone_number,
	u.referral_code, u.created`

// userDest returns the scan destinations of userColumns.
func userDest(u *core.User) []any {
	return []any{&u.ID, &u.AccountID, &u.Disabled, &u.Username, &u.Email, &u.Timezone, &u.EmailNotifications,
		&u.IPWhitelistEnabled, &u.LishAuthMethod, stringsDest{&u.AuthorizedKeys}, &u.Restricted,
		&u.TwoFactorAuth, &u.AuthenticationType, &u.VerifiedPhoneNumber,
		&u.ReferralCode, at(&u.Created)}
}

func scanUser(row Row) (core.User, error) {
	var u core.User
	err := row.Scan(userDest(&u)...)
	return u, err
}

func (r Reader) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := r.q.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, r.err("count users", err)
}

func (r Reader) UserByID(ctx context.Context, id int64) (core.User, error) {
	return one(ctx, r, "read user", scanUser, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, id)
}

func (r Reader) UserByUsername(ctx context.Context, username string) (core.User, error) {
	if !storable(username) {
		return core.User{}, core.ErrNotFound
	}
	return one(ctx, r, "read user", scanUser,
		`SELECT `+userColumns+` FROM users u WHERE `+r.d.EqualFold("u.username"), username)
}

// LockUser takes the user's row lock until the transaction ends where
// transactions run side by side (PostgreSQL's replicas), so that those on
// one user that call it run one at a time; SQLite runs one write
// transaction at a time anyway. ErrNotFound if the user is gone.
func (t Tx) LockUser(ctx context.Context, userID int64) (core.User, error) {
	return one(ctx, t.Reader, "lock user", scanUser, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`+t.d.ForUpdate, userID)
}

func (t Tx) CreateUser(ctx context.Context, u *core.User) error {
	if u.AccountID == 0 {
		id, err := t.createAccount(ctx, u.Created)
		if err != nil {
			return err
		}
		u.AccountID = id
		if err := t.insertUser(ctx, u); err != nil {
			// No account without its user, should the caller go on
			// (a taken name tried again under another).
			u.AccountID = 0
			return errors.Join(err, t.execAny(ctx, "forget account", `DELETE FROM accounts WHERE id = ?`, id))
		}
		return nil
	}
	return t.insertUser(ctx, u)
}

func (t Tx) insertUser(ctx context.Context, u *core.User) error {
	return t.insert(ctx, "create user", &u.ID, `INSERT INTO users (account_id, disabled, username, email, timezone,
		email_notifications, ip_whitelist_enabled, lish_auth_method, authorized_keys,
		restricted, two_factor_auth, authentication_type, verified_phone_number,
		referral_code, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.AccountID, u.Disabled, u.Username, u.Email, u.Timezone, u.EmailNotifications, u.IPWhitelistEnabled,
		u.LishAuthMethod, jsonText(u.AuthorizedKeys), u.Restricted, u.TwoFactorAuth, u.AuthenticationType,
		u.VerifiedPhoneNumber, u.ReferralCode, t.d.Time(u.Created))
}

func (t Tx) UpdateUser(ctx context.Context, u core.User) error {
	return t.write(ctx, "update user", Stmt{SQL: `UPDATE users SET username = ?, disabled = ?, email = ?, timezone = ?,
		email_notifications = ?, ip_whitelist_enabled = ?, lish_auth_method = ?,
		authorized_keys = ?, restricted = ?, two_factor_auth = ?, authentication_type = ?,
		verified_phone_number = ?, referral_code = ?
		WHERE id = ? RETURNING id`,
		Args: []any{u.Username, u.Disabled, u.Email, u.Timezone, u.EmailNotifications, u.IPWhitelistEnabled, u.LishAuthMethod,
			jsonText(u.AuthorizedKeys), u.Restricted, u.TwoFactorAuth, u.AuthenticationType, u.VerifiedPhoneNumber,
			u.ReferralCode, u.ID},
		Scan: func(row Row) error { var id int64; return row.Scan(&id) }})
}

// DeleteUser relies on the foreign keys: every table that belongs to a
// user cascades from users.
func (t Tx) DeleteUser(ctx context.Context, userID int64) error {
	return t.exec(ctx, "delete user", `DELETE FROM users WHERE id = ?`, userID)
}
