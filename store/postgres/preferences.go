package postgres

import (
	"context"
	"encoding/json"

	"github.com/profiled/profiled/core"
)

func (r reader) Preferences(ctx context.Context, userID int64, clientID string) (json.RawMessage, error) {
	if !storable(clientID) {
		return nil, core.ErrNotFound
	}
	var value string
	err := r.q.QueryRow(ctx,
		`SELECT value FROM preferences WHERE user_id = $1 AND client_id = $2`, userID, clientID).Scan(&value)
	if err != nil {
		return nil, r.err("read preferences", err)
	}
	return json.RawMessage(value), nil
}

// PutPreferences stores value byte for byte (text, not jsonb, which would
// reorder keys), replacing what the client stored before. A missing user
// gives ErrNotFound.
func (t tx) PutPreferences(ctx context.Context, userID int64, clientID string, value json.RawMessage) error {
	_, err := t.write(ctx, "put preferences", stmt{
		sql: `INSERT INTO preferences (user_id, client_id, value) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, client_id) DO UPDATE SET value = excluded.value`,
		args: []any{userID, clientID, string(value)},
	})
	return err
}

// Grants returns ErrNotFound both for a missing user and for a user
// without stored grants.
func (r reader) Grants(ctx context.Context, userID int64) (core.Grants, error) {
	var g *string
	err := r.q.QueryRow(ctx, `SELECT grants FROM users WHERE id = $1`, userID).Scan(&g)
	if err != nil {
		return nil, r.err("read grants", err)
	}
	if g == nil {
		return nil, core.ErrNotFound
	}
	return core.Grants(*g), nil
}

// SetGrants stores g as-is; a nil g forgets the grants.
func (t tx) SetGrants(ctx context.Context, userID int64, g core.Grants) error {
	var value *string
	if g != nil {
		s := string(g)
		value = &s
	}
	tag, err := t.q.Exec(ctx, `UPDATE users SET grants = $1 WHERE id = $2`, value, userID)
	return t.affectedOne("set grants", tag, err)
}
