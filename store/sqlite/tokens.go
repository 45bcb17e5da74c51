package sqlite

import (
	"context"
	"database/sql"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlfilter"
)

var tokens = sqlfilter.Tokens

// tokenByHashQuery reads a token and its user in one statement, built
// once: it runs on every authenticated request.
var tokenByHashQuery = `SELECT ` + tokens.Qualified("t") + `, ` + userColumns + `
		FROM tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = ?`

// tokenDest returns the scan destinations of a token's columns and a
// function that finishes tok once they are filled.
func tokenDest(tok *core.Token) ([]any, func()) {
	var created int64
	var expiry, appID sql.NullInt64
	dest := []any{&tok.ID, &tok.UserID, &tok.Kind, &tok.Label, &tok.Scopes, &created,
		&expiry, &tok.Prefix, &tok.Hash, &tok.ClientID, &appID}
	return dest, func() {
		tok.Created = fromUnix(created)
		tok.Expiry = fromNullUnix(expiry)
		tok.AppID = appID.Int64
	}
}

func scanToken(row scanner) (core.Token, error) {
	var tok core.Token
	dest, finish := tokenDest(&tok)
	if err := row.Scan(dest...); err != nil {
		return core.Token{}, storeErr("read token", err)
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
	err := r.q.QueryRowContext(ctx, tokenByHashQuery, hash).Scan(append(tokDest, userDest...)...)
	if err != nil {
		return core.Token{}, core.User{}, storeErr("token by hash", err)
	}
	finishToken()
	if err := finishUser(); err != nil {
		return core.Token{}, core.User{}, err
	}
	return tok, u, nil
}

func (r reader) Token(ctx context.Context, userID, id int64) (core.Token, error) {
	return scanToken(r.q.QueryRowContext(ctx,
		`SELECT `+tokens.Columns+` FROM tokens WHERE user_id = ? AND id = ?`, userID, id))
}

func (r reader) ListTokens(ctx context.Context, userID int64, q core.ListQuery) ([]core.Token, int, error) {
	return list(ctx, r, tokens, userID, q, scanToken)
}

// CreateToken stores t; an AppID that is not one of the user's
// authorizations gives ErrNotFound, a hash already stored ErrDuplicate.
func (t tx) CreateToken(ctx context.Context, tok *core.Token) error {
	var appID any
	if tok.AppID != 0 {
		appID = tok.AppID
	}
	err := t.q.QueryRowContext(ctx, `INSERT INTO tokens
		(user_id, kind, label, scopes, created, expiry, prefix, hash, client_id, app_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		tok.UserID, string(tok.Kind), tok.Label, string(tok.Scopes), unix(tok.Created),
		nullUnix(tok.Expiry), tok.Prefix, tok.Hash, tok.ClientID, appID).Scan(&tok.ID)
	return storeErr("create token", err)
}

func (t tx) UpdateTokenLabel(ctx context.Context, userID, id int64, label string) error {
	res, err := t.q.ExecContext(ctx, `UPDATE tokens SET label = ? WHERE user_id = ? AND id = ?`, label, userID, id)
	return affectedOne("update token", res, err)
}

func (t tx) DeleteToken(ctx context.Context, userID, id int64) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM tokens WHERE user_id = ? AND id = ?`, userID, id)
	return affectedOne("delete token", res, err)
}
