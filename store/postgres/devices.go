package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlfilter"
)

var devices = sqlfilter.Devices

func (r reader) scanDevice(row pgx.Row, extra ...any) (core.Device, error) {
	var d core.Device
	dest := []any{&d.ID, &d.UserID, &d.Created, &d.Expiry, &d.LastAuthenticated, &d.LastRemoteAddr, &d.UserAgent}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return core.Device{}, r.err("read device", err)
	}
	d.Created, d.Expiry, d.LastAuthenticated = d.Created.UTC(), d.Expiry.UTC(), d.LastAuthenticated.UTC()
	return d, nil
}

func (r reader) Device(ctx context.Context, userID, id int64) (core.Device, error) {
	return r.scanDevice(r.q.QueryRow(ctx,
		`SELECT `+devices.Columns+` FROM devices WHERE user_id = $1 AND id = $2`, userID, id))
}

func (r reader) ListDevices(ctx context.Context, userID int64, q core.ListQuery) ([]core.Device, int, error) {
	return list(ctx, r, devices, userID, q, r.scanDevice)
}

func (t tx) CreateDevice(ctx context.Context, d *core.Device) error {
	_, err := t.write(ctx, "create device", stmt{
		sql: `INSERT INTO devices
		(user_id, created, expiry, last_authenticated, last_remote_addr, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		args: []any{d.UserID, ts(d.Created), ts(d.Expiry), ts(d.LastAuthenticated), d.LastRemoteAddr, d.UserAgent},
		scan: func(row pgx.Row) error { return row.Scan(&d.ID) },
	})
	return err
}

func (t tx) DeleteDevice(ctx context.Context, userID, id int64) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM devices WHERE user_id = $1 AND id = $2`, userID, id)
	return t.affectedOne("delete device", tag, err)
}
