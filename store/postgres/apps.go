package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlfilter"
)

var apps = sqlfilter.Apps

func (r reader) scanApp(row pgx.Row, extra ...any) (core.App, error) {
	var a core.App
	dest := []any{&a.ID, &a.UserID, &a.ClientID, &a.Label, &a.Scopes, &a.Website,
		&a.ThumbnailURL, &a.Created, &a.Expiry}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return core.App{}, r.err("read app", err)
	}
	a.Created = a.Created.UTC()
	a.Expiry = fromNullTS(a.Expiry)
	return a, nil
}

func (r reader) App(ctx context.Context, userID, id int64) (core.App, error) {
	return r.scanApp(r.q.QueryRow(ctx,
		`SELECT `+apps.Columns+` FROM apps WHERE user_id = $1 AND id = $2`, userID, id))
}

func (r reader) ListApps(ctx context.Context, userID int64, q core.ListQuery) ([]core.App, int, error) {
	return list(ctx, r, apps, userID, q, r.scanApp)
}

func (t tx) CreateApp(ctx context.Context, a *core.App) error {
	_, err := t.write(ctx, "create app", stmt{
		sql: `INSERT INTO apps
		(user_id, client_id, label, scopes, website, thumbnail_url, created, expiry)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		args: []any{a.UserID, a.ClientID, a.Label, string(a.Scopes), a.Website, a.ThumbnailURL,
			ts(a.Created), nullTS(a.Expiry)},
		scan: func(row pgx.Row) error { return row.Scan(&a.ID) },
	})
	return err
}

// DeleteApp deletes the authorization and the tokens issued under it. The
// foreign key would cascade too; deleting them here says so where it is
// read.
func (t tx) DeleteApp(ctx context.Context, userID, id int64) error {
	if _, err := t.q.Exec(ctx, `DELETE FROM tokens WHERE user_id = $1 AND app_id = $2`, userID, id); err != nil {
		return t.err("delete app tokens", err)
	}
	tag, err := t.q.Exec(ctx, `DELETE FROM apps WHERE user_id = $1 AND id = $2`, userID, id)
	return t.affectedOne("delete app", tag, err)
}
