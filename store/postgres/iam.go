package postgres

import (
	"context"

	"github.com/profiled/profiled/core"
)

// iamProfileQuery reads a user's IAM data, the zero values standing in for
// a user without an iam_users row; no row at all means no such user.
const iamProfileQuery = `SELECT u.id, coalesce(i.kind, ''), coalesce(i.first_name, ''),
	coalesce(i.last_name, ''), coalesce(i.email_verified, false), coalesce(i.picture_url, ''),
	coalesce(i.name, ''), coalesce(i.description, ''), coalesce(i.owner_id, 0),
	coalesce(i.locale, ''), coalesce(i.theme, ''), coalesce(i.date_format, ''),
	coalesce(i.time_format, ''), coalesce(i.week_start, ''), coalesce(i.landing_page, ''),
	coalesce(i.security_sms, false), coalesce(i.account_sms, false), coalesce(i.product_email, false),
	coalesce(i.product_sms, false), coalesce(a.id, '')
	FROM users u
	LEFT JOIN iam_users i ON i.user_id = u.id
	LEFT JOIN avatars a ON a.user_id = u.id
	WHERE u.id = $1`

func (r reader) IAMProfile(ctx context.Context, userID int64) (core.IAMProfile, error) {
	var p core.IAMProfile
	var kind string
	c, n := &p.Config, &p.Notifications
	err := r.q.QueryRow(ctx, iamProfileQuery, userID).Scan(&p.UserID, &kind, &p.FirstName,
		&p.LastName, &p.EmailVerified, &p.PictureURL, &p.Name, &p.Description, &p.OwnerID,
		&c.Locale, &c.Theme, &c.DateFormat, &c.TimeFormat, &c.WeekStart, &c.LandingPage,
		&n.SecuritySMS, &n.AccountSMS, &n.ProductEmail, &n.ProductSMS, &p.AvatarID)
	if err != nil {
		return core.IAMProfile{}, r.err("read iam profile", err)
	}
	p.Kind = core.UserKind(kind)
	return p, nil
}

// PutIAMProfile runs under a savepoint: a missing user or owner fails the
// statement alone, as in SQLite.
func (t tx) PutIAMProfile(ctx context.Context, p core.IAMProfile) error {
	var owner *int64
	if p.OwnerID != 0 {
		owner = &p.OwnerID
	}
	c, n := p.Config, p.Notifications
	_, err := t.write(ctx, "put iam profile", stmt{
		sql: `INSERT INTO iam_users (user_id, kind, first_name, last_name,
		email_verified, picture_url, name, description, owner_id, locale, theme, date_format,
		time_format, week_start, landing_page, security_sms, account_sms, product_email, product_sms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
		ON CONFLICT (user_id) DO UPDATE SET kind = excluded.kind, first_name = excluded.first_name,
		last_name = excluded.last_name, email_verified = excluded.email_verified,
		picture_url = excluded.picture_url, name = excluded.name, description = excluded.description,
		owner_id = excluded.owner_id, locale = excluded.locale, theme = excluded.theme,
		date_format = excluded.date_format, time_format = excluded.time_format,
		week_start = excluded.week_start, landing_page = excluded.landing_page,
		security_sms = excluded.security_sms, account_sms = excluded.account_sms,
		product_email = excluded.product_email, product_sms = excluded.product_sms`,
		args: []any{p.UserID, string(p.Kind), p.FirstName, p.LastName, p.EmailVerified, p.PictureURL, p.Name,
			p.Description, owner, c.Locale, c.Theme, c.DateFormat, c.TimeFormat, c.WeekStart, c.LandingPage,
			n.SecuritySMS, n.AccountSMS, n.ProductEmail, n.ProductSMS},
	})
	return err
}

func (r reader) UserByExternalID(ctx context.Context, provider, subject string) (core.User, error) {
	if !storable(provider) || !storable(subject) {
		return core.User{}, core.ErrNotFound
	}
	return r.scanUser(r.q.QueryRow(ctx, `SELECT `+userColumns+`
		FROM external_identities e JOIN users u ON u.id = e.user_id
		WHERE e.provider = $1 AND e.subject = $2`, provider, subject))
}

func (t tx) LinkExternalID(ctx context.Context, provider, subject string, userID int64) error {
	_, err := t.write(ctx, "link external identity", stmt{
		sql:  `INSERT INTO external_identities (provider, subject, user_id) VALUES ($1, $2, $3)`,
		args: []any{provider, subject, userID},
	})
	return err
}

// DeleteUser relies on the foreign keys: every table that belongs to a
// user cascades from users.
func (t tx) DeleteUser(ctx context.Context, userID int64) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM users WHERE id = $1`, userID)
	return t.affectedOne("delete user", tag, err)
}

func (r reader) Avatar(ctx context.Context, id string) (core.Avatar, error) {
	if !storable(id) {
		return core.Avatar{}, core.ErrNotFound
	}
	var a core.Avatar
	err := r.q.QueryRow(ctx, `SELECT user_id, id, png, created FROM avatars WHERE id = $1`, id).
		Scan(&a.UserID, &a.ID, &a.PNG, &a.Created)
	if err != nil {
		return core.Avatar{}, r.err("read avatar", err)
	}
	a.Created = a.Created.UTC()
	return a, nil
}

// PutAvatar runs under a savepoint: a missing user or a taken id fails the
// statement alone.
func (t tx) PutAvatar(ctx context.Context, a core.Avatar) error {
	_, err := t.write(ctx, "put avatar", stmt{
		sql: `INSERT INTO avatars (user_id, id, png, created) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id) DO UPDATE SET id = excluded.id, png = excluded.png, created = excluded.created`,
		args: []any{a.UserID, a.ID, a.PNG, ts(a.Created)},
	})
	return err
}

func (t tx) DeleteAvatar(ctx context.Context, userID int64) error {
	_, err := t.q.Exec(ctx, `DELETE FROM avatars WHERE user_id = $1`, userID)
	return t.err("delete avatar", err)
}
