package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlfilter"
)

var tokens = sqlfilter.Tokens

// tokenByHashQuery reads a token and its user in one statement, built
// once: it runs on every authenticated request.
var tokenByHashQuery = `SELECT ` + tokens.Qualified("t") + `, ` + userColumns + `
		FROM tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = $1`

// tokenDest returns the scan destinations of a token's columns and a
// function that finishes tok once they are filled.
func tokenDest(tok *core.Token) ([]any, func()) {
	var appID *int64
	dest := []any{&tok.ID, &tok.UserID, &tok.Kind, &tok.Label, &tok.Scopes, &tok.Created,
		&tok.Expiry, &tok.Prefix, &tok.Hash, &tok.ClientID, &appID}
	return dest, func() {
		tok.Created = tok.Created.UTC()
		tok.Expiry = fromNullTS(tok.Expiry)
		if appID != nil {
			tok.AppID = *appID
		}
	}
}

func (r reader) scanToken(row pgx.Row, extra ...any) (core.Token, error) {
	var tok core.Token
	dest, finish := tokenDest(&tok)
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return core.Token{}, r.err("read token", err)
	}
	finish()
	return tok, nil
}

// TokenByHash finds the token and its user in one query on the unique
// index of tokens.hash.
func (r reader) TokenByHash(ctx context.Context, hash []byte) (core.Token, core.User, error) {
	var tok core.Token
	var u core.User
	tokDest, finishToken := tokenDest(&tok)
	userDest, finishUser := userDest(&u)
	err := r.q.QueryRow(ctx, tokenByHashQuery, hash).Scan(append(tokDest, userDest...)...)
	if err != nil {
		return core.Token{}, core.User{}, r.err("token by hash", err)
	}
	finishToken()
	finishUser()
	return tok, u, nil
}

func (r reader) Token(ctx context.Context, userID, id int64) (core.Token, error) {
	return r.scanToken(r.q.QueryRow(ctx,
		`SELECT `+tokens.Columns+` FROM tokens WHERE user_id = $1 AND id = $2`, userID, id))
}

func (r reader) ListTokens(ctx context.Context, userID int64, q core.ListQuery) ([]core.Token, int, error) {
	return list(ctx, r, tokens, userID, q, r.scanToken)
}

// CreateToken stores t; an AppID that is not one of the user's
// authorizations gives ErrNotFound, a hash already stored ErrDuplicate.
func (t tx) CreateToken(ctx context.Context, tok *core.Token) error {
	var appID *int64
	if tok.AppID != 0 {
		appID = &tok.AppID
	}
	_, err := t.write(ctx, "create token", stmt{
		sql: `INSERT INTO tokens
		(user_id, kind, label, scopes, created, expiry, prefix, hash, client_id, app_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		args: []any{tok.UserID, string(tok.Kind), tok.Label, string(tok.Scopes), ts(tok.Created),
			nullTS(tok.Expiry), tok.Prefix, tok.Hash, tok.ClientID, appID},
		scan: func(row pgx.Row) error { return row.Scan(&tok.ID) },
	})
	return err
}

func (t tx) UpdateTokenLabel(ctx context.Context, userID, id int64, label string) error {
	tag, err := t.q.Exec(ctx, `UPDATE tokens SET label = $1 WHERE user_id = $2 AND id = $3`, label, userID, id)
	return t.affectedOne("update token", tag, err)
}

func (t tx) DeleteToken(ctx context.Context, userID, id int64) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM tokens WHERE user_id = $1 AND id = $2`, userID, id)
	return t.affectedOne("delete token", tag, err)
}
