package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlfilter"
)

var sshKeys = sqlfilter.SSHKeys

func (r reader) scanSSHKey(row pgx.Row, extra ...any) (core.SSHKey, error) {
	var k core.SSHKey
	dest := []any{&k.ID, &k.UserID, &k.Label, &k.Key, &k.Fingerprint, &k.Created}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return core.SSHKey{}, r.err("read ssh key", err)
	}
	k.Created = k.Created.UTC()
	return k, nil
}

func (r reader) SSHKey(ctx context.Context, userID, id int64) (core.SSHKey, error) {
	return r.scanSSHKey(r.q.QueryRow(ctx,
		`SELECT `+sshKeys.Columns+` FROM ssh_keys WHERE user_id = $1 AND id = $2`, userID, id))
}

func (r reader) ListSSHKeys(ctx context.Context, userID int64, q core.ListQuery) ([]core.SSHKey, int, error) {
	return list(ctx, r, sshKeys, userID, q, r.scanSSHKey)
}

func (t tx) CreateSSHKey(ctx context.Context, k *core.SSHKey) error {
	_, err := t.write(ctx, "create ssh key", stmt{
		sql:  `INSERT INTO ssh_keys (user_id, label, key, fingerprint, created) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		args: []any{k.UserID, k.Label, k.Key, k.Fingerprint, ts(k.Created)},
		scan: func(row pgx.Row) error { return row.Scan(&k.ID) },
	})
	return err
}

func (t tx) UpdateSSHKeyLabel(ctx context.Context, userID, id int64, label string) error {
	tag, err := t.q.Exec(ctx, `UPDATE ssh_keys SET label = $1 WHERE user_id = $2 AND id = $3`, label, userID, id)
	return t.affectedOne("update ssh key", tag, err)
}

func (t tx) DeleteSSHKey(ctx context.Context, userID, id int64) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM ssh_keys WHERE user_id = $1 AND id = $2`, userID, id)
	return t.affectedOne("delete ssh key", tag, err)
}
