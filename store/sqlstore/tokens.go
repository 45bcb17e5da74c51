package sqlstore

import (
	"context"

	"github.com/profiled/profiled/core"
)

// tokenByHashQuery reads a token and its user in one statement, built
// once: it runs on every authenticated request.
var tokenByHashQuery = `SELECT ` + Tokens.Qualified("t") + `, ` + userColumns + `
		FROM tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = ?`

// tokenDest returns the scan destinations of a token's columns.
func tokenDest(tok *core.Token) []any {
	return []any{&tok.ID, &tok.UserID, &tok.Kind, &tok.Label, &tok.Scopes, at(&tok.Created),
		nullTimeDest{&tok.Expiry}, &tok.Prefix, &tok.Hash, &tok.ClientID, idDest{&tok.AppID}, &tok.AuthMethods, &tok.Resource}
}

var tokens = ownedBy(Tokens, "user_id", "read token", scanToken)

func scanToken(row Row) (core.Token, error) {
	var tok core.Token
	err := row.Scan(tokenDest(&tok)...)
	return tok, err
}

// TokenByHash finds the token and its user in one query on the unique
// index of tokens.hash.
func (r Reader) TokenByHash(ctx context.Context, hash []byte) (core.Token, core.User, error) {
	var tok core.Token
	var u core.User
	err := r.q.QueryRow(ctx, tokenByHashQuery, hash).Scan(append(tokenDest(&tok), userDest(&u)...)...)
	if err != nil {
		return core.Token{}, core.User{}, r.err("token by hash", err)
	}
	return tok, u, nil
}

func (r Reader) Token(ctx context.Context, userID, id int64) (core.Token, error) {
	return tokens.get(ctx, r, userID, id)
}

func (r Reader) ListTokens(ctx context.Context, userID int64, q core.ListQuery) ([]core.Token, int, error) {
	return tokens.list(ctx, r, userID, q)
}

// CreateToken stores t; an AppID that is not one of the user's
// authorizations gives ErrNotFound, a hash already stored ErrDuplicate.
func (t Tx) CreateToken(ctx context.Context, tok *core.Token) error {
	var appID any
	if tok.AppID != 0 {
		appID = tok.AppID
	}
	return t.insert(ctx, "create token", &tok.ID, `INSERT INTO tokens
		(user_id, kind, label, scopes, created, expiry, prefix, hash, client_id, app_id, amr, resource)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		tok.UserID, string(tok.Kind), tok.Label, string(tok.Scopes), t.d.Time(tok.Created),
		t.nullTime(tok.Expiry), tok.Prefix, tok.Hash, tok.ClientID, appID, string(tok.AuthMethods), tok.Resource)
}

func (t Tx) SetSessionAuthMethods(ctx context.Context, userID, id int64, methods core.AuthMethods) error {
	return t.exec(ctx, "set session auth methods", `UPDATE tokens SET amr = ? WHERE user_id = ? AND id = ? AND kind = ?`,
		string(methods), userID, id, string(core.TokenSession))
}

func (t Tx) UpdateTokenLabel(ctx context.Context, userID, id int64, label string) error {
	return t.exec(ctx, "update token", `UPDATE tokens SET label = ? WHERE user_id = ? AND id = ?`, label, userID, id)
}

func (t Tx) DeleteToken(ctx context.Context, userID, id int64) error {
	return t.exec(ctx, "delete token", `DELETE FROM tokens WHERE user_id = ? AND id = ?`, userID, id)
}
