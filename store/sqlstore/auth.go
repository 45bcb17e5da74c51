package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/profiled/profiled/core"
)

// This file implements core.AuthReader and core.AuthWriter: what sign-in
// and the OAuth authorization server keep (migrations/00002_auth.sql),
// and the rate limits that guard them.

func (r Reader) PasswordHash(ctx context.Context, userID int64) (string, error) {
	var h string
	err := r.q.QueryRow(ctx, `SELECT hash FROM passwords WHERE user_id = ?`, userID).Scan(&h)
	return h, r.err("read password hash", err)
}

// SetPasswordHash stores the user's password hash, set at at; the zero
// at keeps the time stored (a rehash of the same password).
func (t Tx) SetPasswordHash(ctx context.Context, userID int64, phc string, at time.Time) error {
	return t.write(ctx, "set password hash", Stmt{SQL: `INSERT INTO passwords (user_id, hash, created) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, created = coalesce(excluded.created, passwords.created)`,
		Args: []any{userID, phc, t.zeroNull(at)}})
}

func (r Reader) DeviceBySecret(ctx context.Context, userID int64, secretHash []byte) (core.Device, error) {
	return one(ctx, r, "read device", scanDevice,
		`SELECT `+Devices.Columns+` FROM devices WHERE user_id = ? AND secret_hash = ?`, userID, secretHash)
}

func (t Tx) CreateTrustedDevice(ctx context.Context, d *core.Device, secretHash []byte) error {
	return t.insert(ctx, "create trusted device", &d.ID, `INSERT INTO devices
		(user_id, created, expiry, last_authenticated, last_remote_addr, user_agent, secret_hash)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		d.UserID, t.d.Time(d.Created), t.d.Time(d.Expiry), t.d.Time(d.LastAuthenticated),
		d.LastRemoteAddr, d.UserAgent, secretHash)
}

func (t Tx) TouchDevice(ctx context.Context, userID, id int64, when time.Time, remoteAddr, userAgent string) error {
	return t.exec(ctx, "touch device", `UPDATE devices SET last_authenticated = ?, last_remote_addr = ?, user_agent = ?
		WHERE user_id = ? AND id = ?`, t.d.Time(when), remoteAddr, userAgent, userID, id)
}

func (r Reader) LoginChallenge(ctx context.Context, hash []byte) (core.LoginChallenge, error) {
	var c core.LoginChallenge
	err := r.q.QueryRow(ctx, `SELECT hash, user_id, remember, created, expiry, ip, user_agent
		FROM login_challenges WHERE hash = ?`, hash).
		Scan(&c.Hash, &c.UserID, &c.Remember, at(&c.Created), at(&c.Expiry), &c.IP, &c.UserAgent)
	return c, r.err("read login challenge", err)
}

func (t Tx) CreateLoginChallenge(ctx context.Context, c core.LoginChallenge) error {
	return t.write(ctx, "create login challenge",
		Stmt{SQL: `DELETE FROM login_challenges WHERE expiry < ?`, Args: []any{t.d.Time(c.Created)}},
		Stmt{SQL: `INSERT INTO login_challenges (hash, user_id, remember, created, expiry, ip, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			Args: []any{c.Hash, c.UserID, c.Remember, t.d.Time(c.Created), t.d.Time(c.Expiry), c.IP, c.UserAgent}})
}

func (t Tx) DeleteLoginChallenge(ctx context.Context, hash []byte) error {
	return t.exec(ctx, "delete login challenge", `DELETE FROM login_challenges WHERE hash = ?`, hash)
}

// oauthClientColumns is the select list of a core.OAuthClient.
const oauthClientColumns = `id, secret_hash, label, website, thumbnail_url, redirect_uris, public, first_party, created,
	account_id, status, thumbnail IS NOT NULL, backchannel_logout_uri, device_grant, require_pushed, jwks, jwks_uri, require_mfa, registered`

func scanOAuthClient(row Row) (core.OAuthClient, error) {
	var c core.OAuthClient
	err := row.Scan(&c.ID, &c.SecretHash, &c.Label, &c.Website, &c.ThumbnailURL, stringsDest{&c.RedirectURIs},
		&c.Public, &c.FirstParty, at(&c.Created), idDest{&c.AccountID}, &c.Status, &c.HasThumbnail, &c.BackchannelLogoutURI, &c.DeviceGrant,
		&c.RequirePushed, &c.JWKS, &c.JWKSURI, &c.RequireMFA, &c.Registered)
	if c.RedirectURIs == nil {
		c.RedirectURIs = []string{}
	}
	c.SecretHash = nonEmpty(c.SecretHash)
	return c, err
}

func (r Reader) OAuthClient(ctx context.Context, clientID string) (core.OAuthClient, error) {
	if !storable(clientID) {
		return core.OAuthClient{}, core.ErrNotFound
	}
	return one(ctx, r, "read oauth client", scanOAuthClient, `SELECT `+oauthClientColumns+` FROM oauth_clients WHERE id = ?`, clientID)
}

func (t Tx) CreateOAuthClient(ctx context.Context, c core.OAuthClient) error {
	uris := c.RedirectURIs
	if uris == nil {
		uris = []string{}
	}
	var account any
	if c.AccountID != 0 {
		account = c.AccountID
	}
	return t.write(ctx, "create oauth client", Stmt{SQL: `INSERT INTO oauth_clients
		(id, secret_hash, label, website, thumbnail_url, redirect_uris, public, first_party, created, account_id, status,
		backchannel_logout_uri, device_grant, require_pushed, jwks, jwks_uri, require_mfa, registered)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		Args: []any{c.ID, nonEmpty(c.SecretHash), c.Label, c.Website, c.ThumbnailURL, jsonText(uris), c.Public, c.FirstParty,
			t.d.Time(c.Created), account, c.Status, c.BackchannelLogoutURI, c.DeviceGrant, c.RequirePushed, c.JWKS, c.JWKSURI, c.RequireMFA, c.Registered}})
}

func (r Reader) AuthCode(ctx context.Context, hash []byte) (core.AuthCode, error) {
	var c core.AuthCode
	err := r.q.QueryRow(ctx, `SELECT hash, client_id, user_id, redirect_uri, scopes, challenge, nonce, auth_time,
		created, expiry, used, app_id, sid, amr, resource FROM oauth_codes WHERE hash = ?`, hash).
		Scan(&c.Hash, &c.ClientID, &c.UserID, &c.RedirectURI, &c.Scopes, &c.Challenge, &c.Nonce, at(&c.AuthTime), at(&c.Created), at(&c.Expiry),
			&c.Used, idDest{&c.AppID}, &c.SID, &c.AuthMethods, &c.Resource)
	return c, r.err("read auth code", err)
}

func (t Tx) CreateAuthCode(ctx context.Context, c core.AuthCode) error {
	return t.write(ctx, "create auth code",
		Stmt{SQL: `DELETE FROM oauth_codes WHERE expiry < ?`, Args: []any{t.d.Time(c.Created)}},
		Stmt{SQL: `INSERT INTO oauth_codes
			(hash, client_id, user_id, redirect_uri, scopes, challenge, nonce, auth_time, created, expiry, used, app_id, sid, amr, resource)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE, NULL, ?, ?, ?)`,
			Args: []any{c.Hash, c.ClientID, c.UserID, c.RedirectURI, string(c.Scopes), c.Challenge, c.Nonce, t.zeroNull(c.AuthTime),
				t.d.Time(c.Created), t.d.Time(c.Expiry), c.SID, string(c.AuthMethods), c.Resource}})
}

func (t Tx) ClaimAuthCode(ctx context.Context, hash []byte, appID int64) error {
	return t.exec(ctx, "claim auth code", `UPDATE oauth_codes SET used = TRUE, app_id = ? WHERE hash = ? AND NOT used`, appID, hash)
}

func (r Reader) RefreshToken(ctx context.Context, hash []byte) (core.RefreshToken, error) {
	var rt core.RefreshToken
	err := r.q.QueryRow(ctx, `SELECT hash, user_id, app_id, client_id, scopes, created, expiry, used
		FROM refresh_tokens WHERE hash = ?`, hash).
		Scan(&rt.Hash, &rt.UserID, &rt.AppID, &rt.ClientID, &rt.Scopes, at(&rt.Created), at(&rt.Expiry), &rt.Used)
	return rt, r.err("read refresh token", err)
}

func (t Tx) CreateRefreshToken(ctx context.Context, rt core.RefreshToken) error {
	return t.write(ctx, "create refresh token", Stmt{SQL: `INSERT INTO refresh_tokens
		(hash, user_id, app_id, client_id, scopes, created, expiry, used) VALUES (?, ?, ?, ?, ?, ?, ?, FALSE)`,
		Args: []any{rt.Hash, rt.UserID, rt.AppID, rt.ClientID, string(rt.Scopes), t.d.Time(rt.Created), t.d.Time(rt.Expiry)}})
}

func (t Tx) ClaimRefreshToken(ctx context.Context, hash []byte) error {
	return t.exec(ctx, "claim refresh token", `UPDATE refresh_tokens SET used = TRUE WHERE hash = ? AND NOT used`, hash)
}

// PeekLimit reads key's counter without counting; a window that ended, or
// none, is a count of 0.
func (r Reader) PeekLimit(ctx context.Context, key string, now time.Time) (int, time.Time, error) {
	if !storable(key) {
		return 0, time.Time{}, nil
	}
	var count int
	var end time.Time
	err := r.err("peek limit", r.q.QueryRow(ctx, `SELECT count, reset_at FROM rate_limits WHERE key = ? AND reset_at > ?`,
		key, r.d.Time(now)).Scan(&count, at(&end)))
	if errors.Is(err, core.ErrNotFound) {
		return 0, time.Time{}, nil
	}
	return count, end, err
}

// HitLimit counts an attempt in one statement, so the read and the write
// of the counter cannot be split by another writer: INSERT ... ON CONFLICT
// DO UPDATE locks the counter's row, and concurrent attempts on any
// replica queue on it and each see the count the one before left. A
// window that ended (reset_at <= now) restarts at 1 with a new end.
func (t Tx) HitLimit(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	var count int
	var end time.Time
	nowArg := t.d.Time(now)
	err := t.q.QueryRow(ctx, `INSERT INTO rate_limits AS r (key, count, reset_at) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET
			count    = CASE WHEN r.reset_at <= ? THEN 1 ELSE r.count + 1 END,
			reset_at = CASE WHEN r.reset_at <= ? THEN excluded.reset_at ELSE r.reset_at END
		RETURNING count, reset_at`,
		key, t.d.Time(now.Add(window)), nowArg, nowArg).Scan(&count, at(&end))
	if err != nil {
		return 0, time.Time{}, t.err("hit limit", err)
	}
	return count, end, nil
}

// RefundLimit takes back one attempt of a window still open.
func (t Tx) RefundLimit(ctx context.Context, key string, now time.Time) error {
	if !storable(key) {
		return nil
	}
	return t.execAny(ctx, "refund limit",
		`UPDATE rate_limits SET count = count - 1 WHERE key = ? AND count > 0 AND reset_at > ?`, key, t.d.Time(now))
}

// ResetLimit forgets key's counter; forgetting an unknown key is no error.
func (t Tx) ResetLimit(ctx context.Context, key string) error {
	if !storable(key) {
		return nil
	}
	return t.execAny(ctx, "reset limit", `DELETE FROM rate_limits WHERE key = ?`, key)
}

func (r Reader) SigningKeys(ctx context.Context) ([]core.StoredSigningKey, error) {
	return collect(ctx, r, "read signing keys", func(row Row) (core.StoredSigningKey, error) {
		var k core.StoredSigningKey
		err := row.Scan(&k.ID, at(&k.Created), &k.Sealed)
		return k, err
	}, `SELECT id, created, sealed FROM signing_keys ORDER BY created DESC, id DESC`)
}

func (t Tx) CreateSigningKey(ctx context.Context, k core.StoredSigningKey) error {
	return t.write(ctx, "create signing key", Stmt{SQL: `INSERT INTO signing_keys (id, created, sealed) VALUES (?, ?, ?)`,
		Args: []any{k.ID, t.d.Time(k.Created), k.Sealed}})
}

func (t Tx) DeleteSigningKey(ctx context.Context, id string) error {
	return t.exec(ctx, "delete signing key", `DELETE FROM signing_keys WHERE id = ?`, id)
}

// expiredDeletes are DeleteExpired's statements, in the order that keeps
// every reference whole: what was issued under an expired authorization
// goes before it (all of it: an access token or a refresh token outlives
// none of its authorization's, so there is next to nothing), and each
// table's own expired rows go in batches of at most the limit, over the
// expiry indexes of migration 00104.
var expiredDeletes = []timedDelete{
	{"delete expired refresh tokens", `DELETE FROM refresh_tokens WHERE hash IN
		(SELECT hash FROM refresh_tokens WHERE expiry < ? LIMIT ?)`, true},
	{"delete expired tokens", `DELETE FROM tokens WHERE id IN (SELECT id FROM tokens WHERE expiry < ? LIMIT ?)`, true},
	{"delete expired apps' tokens", `DELETE FROM tokens WHERE app_id IN (SELECT id FROM apps WHERE expiry < ?)`, false},
	{"delete expired apps' refresh tokens", `DELETE FROM refresh_tokens WHERE app_id IN
		(SELECT id FROM apps WHERE expiry < ?)`, false},
	{"delete expired apps", `DELETE FROM apps WHERE id IN (SELECT id FROM apps WHERE expiry < ? LIMIT ?)`, true},
	{"delete expired devices", `DELETE FROM devices WHERE id IN (SELECT id FROM devices WHERE expiry < ? LIMIT ?)`, true},
	// Each new code deletes the expired ones too (CreateAuthCode), but the
	// last code of a quiet server would stay, and keep its client
	// (unusedRegistrations).
	{"delete expired authorization codes", `DELETE FROM oauth_codes WHERE hash IN
		(SELECT hash FROM oauth_codes WHERE expiry < ? LIMIT ?)`, true},
	{"delete expired device codes", `DELETE FROM device_codes WHERE hash IN
		(SELECT hash FROM device_codes WHERE expiry < ? LIMIT ?)`, true},
	{"delete expired pushed authorizations", `DELETE FROM pushed_authorizations WHERE hash IN
		(SELECT hash FROM pushed_authorizations WHERE expiry < ? LIMIT ?)`, true},
	// A counter whose window ended counts as none (HitLimit starts it
	// again at 1), but one is left by every username and address guessed
	// at: over the index of migration 00106.
	{"delete ended rate limits", `DELETE FROM rate_limits WHERE key IN
		(SELECT key FROM rate_limits WHERE reset_at < ? LIMIT ?)`, true},
}

func (t Tx) DeleteExpired(ctx context.Context, before time.Time, limit int) (int64, error) {
	return t.deleteBefore(ctx, expiredDeletes, before, limit)
}

// historyDeletes are DeleteHistory's, over the indexes of migration 00106.
// Each user's newest login stays, however old: it is their last_login on
// /account/users.
var historyDeletes = []timedDelete{
	{"delete old logins", `DELETE FROM logins WHERE id IN (SELECT id FROM logins l WHERE datetime < ?
		AND id < (SELECT max(id) FROM logins n WHERE n.user_id = l.user_id) LIMIT ?)`, true},
	{"delete old account events", `DELETE FROM account_events WHERE id IN
		(SELECT id FROM account_events WHERE created < ? LIMIT ?)`, true},
}

// unusedRegistrations is DeleteUnusedRegistrations'. A client with a code
// still held is kept: the exchange that would make its authorization may
// be under way.
var unusedRegistrations = []timedDelete{
	{"delete unused registrations", `DELETE FROM oauth_clients WHERE id IN (SELECT c.id FROM oauth_clients c
		WHERE c.registered AND c.created < ?
		AND NOT EXISTS (SELECT 1 FROM apps a WHERE a.client_id = c.id)
		AND NOT EXISTS (SELECT 1 FROM oauth_codes o WHERE o.client_id = c.id) LIMIT ?)`, true},
}

func (t Tx) DeleteUnusedRegistrations(ctx context.Context, before time.Time, limit int) (int64, error) {
	return t.deleteBefore(ctx, unusedRegistrations, before, limit)
}

func (t Tx) DeleteHistory(ctx context.Context, before time.Time, limit int) (int64, error) {
	return t.deleteBefore(ctx, historyDeletes, before, limit)
}

// timedDelete is a DELETE of the rows older than a time.
type timedDelete struct {
	op, sql string
	limited bool // the statement takes the limit after the time
}

// deleteBefore runs deletes, each with the time and, if limited, the
// limit, and returns how many rows they deleted in all.
func (t Tx) deleteBefore(ctx context.Context, deletes []timedDelete, before time.Time, limit int) (int64, error) {
	var deleted int64
	for _, d := range deletes {
		args := []any{t.d.Time(before)}
		if d.limited {
			args = append(args, limit)
		}
		n, err := t.q.Exec(ctx, d.sql, args...)
		if err != nil {
			return deleted, t.err(d.op, err)
		}
		deleted += n
	}
	return deleted, nil
}
