package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/profiled/profiled/core"
)

// The device codes of RFC 8628 (core/device.go, migration 00111), and the
// pushed authorization requests of RFC 9126 below: the requests that wait
// for a browser or a device.

const deviceCodeColumns = `hash, user_code, client_id, scopes, created, expiry, poll_interval, status,
	user_id, granted, sid, auth_time, app_id, amr, resource`

func scanDeviceCode(row Row) (core.DeviceCode, error) {
	var d core.DeviceCode
	var interval int64
	err := row.Scan(&d.Hash, &d.UserCode, &d.ClientID, &d.Scopes, at(&d.Created), at(&d.Expiry), &interval, &d.Status,
		idDest{&d.UserID}, &d.Granted, &d.SID, at(&d.AuthTime), idDest{&d.AppID}, &d.AuthMethods, &d.Resource)
	d.Interval = time.Duration(interval) * time.Second
	return d, err
}

func (r Reader) DeviceCodeByUserCode(ctx context.Context, userCodeHash []byte) (core.DeviceCode, error) {
	return one(ctx, r, "read device code", scanDeviceCode, `SELECT `+deviceCodeColumns+` FROM device_codes WHERE user_code = ?`, userCodeHash)
}

func (t Tx) CreateDeviceCode(ctx context.Context, d core.DeviceCode) error {
	return t.write(ctx, "create device code",
		Stmt{SQL: `DELETE FROM device_codes WHERE expiry < ?`, Args: []any{t.d.Time(d.Created)}},
		Stmt{SQL: `INSERT INTO device_codes (hash, user_code, client_id, scopes, created, expiry, poll_interval, next_poll, status, resource)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			Args: []any{d.Hash, d.UserCode, d.ClientID, string(d.Scopes), t.d.Time(d.Created), t.d.Time(d.Expiry),
				int64(d.Interval / time.Second), d.Created.Unix(), core.DeviceCodePending, d.Resource}})
}

func (t Tx) DecideDeviceCode(ctx context.Context, d core.DeviceCode, now time.Time) error {
	return t.exec(ctx, "decide device code", `UPDATE device_codes SET status = ?, user_id = ?, granted = ?, sid = ?, auth_time = ?,
		amr = ? WHERE user_code = ? AND status = ? AND expiry > ?`,
		d.Status, d.UserID, string(d.Granted), d.SID, t.zeroNull(d.AuthTime), string(d.AuthMethods), d.UserCode, core.DeviceCodePending, t.d.Time(now))
}

// PollDeviceCode is one statement when the poll is in time, and a second
// when it is not: each UPDATE reads next_poll under the row's lock, so
// of polls sent at once to any number of replicas one is in time.
func (t Tx) PollDeviceCode(ctx context.Context, hash []byte, now time.Time, slowDown time.Duration) (core.DeviceCode, bool, error) {
	d, err := one(ctx, t.Reader, "poll device code", scanDeviceCode, `UPDATE device_codes SET next_poll = ? + poll_interval
		WHERE hash = ? AND next_poll <= ? RETURNING `+deviceCodeColumns, now.Unix(), hash, now.Unix())
	if !errors.Is(err, core.ErrNotFound) {
		return d, false, err
	}
	step := int64(slowDown / time.Second)
	d, err = one(ctx, t.Reader, "slow device code", scanDeviceCode, `UPDATE device_codes
		SET poll_interval = poll_interval + ?, next_poll = ? + poll_interval + ? WHERE hash = ? RETURNING `+deviceCodeColumns,
		step, now.Unix(), step, hash)
	return d, err == nil, err
}

func (t Tx) ClaimDeviceCode(ctx context.Context, hash []byte, appID int64) error {
	return t.exec(ctx, "claim device code", `UPDATE device_codes SET status = ?, app_id = ? WHERE hash = ? AND status = ?`,
		core.DeviceCodeUsed, appID, hash, core.DeviceCodeApproved)
}

// The pushed authorization requests of RFC 9126 (core/par.go, migration
// 00112), whose parameters are a JSON object.

func (r Reader) PushedAuthorization(ctx context.Context, hash []byte) (core.PushedAuthorization, error) {
	var p core.PushedAuthorization
	var params string
	err := r.q.QueryRow(ctx, `SELECT hash, client_id, params, created, expiry FROM pushed_authorizations WHERE hash = ?`, hash).
		Scan(&p.Hash, &p.ClientID, &params, at(&p.Created), at(&p.Expiry))
	if err != nil {
		return p, r.err("read pushed authorization", err)
	}
	return p, json.Unmarshal([]byte(params), &p.Params)
}

func (t Tx) CreatePushedAuthorization(ctx context.Context, p core.PushedAuthorization) error {
	params, err := json.Marshal(p.Params)
	if err != nil {
		return err
	}
	return t.write(ctx, "create pushed authorization",
		Stmt{SQL: `DELETE FROM pushed_authorizations WHERE expiry < ?`, Args: []any{t.d.Time(p.Created)}},
		Stmt{SQL: `INSERT INTO pushed_authorizations (hash, client_id, params, created, expiry) VALUES (?, ?, ?, ?, ?)`,
			Args: []any{p.Hash, p.ClientID, string(params), t.d.Time(p.Created), t.d.Time(p.Expiry)}})
}

func (t Tx) DeletePushedAuthorization(ctx context.Context, hash []byte) error {
	return t.exec(ctx, "delete pushed authorization", `DELETE FROM pushed_authorizations WHERE hash = ?`, hash)
}

func (t Tx) SpendClientAssertion(ctx context.Context, clientID string, jtiHash []byte, expiry, now time.Time) error {
	return t.write(ctx, "spend client assertion",
		Stmt{SQL: `DELETE FROM client_assertions WHERE expiry < ?`, Args: []any{t.d.Time(now)}},
		Stmt{SQL: `INSERT INTO client_assertions (client_id, jti_hash, expiry) VALUES (?, ?, ?)`,
			Args: []any{clientID, jtiHash, t.d.Time(expiry)}})
}
