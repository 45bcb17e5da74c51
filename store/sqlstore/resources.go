package sqlstore

import (
	"context"
	"time"

	"github.com/profiled/profiled/core"
)

// This file holds the resources a user lists under /profile: SSH keys,
// authorized apps, trusted devices and logins (tokens have tokens.go).

var (
	sshKeys = ownedBy(SSHKeys, "user_id", "read ssh key", scanSSHKey)
	apps    = ownedBy(Apps, "user_id", "read app", scanApp)
	devices = ownedBy(Devices, "user_id", "read device", scanDevice)
	logins  = ownedBy(Logins, "user_id", "read login", scanLogin)
)

func scanSSHKey(row Row) (core.SSHKey, error) {
	var k core.SSHKey
	err := row.Scan(&k.ID, &k.UserID, &k.Label, &k.Key, &k.Fingerprint, at(&k.Created))
	return k, err
}

func (r Reader) SSHKey(ctx context.Context, userID, id int64) (core.SSHKey, error) {
	return sshKeys.get(ctx, r, userID, id)
}

func (r Reader) ListSSHKeys(ctx context.Context, userID int64, q core.ListQuery) ([]core.SSHKey, int, error) {
	return sshKeys.list(ctx, r, userID, q)
}

func (t Tx) CreateSSHKey(ctx context.Context, k *core.SSHKey) error {
	return t.insertHeld(ctx, "create ssh key", &k.ID,
		`INSERT INTO ssh_keys (user_id, label, key, fingerprint, created) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		k.UserID, k.Label, k.Key, k.Fingerprint, t.d.Time(k.Created))
}

func (t Tx) UpdateSSHKeyLabel(ctx context.Context, userID, id int64, label string) (core.SSHKey, error) {
	return one(ctx, t.Reader, "update ssh key", scanSSHKey,
		`UPDATE ssh_keys SET label = ? WHERE user_id = ? AND id = ? RETURNING `+SSHKeys.Columns, label, userID, id)
}

func (t Tx) DeleteSSHKey(ctx context.Context, userID, id int64) error {
	return t.exec(ctx, "delete ssh key", `DELETE FROM ssh_keys WHERE user_id = ? AND id = ?`, userID, id)
}

func scanApp(row Row) (core.App, error) {
	var a core.App
	err := row.Scan(&a.ID, &a.UserID, &a.ClientID, &a.Label, &a.Scopes, &a.Website,
		&a.ThumbnailURL, at(&a.Created), nullTimeDest{&a.Expiry}, &a.SID, &a.Issuer, &a.SessionBound, &a.Resource)
	return a, err
}

func (r Reader) App(ctx context.Context, userID, id int64) (core.App, error) {
	return apps.get(ctx, r, userID, id)
}

func (r Reader) ListApps(ctx context.Context, userID int64, q core.ListQuery) ([]core.App, int, error) {
	return apps.list(ctx, r, userID, q)
}

// LoggedInApps reads on the index of apps by user.
func (r Reader) LoggedInApps(ctx context.Context, userID int64, sid string, now time.Time) ([]core.App, error) {
	return collect(ctx, r, "read logged-in apps", scanApp, `SELECT `+Apps.Qualified("a")+` FROM apps a
		JOIN oauth_clients c ON c.id = a.client_id
		WHERE a.user_id = ? AND a.sid = ? AND c.backchannel_logout_uri <> '' AND (a.expiry IS NULL OR a.expiry > ?)`,
		userID, sid, r.d.Time(now))
}

func (t Tx) CreateApp(ctx context.Context, a *core.App) error {
	return t.insert(ctx, "create app", &a.ID, `INSERT INTO apps
		(user_id, client_id, label, scopes, website, thumbnail_url, created, expiry, sid, issuer, session_bound, resource)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.UserID, a.ClientID, a.Label, string(a.Scopes), a.Website, a.ThumbnailURL,
		t.d.Time(a.Created), t.nullTime(a.Expiry), a.SID, a.Issuer, a.SessionBound, a.Resource)
}

// DeleteSessionApps deletes the user's authorizations bound to the
// session sid, and their tokens (refresh tokens by the foreign key), with
// the transaction's next round trip: nothing reads what they change.
func (t Tx) DeleteSessionApps(ctx context.Context, userID int64, sid string) error {
	const bound = `SELECT id FROM apps WHERE user_id = ? AND sid = ? AND session_bound`
	if err := t.deferred(ctx, "delete session apps' tokens", `DELETE FROM tokens WHERE user_id = ? AND app_id IN (`+bound+`)`,
		userID, userID, sid); err != nil {
		return err
	}
	return t.deferred(ctx, "delete session apps", `DELETE FROM apps WHERE user_id = ? AND sid = ? AND session_bound`, userID, sid)
}

func (t Tx) ExtendApp(ctx context.Context, userID, id int64, expiry time.Time) error {
	return t.deferred(ctx, "extend app", `UPDATE apps SET expiry = ? WHERE user_id = ? AND id = ?`, t.d.Time(expiry), userID, id)
}

// DeleteApp deletes the authorization and the tokens issued under it. The
// foreign key would cascade too; deleting them here says so where it is
// read and does not lean on SQLite's foreign_keys pragma.
func (t Tx) DeleteApp(ctx context.Context, userID, id int64) error {
	if err := t.execAny(ctx, "delete app tokens", `DELETE FROM tokens WHERE user_id = ? AND app_id = ?`, userID, id); err != nil {
		return err
	}
	return t.exec(ctx, "delete app", `DELETE FROM apps WHERE user_id = ? AND id = ?`, userID, id)
}

func scanDevice(row Row) (core.Device, error) {
	var d core.Device
	err := row.Scan(&d.ID, &d.UserID, at(&d.Created), at(&d.Expiry), at(&d.LastAuthenticated), &d.LastRemoteAddr, &d.UserAgent)
	return d, err
}

func (r Reader) Device(ctx context.Context, userID, id int64) (core.Device, error) {
	return devices.get(ctx, r, userID, id)
}

func (r Reader) ListDevices(ctx context.Context, userID int64, q core.ListQuery) ([]core.Device, int, error) {
	return devices.list(ctx, r, userID, q)
}

func (t Tx) CreateDevice(ctx context.Context, d *core.Device) error {
	return t.insert(ctx, "create device", &d.ID, `INSERT INTO devices
		(user_id, created, expiry, last_authenticated, last_remote_addr, user_agent)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		d.UserID, t.d.Time(d.Created), t.d.Time(d.Expiry), t.d.Time(d.LastAuthenticated),
		d.LastRemoteAddr, d.UserAgent)
}

func (t Tx) DeleteDevice(ctx context.Context, userID, id int64) error {
	return t.exec(ctx, "delete device", `DELETE FROM devices WHERE user_id = ? AND id = ?`, userID, id)
}

func scanLogin(row Row) (core.Login, error) {
	var l core.Login
	err := row.Scan(&l.ID, &l.UserID, at(&l.Datetime), &l.IP, &l.Username, &l.Status, &l.Restricted, idDest{&l.AccountID})
	return l, err
}

func (r Reader) Login(ctx context.Context, userID, id int64) (core.Login, error) {
	return logins.get(ctx, r, userID, id)
}

func (r Reader) ListLogins(ctx context.Context, userID int64, q core.ListQuery) ([]core.Login, int, error) {
	return logins.list(ctx, r, userID, q)
}

func (t Tx) CreateLogin(ctx context.Context, l *core.Login) error {
	return t.insert(ctx, "create login", &l.ID, `INSERT INTO logins
		(user_id, datetime, ip, username, status, restricted, account_id)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		l.UserID, t.d.Time(l.Datetime), l.IP, l.Username, l.Status, l.Restricted, l.AccountID)
}
