package sqlite

import (
	"context"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlfilter"
)

var sshKeys = sqlfilter.SSHKeys

func scanSSHKey(row scanner) (core.SSHKey, error) {
	var k core.SSHKey
	var created int64
	if err := row.Scan(&k.ID, &k.UserID, &k.Label, &k.Key, &k.Fingerprint, &created); err != nil {
		return core.SSHKey{}, storeErr("read ssh key", err)
	}
	k.Created = fromUnix(created)
	return k, nil
}

func (r reader) SSHKey(ctx context.Context, userID, id int64) (core.SSHKey, error) {
	return scanSSHKey(r.q.QueryRowContext(ctx,
		`SELECT `+sshKeys.Columns+` FROM ssh_keys WHERE user_id = ? AND id = ?`, userID, id))
}

func (r reader) ListSSHKeys(ctx context.Context, userID int64, q core.ListQuery) ([]core.SSHKey, int, error) {
	return list(ctx, r, sshKeys, userID, q, scanSSHKey)
}

func (t tx) CreateSSHKey(ctx context.Context, k *core.SSHKey) error {
	err := t.q.QueryRowContext(ctx,
		`INSERT INTO ssh_keys (user_id, label, key, fingerprint, created) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		k.UserID, k.Label, k.Key, k.Fingerprint, unix(k.Created)).Scan(&k.ID)
	return storeErr("create ssh key", err)
}

func (t tx) UpdateSSHKeyLabel(ctx context.Context, userID, id int64, label string) error {
	res, err := t.q.ExecContext(ctx, `UPDATE ssh_keys SET label = ? WHERE user_id = ? AND id = ?`, label, userID, id)
	return affectedOne("update ssh key", res, err)
}

func (t tx) DeleteSSHKey(ctx context.Context, userID, id int64) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM ssh_keys WHERE user_id = ? AND id = ?`, userID, id)
	return affectedOne("delete ssh key", res, err)
}
