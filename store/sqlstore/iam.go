package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/profiled/profiled/core"
)

// This file holds what the IAM face keeps beyond the Linode profile, the
// avatars, the links to external identity providers, and the per-client
// preferences of the PACE face and the Linode grants.

// iamUserQuery reads a user and their IAM data, the zero values standing
// in for a user without an iam_users row; no row at all means no such user.
const iamUserQuery = `SELECT ` + userColumns + `, coalesce(i.kind, ''), coalesce(i.first_name, ''),
	coalesce(i.last_name, ''), coalesce(i.email_verified, FALSE), coalesce(i.picture_url, ''),
	coalesce(i.name, ''), coalesce(i.description, ''), coalesce(i.owner_id, 0),
	coalesce(i.locale, ''), coalesce(i.theme, ''), coalesce(i.date_format, ''),
	coalesce(i.time_format, ''), coalesce(i.week_start, ''), coalesce(i.landing_page, ''),
	coalesce(i.security_sms, FALSE), coalesce(i.account_sms, FALSE), coalesce(i.product_email, FALSE),
	coalesce(i.product_sms, FALSE), coalesce(a.id, '')
	FROM users u
	LEFT JOIN iam_users i ON i.user_id = u.id
	LEFT JOIN avatars a ON a.user_id = u.id
	WHERE u.id = ?`

// IAMUser reads the user and the IAM profile in one statement: GET
// /iam/v1/users/me had read them in two, one round trip more on
// PostgreSQL.
func (r Reader) IAMUser(ctx context.Context, userID int64) (core.User, core.IAMProfile, error) {
	var u core.User
	var p core.IAMProfile
	var kind string
	c, n := &p.Config, &p.Notifications
	err := r.q.QueryRow(ctx, iamUserQuery, userID).Scan(append(userDest(&u), &kind, &p.FirstName,
		&p.LastName, &p.EmailVerified, &p.PictureURL, &p.Name, &p.Description, &p.OwnerID,
		&c.Locale, &c.Theme, &c.DateFormat, &c.TimeFormat, &c.WeekStart, &c.LandingPage,
		&n.SecuritySMS, &n.AccountSMS, &n.ProductEmail, &n.ProductSMS, &p.AvatarID)...)
	if err != nil {
		return core.User{}, core.IAMProfile{}, r.err("read iam user", err)
	}
	p.UserID = u.ID
	p.Kind = core.UserKind(kind)
	return u, p, nil
}

func (r Reader) IAMProfile(ctx context.Context, userID int64) (core.IAMProfile, error) {
	_, p, err := r.IAMUser(ctx, userID)
	return p, err
}

var putIAMProfileSQL = upsert("iam_users", "user_id", "user_id", "kind", "first_name", "last_name",
	"email_verified", "picture_url", "name", "description", "owner_id", "locale", "theme", "date_format",
	"time_format", "week_start", "landing_page", "security_sms", "account_sms", "product_email", "product_sms")

// PutIAMProfile is a guarded write: a missing user or owner fails the
// statement alone.
func (t Tx) PutIAMProfile(ctx context.Context, p core.IAMProfile) error {
	var owner any
	if p.OwnerID != 0 {
		owner = p.OwnerID
	}
	c, n := p.Config, p.Notifications
	return t.write(ctx, "put iam profile", Stmt{SQL: putIAMProfileSQL,
		Args: []any{p.UserID, string(p.Kind), p.FirstName, p.LastName, p.EmailVerified, p.PictureURL, p.Name,
			p.Description, owner, c.Locale, c.Theme, c.DateFormat, c.TimeFormat, c.WeekStart, c.LandingPage,
			n.SecuritySMS, n.AccountSMS, n.ProductEmail, n.ProductSMS}})
}

func (r Reader) UserByExternalID(ctx context.Context, provider, subject string) (core.User, error) {
	if !storable(provider) || !storable(subject) {
		return core.User{}, core.ErrNotFound
	}
	return one(ctx, r, "read user", scanUser, `SELECT `+userColumns+`
		FROM external_identities e JOIN users u ON u.id = e.user_id
		WHERE e.provider = ? AND e.subject = ?`, provider, subject)
}

func (t Tx) LinkExternalID(ctx context.Context, provider, subject string, userID int64) error {
	return t.write(ctx, "link external identity", Stmt{
		SQL:  `INSERT INTO external_identities (provider, subject, user_id) VALUES (?, ?, ?)`,
		Args: []any{provider, subject, userID}})
}

func (r Reader) Avatar(ctx context.Context, id string) (core.Avatar, error) {
	if !storable(id) {
		return core.Avatar{}, core.ErrNotFound
	}
	var a core.Avatar
	err := r.q.QueryRow(ctx, `SELECT user_id, id, png, created FROM avatars WHERE id = ?`, id).
		Scan(&a.UserID, &a.ID, &a.PNG, at(&a.Created))
	return a, r.err("read avatar", err)
}

var putAvatarSQL = upsert("avatars", "user_id", "user_id", "id", "png", "created")

// PutAvatar is a guarded write: a missing user or a taken id fails the
// statement alone.
func (t Tx) PutAvatar(ctx context.Context, a core.Avatar) error {
	return t.write(ctx, "put avatar", Stmt{SQL: putAvatarSQL, Args: []any{a.UserID, a.ID, a.PNG, t.d.Time(a.Created)}})
}

func (t Tx) DeleteAvatar(ctx context.Context, userID int64) error {
	return t.execAny(ctx, "delete avatar", `DELETE FROM avatars WHERE user_id = ?`, userID)
}

func (r Reader) Preferences(ctx context.Context, userID int64, clientID string) (json.RawMessage, error) {
	if !storable(clientID) {
		return nil, core.ErrNotFound
	}
	var value string
	err := r.q.QueryRow(ctx, `SELECT value FROM preferences WHERE user_id = ? AND client_id = ?`, userID, clientID).Scan(&value)
	if err != nil {
		return nil, r.err("read preferences", err)
	}
	return json.RawMessage(value), nil
}

// PutPreferencesSQL stores a client's preferences byte for byte (text,
// not PostgreSQL's jsonb, which would reorder keys), replacing what the
// client stored before; its arguments are the user id, the client id, the
// value and its length in bytes.
const PutPreferencesSQL = `INSERT INTO preferences (user_id, client_id, value, bytes) VALUES (?, ?, CAST(? AS TEXT), ?)
		ON CONFLICT (user_id, client_id) DO UPDATE SET value = excluded.value, bytes = excluded.bytes`

// PutPreferences stores value; a missing user gives ErrNotFound. The
// bytes go to the driver as they are (bound as bytes, made text by the
// CAST) rather than as a string(value) copy: a value may be 100 MB. An
// engine may send it more cheaply still (store/postgres).
func (t Tx) PutPreferences(ctx context.Context, userID int64, clientID string, value json.RawMessage) error {
	return t.write(ctx, "put preferences", Stmt{SQL: PutPreferencesSQL, Args: []any{userID, clientID, []byte(value), len(value)}})
}

// HoldPreferenceBytes is a quota guard (see HoldQuota) over the bytes of
// every namespace of the user. It follows the transaction's
// PutPreferences, which took the user's row lock.
func (t Tx) HoldPreferenceBytes(ctx context.Context, userID int64, max int) error {
	return t.refuseWhen(ctx, "hold preference bytes",
		`(SELECT coalesce(sum(bytes), 0) FROM preferences WHERE user_id = ?) > `+limitSQL(userAccountSQL),
		userID, userID, core.QuotaPreferenceBytes.Name(), max)
}

// Grants returns ErrNotFound both for a missing user and for a user
// without stored grants.
func (r Reader) Grants(ctx context.Context, userID int64) (core.Grants, error) {
	var g *string
	err := r.q.QueryRow(ctx, `SELECT grants FROM users WHERE id = ?`, userID).Scan(&g)
	if err != nil {
		return nil, r.err("read grants", err)
	}
	if g == nil {
		return nil, core.ErrNotFound
	}
	return core.Grants(*g), nil
}

// SetGrants stores g as-is; a nil g forgets the grants.
func (t Tx) SetGrants(ctx context.Context, userID int64, g core.Grants) error {
	var value any
	if g != nil {
		value = string(g)
	}
	return t.exec(ctx, "set grants", `UPDATE users SET grants = ? WHERE id = ?`, value, userID)
}
