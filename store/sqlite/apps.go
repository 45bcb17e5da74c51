package sqlite

import (
	"context"
	"database/sql"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlfilter"
)

var apps = sqlfilter.Apps

func scanApp(row scanner) (core.App, error) {
	var a core.App
	var created int64
	var expiry sql.NullInt64
	if err := row.Scan(&a.ID, &a.UserID, &a.ClientID, &a.Label, &a.Scopes, &a.Website,
		&a.ThumbnailURL, &created, &expiry); err != nil {
		return core.App{}, storeErr("read app", err)
	}
	a.Created = fromUnix(created)
	a.Expiry = fromNullUnix(expiry)
	return a, nil
}

func (r reader) App(ctx context.Context, userID, id int64) (core.App, error) {
	return scanApp(r.q.QueryRowContext(ctx,
		`SELECT `+apps.Columns+` FROM apps WHERE user_id = ? AND id = ?`, userID, id))
}

func (r reader) ListApps(ctx context.Context, userID int64, q core.ListQuery) ([]core.App, int, error) {
	return list(ctx, r, apps, userID, q, scanApp)
}

func (t tx) CreateApp(ctx context.Context, a *core.App) error {
	err := t.q.QueryRowContext(ctx, `INSERT INTO apps
		(user_id, client_id, label, scopes, website, thumbnail_url, created, expiry)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.UserID, a.ClientID, a.Label, string(a.Scopes), a.Website, a.ThumbnailURL,
		unix(a.Created), nullUnix(a.Expiry)).Scan(&a.ID)
	return storeErr("create app", err)
}

// DeleteApp deletes the authorization and the tokens issued under it. The
// foreign key would cascade too; deleting them here says so where it is
// read and does not lean on the foreign_keys pragma.
func (t tx) DeleteApp(ctx context.Context, userID, id int64) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM tokens WHERE user_id = ? AND app_id = ?`, userID, id); err != nil {
		return storeErr("delete app tokens", err)
	}
	res, err := t.q.ExecContext(ctx, `DELETE FROM apps WHERE user_id = ? AND id = ?`, userID, id)
	return affectedOne("delete app", res, err)
}
