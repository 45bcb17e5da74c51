package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlfilter"
)

var logins = sqlfilter.Logins

func (r reader) scanLogin(row pgx.Row, extra ...any) (core.Login, error) {
	var l core.Login
	dest := []any{&l.ID, &l.UserID, &l.Datetime, &l.IP, &l.Username, &l.Status, &l.Restricted}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return core.Login{}, r.err("read login", err)
	}
	l.Datetime = l.Datetime.UTC()
	return l, nil
}

func (r reader) Login(ctx context.Context, userID, id int64) (core.Login, error) {
	return r.scanLogin(r.q.QueryRow(ctx,
		`SELECT `+logins.Columns+` FROM logins WHERE user_id = $1 AND id = $2`, userID, id))
}

func (r reader) ListLogins(ctx context.Context, userID int64, q core.ListQuery) ([]core.Login, int, error) {
	return list(ctx, r, logins, userID, q, r.scanLogin)
}

func (t tx) CreateLogin(ctx context.Context, l *core.Login) error {
	_, err := t.write(ctx, "create login", stmt{
		sql: `INSERT INTO logins
		(user_id, datetime, ip, username, status, restricted)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		args: []any{l.UserID, ts(l.Datetime), l.IP, l.Username, l.Status, l.Restricted},
		scan: func(row pgx.Row) error { return row.Scan(&l.ID) },
	})
	return err
}
