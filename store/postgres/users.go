package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/profiled/profiled/core"
)

// userColumns is the select list of a core.User from "users u".
const userColumns = `u.id, u.username, u.email, u.timezone, u.email_notifications,
	u.ip_whitelist_enabled, u.lish_auth_method, u.authorized_keys, u.restricted,
	u.two_factor_auth, u.authentication_type, u.verified_phone_number,
	u.referral_code, u.created`

// userDest returns the scan destinations of userColumns and a function
// that finishes u once they are filled.
func userDest(u *core.User) ([]any, func()) {
	dest := []any{&u.ID, &u.Username, &u.Email, &u.Timezone, &u.EmailNotifications,
		&u.IPWhitelistEnabled, &u.LishAuthMethod, &u.AuthorizedKeys, &u.Restricted,
		&u.TwoFactorAuth, &u.AuthenticationType, &u.VerifiedPhoneNumber,
		&u.ReferralCode, &u.Created}
	// authorized_keys is NULL for a nil list and '{}' for an empty one,
	// which pgx reads back as nil and as an empty slice.
	return dest, func() { u.Created = u.Created.UTC() }
}

func (r reader) scanUser(row pgx.Row) (core.User, error) {
	var u core.User
	dest, finish := userDest(&u)
	if err := row.Scan(dest...); err != nil {
		return core.User{}, r.err("read user", err)
	}
	finish()
	return u, nil
}

func (r reader) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := r.q.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, r.err("count users", err)
}

func (r reader) UserByID(ctx context.Context, id int64) (core.User, error) {
	return r.scanUser(r.q.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
}

func (r reader) UserByUsername(ctx context.Context, username string) (core.User, error) {
	if !storable(username) {
		return core.User{}, core.ErrNotFound
	}
	return r.scanUser(r.q.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE lower(u.username) = lower($1)`, username))
}

// LockUser takes the user's row lock until the transaction ends, so that
// transactions on one user that call it run one at a time on every
// replica. ErrNotFound if the user is gone.
func (t tx) LockUser(ctx context.Context, userID int64) error {
	var one int
	err := t.q.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID).Scan(&one)
	return t.err("lock user", err)
}

// userExists gives ErrNotFound for a missing user, for the writes that
// replace a user's set of rows: with an empty set no foreign key would
// notice.
func (t tx) userExists(ctx context.Context, op string, userID int64) error {
	var one int
	return t.err(op, t.q.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1`, userID).Scan(&one))
}

func (t tx) CreateUser(ctx context.Context, u *core.User) error {
	_, err := t.write(ctx, "create user", stmt{
		sql: `INSERT INTO users (username, email, timezone,
		email_notifications, ip_whitelist_enabled, lish_auth_method, authorized_keys,
		restricted, two_factor_auth, authentication_type, verified_phone_number,
		referral_code, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		args: []any{u.Username, u.Email, u.Timezone, u.EmailNotifications, u.IPWhitelistEnabled,
			u.LishAuthMethod, u.AuthorizedKeys, u.Restricted, u.TwoFactorAuth, u.AuthenticationType,
			u.VerifiedPhoneNumber, u.ReferralCode, ts(u.Created)},
		scan: func(row pgx.Row) error { return row.Scan(&u.ID) },
	})
	return err
}

func (t tx) UpdateUser(ctx context.Context, u core.User) error {
	tag, err := t.q.Exec(ctx, `UPDATE users SET email = $1, timezone = $2,
		email_notifications = $3, ip_whitelist_enabled = $4, lish_auth_method = $5,
		authorized_keys = $6, restricted = $7, two_factor_auth = $8, authentication_type = $9,
		verified_phone_number = $10, referral_code = $11
		WHERE id = $12`,
		u.Email, u.Timezone, u.EmailNotifications, u.IPWhitelistEnabled, u.LishAuthMethod,
		u.AuthorizedKeys, u.Restricted, u.TwoFactorAuth, u.AuthenticationType, u.VerifiedPhoneNumber,
		u.ReferralCode, u.ID)
	return t.affectedOne("update user", tag, err)
}
