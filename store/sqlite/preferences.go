package sqlite

import (
	"context"
	"encoding/json"

	"github.com/profiled/profiled/core"
)

func (r reader) Preferences(ctx context.Context, userID int64, clientID string) (json.RawMessage, error) {
	var value string
	err := r.q.QueryRowContext(ctx,
		`SELECT value FROM preferences WHERE user_id = ? AND client_id = ?`, userID, clientID).Scan(&value)
	if err != nil {
		return nil, storeErr("read preferences", err)
	}
	return json.RawMessage(value), nil
}

// PutPreferences stores value byte for byte, replacing what the client
// stored before. The bytes go to the driver as they are (bound as a blob,
// made text by the CAST) rather than as a string(value) copy: a value may
// be 100 MB.
func (t tx) PutPreferences(ctx context.Context, userID int64, clientID string, value json.RawMessage) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO preferences (user_id, client_id, value) VALUES (?, ?, CAST(? AS TEXT))
		ON CONFLICT (user_id, client_id) DO UPDATE SET value = excluded.value`,
		userID, clientID, []byte(value))
	return storeErr("put preferences", err)
}

// Grants returns ErrNotFound both for a missing user and for a user
// without stored grants.
func (r reader) Grants(ctx context.Context, userID int64) (core.Grants, error) {
	var g *string
	err := r.q.QueryRowContext(ctx, `SELECT grants FROM users WHERE id = ?`, userID).Scan(&g)
	if err != nil {
		return nil, storeErr("read grants", err)
	}
	if g == nil {
		return nil, core.ErrNotFound
	}
	return core.Grants(*g), nil
}

// SetGrants stores g as-is; a nil g forgets the grants.
func (t tx) SetGrants(ctx context.Context, userID int64, g core.Grants) error {
	var value any
	if g != nil {
		value = string(g)
	}
	res, err := t.q.ExecContext(ctx, `UPDATE users SET grants = ? WHERE id = ?`, value, userID)
	return affectedOne("set grants", res, err)
}
