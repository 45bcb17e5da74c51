package sqlite

import (
	"context"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlfilter"
)

var devices = sqlfilter.Devices

func scanDevice(row scanner) (core.Device, error) {
	var d core.Device
	var created, expiry, lastAuth int64
	if err := row.Scan(&d.ID, &d.UserID, &created, &expiry, &lastAuth, &d.LastRemoteAddr, &d.UserAgent); err != nil {
		return core.Device{}, storeErr("read device", err)
	}
	d.Created, d.Expiry, d.LastAuthenticated = fromUnix(created), fromUnix(expiry), fromUnix(lastAuth)
	return d, nil
}

func (r reader) Device(ctx context.Context, userID, id int64) (core.Device, error) {
	return scanDevice(r.q.QueryRowContext(ctx,
		`SELECT `+devices.Columns+` FROM devices WHERE user_id = ? AND id = ?`, userID, id))
}

func (r reader) ListDevices(ctx context.Context, userID int64, q core.ListQuery) ([]core.Device, int, error) {
	return list(ctx, r, devices, userID, q, scanDevice)
}

func (t tx) CreateDevice(ctx context.Context, d *core.Device) error {
	err := t.q.QueryRowContext(ctx, `INSERT INTO devices
		(user_id, created, expiry, last_authenticated, last_remote_addr, user_agent)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		d.UserID, unix(d.Created), unix(d.Expiry), unix(d.LastAuthenticated),
		d.LastRemoteAddr, d.UserAgent).Scan(&d.ID)
	return storeErr("create device", err)
}

func (t tx) DeleteDevice(ctx context.Context, userID, id int64) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM devices WHERE user_id = ? AND id = ?`, userID, id)
	return affectedOne("delete device", res, err)
}
