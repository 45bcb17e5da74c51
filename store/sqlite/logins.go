package sqlite

import (
	"context"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlfilter"
)

var logins = sqlfilter.Logins

func scanLogin(row scanner) (core.Login, error) {
	var l core.Login
	var datetime int64
	if err := row.Scan(&l.ID, &l.UserID, &datetime, &l.IP, &l.Username, &l.Status, &l.Restricted); err != nil {
		return core.Login{}, storeErr("read login", err)
	}
	l.Datetime = fromUnix(datetime)
	return l, nil
}

func (r reader) Login(ctx context.Context, userID, id int64) (core.Login, error) {
	return scanLogin(r.q.QueryRowContext(ctx,
		`SELECT `+logins.Columns+` FROM logins WHERE user_id = ? AND id = ?`, userID, id))
}

func (r reader) ListLogins(ctx context.Context, userID int64, q core.ListQuery) ([]core.Login, int, error) {
	return list(ctx, r, logins, userID, q, scanLogin)
}

func (t tx) CreateLogin(ctx context.Context, l *core.Login) error {
	err := t.q.QueryRowContext(ctx, `INSERT INTO logins
		(user_id, datetime, ip, username, status, restricted)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		l.UserID, unix(l.Datetime), l.IP, l.Username, l.Status, l.Restricted).Scan(&l.ID)
	return storeErr("create login", err)
}
