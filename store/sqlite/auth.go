package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/profiled/profiled/core"
)

// This file implements core.AuthReader and core.AuthWriter: what sign-in
// and the OAuth authorization server keep (migrations/00002_auth.sql).

func (r reader) PasswordHash(ctx context.Context, userID int64) (string, error) {
	var h string
	err := r.q.QueryRowContext(ctx, `SELECT hash FROM passwords WHERE user_id = ?`, userID).Scan(&h)
	return h, storeErr("read password hash", err)
}

func (t tx) SetPasswordHash(ctx context.Context, userID int64, phc string) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO passwords (user_id, hash) VALUES (?, ?)
		ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash`, userID, phc)
	return storeErr("set password hash", err)
}

func (r reader) DeviceBySecret(ctx context.Context, userID int64, secretHash []byte) (core.Device, error) {
	return scanDevice(r.q.QueryRowContext(ctx,
		`SELECT `+devices.Columns+` FROM devices WHERE user_id = ? AND secret_hash = ?`, userID, secretHash))
}

func (t tx) CreateTrustedDevice(ctx context.Context, d *core.Device, secretHash []byte) error {
	err := t.q.QueryRowContext(ctx, `INSERT INTO devices
		(user_id, created, expiry, last_authenticated, last_remote_addr, user_agent, secret_hash)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		d.UserID, unix(d.Created), unix(d.Expiry), unix(d.LastAuthenticated),
		d.LastRemoteAddr, d.UserAgent, secretHash).Scan(&d.ID)
	return storeErr("create trusted device", err)
}

func (t tx) TouchDevice(ctx context.Context, userID, id int64, at time.Time, remoteAddr, userAgent string) error {
	res, err := t.q.ExecContext(ctx, `UPDATE devices SET last_authenticated = ?, last_remote_addr = ?, user_agent = ?
		WHERE user_id = ? AND id = ?`, unix(at), remoteAddr, userAgent, userID, id)
	return affectedOne("touch device", res, err)
}

func (r reader) LoginChallenge(ctx context.Context, hash []byte) (core.LoginChallenge, error) {
	var c core.LoginChallenge
	var created, expiry int64
	err := r.q.QueryRowContext(ctx, `SELECT hash, user_id, remember, created, expiry, ip, user_agent
		FROM login_challenges WHERE hash = ?`, hash).
		Scan(&c.Hash, &c.UserID, &c.Remember, &created, &expiry, &c.IP, &c.UserAgent)
	if err != nil {
		return core.LoginChallenge{}, storeErr("read login challenge", err)
	}
	c.Created, c.Expiry = fromUnix(created), fromUnix(expiry)
	return c, nil
}

func (t tx) CreateLoginChallenge(ctx context.Context, c core.LoginChallenge) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM login_challenges WHERE expiry < ?`, unix(c.Created)); err != nil {
		return storeErr("forget expired login challenges", err)
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO login_challenges
		(hash, user_id, remember, created, expiry, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.Hash, c.UserID, c.Remember, unix(c.Created), unix(c.Expiry), c.IP, c.UserAgent)
	return storeErr("create login challenge", err)
}

func (t tx) DeleteLoginChallenge(ctx context.Context, hash []byte) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM login_challenges WHERE hash = ?`, hash)
	return affectedOne("delete login challenge", res, err)
}

func (r reader) OAuthClient(ctx context.Context, clientID string) (core.OAuthClient, error) {
	var c core.OAuthClient
	var uris string
	var created int64
	err := r.q.QueryRowContext(ctx, `SELECT id, secret_hash, label, website, thumbnail_url, redirect_uris, public, first_party, created
		FROM oauth_clients WHERE id = ?`, clientID).
		Scan(&c.ID, &c.SecretHash, &c.Label, &c.Website, &c.ThumbnailURL, &uris, &c.Public, &c.FirstParty, &created)
	if err != nil {
		return core.OAuthClient{}, storeErr("read oauth client", err)
	}
	if err := json.Unmarshal([]byte(uris), &c.RedirectURIs); err != nil {
		return core.OAuthClient{}, fmt.Errorf("sqlite: read oauth client: redirect_uris: %w", err)
	}
	c.SecretHash = nonEmpty(c.SecretHash)
	c.Created = fromUnix(created)
	return c, nil
}

func (t tx) CreateOAuthClient(ctx context.Context, c core.OAuthClient) error {
	uris := c.RedirectURIs
	if uris == nil {
		uris = []string{}
	}
	js, err := json.Marshal(uris)
	if err != nil {
		return fmt.Errorf("sqlite: create oauth client: %w", err)
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO oauth_clients
		(id, secret_hash, label, website, thumbnail_url, redirect_uris, public, first_party, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, nonEmpty(c.SecretHash), c.Label, c.Website, c.ThumbnailURL, string(js), c.Public, c.FirstParty, unix(c.Created))
	return storeErr("create oauth client", err)
}

func (r reader) AuthCode(ctx context.Context, hash []byte) (core.AuthCode, error) {
	var c core.AuthCode
	var created, expiry int64
	var appID sql.NullInt64
	err := r.q.QueryRowContext(ctx, `SELECT hash, client_id, user_id, redirect_uri, scopes, challenge,
		created, expiry, used, app_id FROM oauth_codes WHERE hash = ?`, hash).
		Scan(&c.Hash, &c.ClientID, &c.UserID, &c.RedirectURI, &c.Scopes, &c.Challenge, &created, &expiry, &c.Used, &appID)
	if err != nil {
		return core.AuthCode{}, storeErr("read auth code", err)
	}
	c.Created, c.Expiry, c.AppID = fromUnix(created), fromUnix(expiry), appID.Int64
	return c, nil
}

func (t tx) CreateAuthCode(ctx context.Context, c core.AuthCode) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM oauth_codes WHERE expiry < ?`, unix(c.Created)); err != nil {
		return storeErr("forget expired auth codes", err)
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO oauth_codes
		(hash, client_id, user_id, redirect_uri, scopes, challenge, created, expiry, used, app_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, NULL)`,
		c.Hash, c.ClientID, c.UserID, c.RedirectURI, string(c.Scopes), c.Challenge, unix(c.Created), unix(c.Expiry))
	return storeErr("create auth code", err)
}

func (t tx) ClaimAuthCode(ctx context.Context, hash []byte, appID int64) error {
	res, err := t.q.ExecContext(ctx, `UPDATE oauth_codes SET used = 1, app_id = ? WHERE hash = ? AND used = 0`, appID, hash)
	return affectedOne("claim auth code", res, err)
}

func (r reader) RefreshToken(ctx context.Context, hash []byte) (core.RefreshToken, error) {
	var rt core.RefreshToken
	var created, expiry int64
	err := r.q.QueryRowContext(ctx, `SELECT hash, user_id, app_id, client_id, scopes, created, expiry, used
		FROM refresh_tokens WHERE hash = ?`, hash).
		Scan(&rt.Hash, &rt.UserID, &rt.AppID, &rt.ClientID, &rt.Scopes, &created, &expiry, &rt.Used)
	if err != nil {
		return core.RefreshToken{}, storeErr("read refresh token", err)
	}
	rt.Created, rt.Expiry = fromUnix(created), fromUnix(expiry)
	return rt, nil
}

func (t tx) CreateRefreshToken(ctx context.Context, rt core.RefreshToken) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO refresh_tokens
		(hash, user_id, app_id, client_id, scopes, created, expiry, used) VALUES (?, ?, ?, ?, ?, ?, ?, 0)`,
		rt.Hash, rt.UserID, rt.AppID, rt.ClientID, string(rt.Scopes), unix(rt.Created), unix(rt.Expiry))
	return storeErr("create refresh token", err)
}

func (t tx) ClaimRefreshToken(ctx context.Context, hash []byte) error {
	res, err := t.q.ExecContext(ctx, `UPDATE refresh_tokens SET used = 1 WHERE hash = ? AND used = 0`, hash)
	return affectedOne("claim refresh token", res, err)
}

func (r reader) PeekLimit(ctx context.Context, key string, now time.Time) (int, time.Time, error) {
	var count int
	var end int64
	err := r.q.QueryRowContext(ctx, `SELECT count, reset_at FROM rate_limits WHERE key = ? AND reset_at > ?`,
		key, unix(now)).Scan(&count, &end)
	if err == sql.ErrNoRows {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, storeErr("peek limit", err)
	}
	return count, fromUnix(end), nil
}
