package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"

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
//
// A value may be 100 MB (the PACE face's limits), so it goes to the server
// through pgconn, which copies it once, into the message it sends: pgx's
// own batch would copy it twice (encoding the parameter, then the message),
// and string(value) once more. The savepoint keeps the contract of write.
func (t tx) PutPreferences(ctx context.Context, userID int64, clientID string, value json.RawMessage) error {
	const op = "put preferences"
	b := &pgconn.Batch{}
	b.ExecParams("SAVEPOINT "+savepoint, nil, nil, nil, nil)
	b.ExecParams(`INSERT INTO preferences (user_id, client_id, value) VALUES ($1::bigint, $2::text, $3::text)
		ON CONFLICT (user_id, client_id) DO UPDATE SET value = excluded.value`,
		[][]byte{strconv.AppendInt(nil, userID, 10), []byte(clientID), value}, nil, nil, nil)
	b.ExecParams("RELEASE SAVEPOINT "+savepoint, nil, nil, nil, nil)
	_, err := t.pgTx.Conn().PgConn().ExecBatch(ctx, b).ReadAll()
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		_, _ = t.pgTx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+savepoint+"; RELEASE SAVEPOINT "+savepoint)
	}
	return t.err(op, err)
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
