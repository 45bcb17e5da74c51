package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/profiled/profiled/core"
)

// userColumns is the select list of a core.User from "users u".
const userColumns = `u.id, u.username, u.email, u.timezone, u.email_notifications,
	u.ip_whitelist_enabled, u.lish_auth_method, u.authorized_keys, u.restricted,
	u.two_factor_auth, u.authentication_type, u.verified_phone_number,
	u.referral_code, u.created`

// userDest returns the scan destinations of userColumns and a function
// that finishes u once they are filled.
func userDest(u *core.User) ([]any, func() error) {
	var keys string
	var created int64
	dest := []any{&u.ID, &u.Username, &u.Email, &u.Timezone, &u.EmailNotifications,
		&u.IPWhitelistEnabled, &u.LishAuthMethod, &keys, &u.Restricted,
		&u.TwoFactorAuth, &u.AuthenticationType, &u.VerifiedPhoneNumber,
		&u.ReferralCode, &created}
	return dest, func() error {
		u.Created = fromUnix(created)
		// Stored as json.Marshal wrote it: nil comes back nil, empty empty.
		if err := json.Unmarshal([]byte(keys), &u.AuthorizedKeys); err != nil {
			return fmt.Errorf("sqlite: user %d: authorized_keys: %w", u.ID, err)
		}
		return nil
	}
}

func scanUser(row scanner) (core.User, error) {
	var u core.User
	dest, finish := userDest(&u)
	if err := row.Scan(dest...); err != nil {
		return core.User{}, storeErr("read user", err)
	}
	return u, finish()
}

func authorizedKeysJSON(keys []string) (string, error) {
	b, err := json.Marshal(keys)
	if err != nil {
		return "", fmt.Errorf("sqlite: authorized_keys: %w", err)
	}
	return string(b), nil
}

func (r reader) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, storeErr("count users", err)
}

func (r reader) UserByID(ctx context.Context, id int64) (core.User, error) {
	return scanUser(r.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, id))
}

func (r reader) UserByUsername(ctx context.Context, username string) (core.User, error) {
	return scanUser(r.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.username = ? COLLATE NOCASE`, username))
}

// LockUser only checks that the user exists: the write pool's single
// connection and BEGIN IMMEDIATE already serialize every write transaction.
func (t tx) LockUser(ctx context.Context, userID int64) error {
	var one int
	err := t.q.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one)
	return storeErr("lock user", err)
}

func (t tx) CreateUser(ctx context.Context, u *core.User) error {
	keys, err := authorizedKeysJSON(u.AuthorizedKeys)
	if err != nil {
		return err
	}
	err = t.q.QueryRowContext(ctx, `INSERT INTO users (username, email, timezone,
		email_notifications, ip_whitelist_enabled, lish_auth_method, authorized_keys,
		restricted, two_factor_auth, authentication_type, verified_phone_number,
		referral_code, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Username, u.Email, u.Timezone, u.EmailNotifications, u.IPWhitelistEnabled,
		u.LishAuthMethod, keys, u.Restricted, u.TwoFactorAuth, u.AuthenticationType,
		u.VerifiedPhoneNumber, u.ReferralCode, unix(u.Created)).Scan(&u.ID)
	return storeErr("create user", err)
}

func (t tx) UpdateUser(ctx context.Context, u core.User) error {
	keys, err := authorizedKeysJSON(u.AuthorizedKeys)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE users SET email = ?, timezone = ?,
		email_notifications = ?, ip_whitelist_enabled = ?, lish_auth_method = ?,
		authorized_keys = ?, restricted = ?, two_factor_auth = ?, authentication_type = ?,
		verified_phone_number = ?, referral_code = ?
		WHERE id = ?`,
		u.Email, u.Timezone, u.EmailNotifications, u.IPWhitelistEnabled, u.LishAuthMethod,
		keys, u.Restricted, u.TwoFactorAuth, u.AuthenticationType, u.VerifiedPhoneNumber,
		u.ReferralCode, u.ID)
	return affectedOne("update user", res, err)
}
