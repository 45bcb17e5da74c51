package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/profiled/profiled/core"
)

// This file implements core.AuthReader and core.AuthWriter: what sign-in
// and the OAuth authorization server keep (migrations/00002_auth.sql).

func (r reader) PasswordHash(ctx context.Context, userID int64) (string, error) {
	var h string
	err := r.q.QueryRow(ctx, `SELECT hash FROM passwords WHERE user_id = $1`, userID).Scan(&h)
	return h, r.err("read password hash", err)
}

func (t tx) SetPasswordHash(ctx context.Context, userID int64, phc string) error {
	_, err := t.write(ctx, "set password hash", stmt{
		sql: `INSERT INTO passwords (user_id, hash) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash`,
		args: []any{userID, phc},
	})
	return err
}

func (r reader) DeviceBySecret(ctx context.Context, userID int64, secretHash []byte) (core.Device, error) {
	return r.scanDevice(r.q.QueryRow(ctx,
		`SELECT `+devices.Columns+` FROM devices WHERE user_id = $1 AND secret_hash = $2`, userID, secretHash))
}

func (t tx) CreateTrustedDevice(ctx context.Context, d *core.Device, secretHash []byte) error {
	_, err := t.write(ctx, "create trusted device", stmt{
		sql: `INSERT INTO devices
		(user_id, created, expiry, last_authenticated, last_remote_addr, user_agent, secret_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		args: []any{d.UserID, ts(d.Created), ts(d.Expiry), ts(d.LastAuthenticated), d.LastRemoteAddr, d.UserAgent, secretHash},
		scan: func(row pgx.Row) error { return row.Scan(&d.ID) },
	})
	return err
}

func (t tx) TouchDevice(ctx context.Context, userID, id int64, at time.Time, remoteAddr, userAgent string) error {
	tag, err := t.q.Exec(ctx, `UPDATE devices SET last_authenticated = $1, last_remote_addr = $2, user_agent = $3
		WHERE user_id = $4 AND id = $5`, ts(at), remoteAddr, userAgent, userID, id)
	return t.affectedOne("touch device", tag, err)
}

func (r reader) LoginChallenge(ctx context.Context, hash []byte) (core.LoginChallenge, error) {
	var c core.LoginChallenge
	err := r.q.QueryRow(ctx, `SELECT hash, user_id, remember, created, expiry, ip, user_agent
		FROM login_challenges WHERE hash = $1`, hash).
		Scan(&c.Hash, &c.UserID, &c.Remember, &c.Created, &c.Expiry, &c.IP, &c.UserAgent)
	if err != nil {
		return core.LoginChallenge{}, r.err("read login challenge", err)
	}
	c.Created, c.Expiry = c.Created.UTC(), c.Expiry.UTC()
	return c, nil
}

func (t tx) CreateLoginChallenge(ctx context.Context, c core.LoginChallenge) error {
	_, err := t.write(ctx, "create login challenge",
		stmt{sql: `DELETE FROM login_challenges WHERE expiry < $1`, args: []any{ts(c.Created)}},
		stmt{sql: `INSERT INTO login_challenges (hash, user_id, remember, created, expiry, ip, user_agent)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			args: []any{c.Hash, c.UserID, c.Remember, ts(c.Created), ts(c.Expiry), c.IP, c.UserAgent}})
	return err
}

func (t tx) DeleteLoginChallenge(ctx context.Context, hash []byte) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM login_challenges WHERE hash = $1`, hash)
	return t.affectedOne("delete login challenge", tag, err)
}

func (r reader) OAuthClient(ctx context.Context, clientID string) (core.OAuthClient, error) {
	if !storable(clientID) {
		return core.OAuthClient{}, core.ErrNotFound
	}
	var c core.OAuthClient
	err := r.q.QueryRow(ctx, `SELECT id, secret_hash, label, website, thumbnail_url, redirect_uris, public, first_party, created
		FROM oauth_clients WHERE id = $1`, clientID).
		Scan(&c.ID, &c.SecretHash, &c.Label, &c.Website, &c.ThumbnailURL, &c.RedirectURIs, &c.Public, &c.FirstParty, &c.Created)
	if err != nil {
		return core.OAuthClient{}, r.err("read oauth client", err)
	}
	if c.RedirectURIs == nil {
		c.RedirectURIs = []string{}
	}
	c.SecretHash = nonEmpty(c.SecretHash)
	c.Created = c.Created.UTC()
	return c, nil
}

func (t tx) CreateOAuthClient(ctx context.Context, c core.OAuthClient) error {
	uris := c.RedirectURIs
	if uris == nil {
		uris = []string{}
	}
	_, err := t.write(ctx, "create oauth client", stmt{
		sql: `INSERT INTO oauth_clients (id, secret_hash, label, website, thumbnail_url, redirect_uris, public, first_party, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		args: []any{c.ID, nonEmpty(c.SecretHash), c.Label, c.Website, c.ThumbnailURL, uris, c.Public, c.FirstParty, ts(c.Created)},
	})
	return err
}

func (r reader) AuthCode(ctx context.Context, hash []byte) (core.AuthCode, error) {
	var c core.AuthCode
	var appID *int64
	err := r.q.QueryRow(ctx, `SELECT hash, client_id, user_id, redirect_uri, scopes, challenge,
		created, expiry, used, app_id FROM oauth_codes WHERE hash = $1`, hash).
		Scan(&c.Hash, &c.ClientID, &c.UserID, &c.RedirectURI, &c.Scopes, &c.Challenge, &c.Created, &c.Expiry, &c.Used, &appID)
	if err != nil {
		return core.AuthCode{}, r.err("read auth code", err)
	}
	c.Created, c.Expiry = c.Created.UTC(), c.Expiry.UTC()
	if appID != nil {
		c.AppID = *appID
	}
	return c, nil
}

func (t tx) CreateAuthCode(ctx context.Context, c core.AuthCode) error {
	_, err := t.write(ctx, "create auth code",
		stmt{sql: `DELETE FROM oauth_codes WHERE expiry < $1`, args: []any{ts(c.Created)}},
		stmt{sql: `INSERT INTO oauth_codes
			(hash, client_id, user_id, redirect_uri, scopes, challenge, created, expiry, used, app_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false, NULL)`,
			args: []any{c.Hash, c.ClientID, c.UserID, c.RedirectURI, string(c.Scopes), c.Challenge, ts(c.Created), ts(c.Expiry)}})
	return err
}

func (t tx) ClaimAuthCode(ctx context.Context, hash []byte, appID int64) error {
	tag, err := t.q.Exec(ctx, `UPDATE oauth_codes SET used = true, app_id = $1 WHERE hash = $2 AND NOT used`, appID, hash)
	return t.affectedOne("claim auth code", tag, err)
}

func (r reader) RefreshToken(ctx context.Context, hash []byte) (core.RefreshToken, error) {
	var rt core.RefreshToken
	err := r.q.QueryRow(ctx, `SELECT hash, user_id, app_id, client_id, scopes, created, expiry, used
		FROM refresh_tokens WHERE hash = $1`, hash).
		Scan(&rt.Hash, &rt.UserID, &rt.AppID, &rt.ClientID, &rt.Scopes, &rt.Created, &rt.Expiry, &rt.Used)
	if err != nil {
		return core.RefreshToken{}, r.err("read refresh token", err)
	}
	rt.Created, rt.Expiry = rt.Created.UTC(), rt.Expiry.UTC()
	return rt, nil
}

func (t tx) CreateRefreshToken(ctx context.Context, rt core.RefreshToken) error {
	_, err := t.write(ctx, "create refresh token", stmt{
		sql: `INSERT INTO refresh_tokens (hash, user_id, app_id, client_id, scopes, created, expiry, used)
		VALUES ($1, $2, $3, $4, $5, $6, $7, false)`,
		args: []any{rt.Hash, rt.UserID, rt.AppID, rt.ClientID, string(rt.Scopes), ts(rt.Created), ts(rt.Expiry)},
	})
	return err
}

func (t tx) ClaimRefreshToken(ctx context.Context, hash []byte) error {
	tag, err := t.q.Exec(ctx, `UPDATE refresh_tokens SET used = true WHERE hash = $1 AND NOT used`, hash)
	return t.affectedOne("claim refresh token", tag, err)
}

func (r reader) PeekLimit(ctx context.Context, key string, now time.Time) (int, time.Time, error) {
	if !storable(key) {
		return 0, time.Time{}, nil
	}
	var count int
	var end time.Time
	err := r.q.QueryRow(ctx, `SELECT count, reset_at FROM rate_limits WHERE key = $1 AND reset_at > $2`,
		key, ts(now)).Scan(&count, &end)
	if err == pgx.ErrNoRows {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, r.err("peek limit", err)
	}
	return count, end.UTC(), nil
}
