package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/profiled/profiled/core"
)

// This file holds accounts, the users and logins of an account, and the
// OAuth clients an account registers (migrations/00096_accounts.sql).

func (r Reader) Account(ctx context.Context, id int64) (core.Account, error) {
	var a core.Account
	var contact, settings string
	err := r.q.QueryRow(ctx, `SELECT id, euuid, created, contact, settings FROM accounts WHERE id = ?`, id).
		Scan(&a.ID, &a.EUUID, at(&a.Created), &contact, &settings)
	if err != nil {
		return core.Account{}, r.err("read account", err)
	}
	if err := errors.Join(json.Unmarshal([]byte(contact), &a.Contact), json.Unmarshal([]byte(settings), &a.Settings)); err != nil {
		return core.Account{}, r.err("read account", err)
	}
	return a, nil
}

// createAccount makes the new, empty account of a user created without
// one, with a random (version 4) UUID as its euuid.
func (t Tx) createAccount(ctx context.Context, created time.Time) (int64, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return 0, fmt.Errorf("%s: create account: %w", t.d.Name, err)
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	euuid := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	var id int64
	err := t.insert(ctx, "create account", &id, `INSERT INTO accounts (euuid, created) VALUES (?, ?) RETURNING id`,
		euuid, t.d.Time(created))
	return id, err
}

func (t Tx) UpdateAccount(ctx context.Context, a core.Account) error {
	return t.exec(ctx, "update account", `UPDATE accounts SET contact = ?, settings = ? WHERE id = ?`,
		jsonObject(a.Contact), jsonObject(a.Settings), a.ID)
}

func (t Tx) LockAccount(ctx context.Context, id int64) error {
	var one int
	err := t.q.QueryRow(ctx, accountRowSQL+t.d.ForUpdate, id).Scan(&one)
	return t.err("lock account", err)
}

// jsonObject is the JSON text of a struct the core gives the store to keep.
func jsonObject(v any) string {
	b, _ := json.Marshal(v) // structs of strings and bools always marshal
	return string(b)
}

func (r Reader) ListAccountUsers(ctx context.Context, accountID int64, q core.ListQuery) ([]core.User, int, error) {
	return list(ctx, r, AccountUsers, "u.account_id", accountID, q, scanUser)
}

func (r Reader) UsersAfter(ctx context.Context, afterID int64, limit int) ([]core.User, error) {
	return collect(ctx, r, "list users", scanUser,
		`SELECT `+userColumns+` FROM users u WHERE u.id > ? ORDER BY u.id LIMIT ?`, afterID, limit)
}

func (r Reader) AccountUser(ctx context.Context, accountID int64, username string) (core.User, error) {
	if !storable(username) {
		return core.User{}, core.ErrNotFound
	}
	return one(ctx, r, "read user", scanUser,
		`SELECT `+userColumns+` FROM users u WHERE u.account_id = ? AND `+r.d.EqualFold("u.username"), accountID, username)
}

func (r Reader) CountOwners(ctx context.Context, accountID int64) (int, error) {
	var n int
	err := r.q.QueryRow(ctx, `SELECT count(*) FROM users WHERE account_id = ? AND NOT restricted`, accountID).Scan(&n)
	return n, r.err("count owners", err)
}

func (r Reader) UserSummary(ctx context.Context, userID int64) (core.UserSummary, error) {
	const op = "user summary"
	var s core.UserSummary
	labels, err := collect(ctx, r, op, func(row Row) (string, error) {
		var l string
		err := row.Scan(&l)
		return l, err
	}, `SELECT label FROM ssh_keys WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return s, err
	}
	s.SSHKeyLabels = labels
	last, err := one(ctx, r, op, scanLogin, `SELECT `+Logins.Columns+` FROM logins WHERE user_id = ? ORDER BY id DESC LIMIT 1`, userID)
	switch {
	case err == nil:
		s.LastLogin = &last
	case !errors.Is(err, core.ErrNotFound):
		return s, err
	}
	err = r.q.QueryRow(ctx, `SELECT created FROM passwords WHERE user_id = ?`, userID).Scan(nullTimeDest{&s.PasswordCreated})
	if err = r.err(op, err); err != nil && !errors.Is(err, core.ErrNotFound) {
		return s, err
	}
	return s, nil
}

// The account's logins and events, for its administrators.
var (
	accountLogins = ownedBy(Logins, "account_id", "read login", scanLogin)
	accountEvents = ownedBy(AccountEvents, "account_id", "read event", scanAccountEvent)
)

func (r Reader) ListAccountLogins(ctx context.Context, accountID int64, q core.ListQuery) ([]core.Login, int, error) {
	return accountLogins.list(ctx, r, accountID, q)
}

func (r Reader) AccountLogin(ctx context.Context, accountID, id int64) (core.Login, error) {
	return accountLogins.get(ctx, r, accountID, id)
}

func (r Reader) ListOAuthClients(ctx context.Context, accountID int64, q core.ListQuery) ([]core.OAuthClient, int, error) {
	return list(ctx, r, OAuthClients, "account_id", accountID, q, scanOAuthClient)
}

func (r Reader) OAuthClientThumbnail(ctx context.Context, clientID string) ([]byte, error) {
	if !storable(clientID) {
		return nil, core.ErrNotFound
	}
	var png []byte
	err := r.q.QueryRow(ctx, `SELECT thumbnail FROM oauth_clients WHERE id = ?`, clientID).Scan(&png)
	if err != nil {
		return nil, r.err("read oauth client thumbnail", err)
	}
	if len(png) == 0 {
		return nil, core.ErrNotFound
	}
	return png, nil
}

func (r Reader) OAuthClientsAfter(ctx context.Context, afterID string, limit int) ([]core.OAuthClient, error) {
	return collect(ctx, r, "list oauth clients", scanOAuthClient,
		`SELECT `+oauthClientColumns+` FROM oauth_clients WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
}

func (t Tx) UpdateOAuthClient(ctx context.Context, c core.OAuthClient) error {
	return t.exec(ctx, "update oauth client", `UPDATE oauth_clients SET label = ?, website = ?, thumbnail_url = ?,
		redirect_uris = ?, public = ?, first_party = ?, secret_hash = ?, status = ?, backchannel_logout_uri = ?,
		device_grant = ?, require_pushed = ?, jwks = ?, jwks_uri = ?, require_mfa = ? WHERE id = ?`,
		c.Label, c.Website, c.ThumbnailURL, jsonText(c.RedirectURIs), c.Public, c.FirstParty, nonEmpty(c.SecretHash), c.Status,
		c.BackchannelLogoutURI, c.DeviceGrant, c.RequirePushed, c.JWKS, c.JWKSURI, c.RequireMFA, c.ID)
}

// DeleteOAuthClient deletes the client and the authorizations users gave
// it, whose tokens and refresh tokens go with them (their foreign keys).
func (t Tx) DeleteOAuthClient(ctx context.Context, clientID string) error {
	if err := t.execAny(ctx, "delete oauth client apps", `DELETE FROM apps WHERE client_id = ?`, clientID); err != nil {
		return err
	}
	return t.exec(ctx, "delete oauth client", `DELETE FROM oauth_clients WHERE id = ?`, clientID)
}

func (t Tx) SetOAuthClientThumbnail(ctx context.Context, clientID string, png []byte) error {
	return t.exec(ctx, "set oauth client thumbnail", `UPDATE oauth_clients SET thumbnail = ? WHERE id = ?`, nonEmpty(png), clientID)
}

func scanAccountEvent(row Row) (core.AccountEvent, error) {
	var e core.AccountEvent
	err := row.Scan(&e.ID, &e.AccountID, &e.UserID, &e.Username, &e.Action, &e.EntityType, &e.EntityID, &e.EntityLabel,
		at(&e.Created), &e.Seen, &e.Read)
	return e, err
}

func (r Reader) ListAccountEvents(ctx context.Context, accountID int64, q core.ListQuery) ([]core.AccountEvent, int, error) {
	return accountEvents.list(ctx, r, accountID, q)
}

func (r Reader) AccountEvent(ctx context.Context, accountID, id int64) (core.AccountEvent, error) {
	return accountEvents.get(ctx, r, accountID, id)
}

func (t Tx) CreateAccountEvent(ctx context.Context, e core.AccountEvent) error {
	return t.deferred(ctx, "create event", `INSERT INTO account_events
		(account_id, user_id, username, action, entity_type, entity_id, entity_label, created, seen, read)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.AccountID, e.UserID, e.Username, e.Action, e.EntityType, e.EntityID, e.EntityLabel, t.d.Time(e.Created), e.Seen, e.Read)
}

func (t Tx) MarkAccountEventsSeen(ctx context.Context, accountID, id int64) error {
	return t.execAny(ctx, "mark events seen", `UPDATE account_events SET seen = TRUE WHERE account_id = ? AND id <= ? AND NOT seen`, accountID, id)
}

func (t Tx) MarkAccountEventRead(ctx context.Context, accountID, id int64) error {
	return t.exec(ctx, "mark event read", `UPDATE account_events SET read = TRUE WHERE account_id = ? AND id = ?`, accountID, id)
}

func (r Reader) MailToken(ctx context.Context, hash []byte) (core.MailToken, error) {
	var t core.MailToken
	err := r.q.QueryRow(ctx, `SELECT hash, user_id, purpose, created, expiry, used FROM mail_tokens WHERE hash = ?`, hash).
		Scan(&t.Hash, &t.UserID, &t.Purpose, at(&t.Created), at(&t.Expiry), &t.Used)
	return t, r.err("read mail token", err)
}

func (r Reader) UsersByEmail(ctx context.Context, email string, limit int) ([]core.User, error) {
	if !storable(email) {
		return []core.User{}, nil
	}
	return collect(ctx, r, "users by email", scanUser,
		`SELECT `+userColumns+` FROM users u WHERE `+r.d.EqualFold("u.email")+` ORDER BY u.id LIMIT ?`, email, limit)
}

func (t Tx) CreateMailToken(ctx context.Context, m core.MailToken) error {
	return t.write(ctx, "create mail token",
		Stmt{SQL: `DELETE FROM mail_tokens WHERE user_id = ? AND purpose = ?`, Args: []any{m.UserID, m.Purpose}},
		Stmt{SQL: `INSERT INTO mail_tokens (hash, user_id, purpose, created, expiry, used) VALUES (?, ?, ?, ?, ?, FALSE)`,
			Args: []any{m.Hash, m.UserID, m.Purpose, t.d.Time(m.Created), t.d.Time(m.Expiry)}})
}

func (t Tx) UseMailToken(ctx context.Context, hash []byte) error {
	return t.exec(ctx, "use mail token", `UPDATE mail_tokens SET used = TRUE WHERE hash = ? AND NOT used`, hash)
}

func (t Tx) DeleteMailTokens(ctx context.Context, userID int64, purpose string) error {
	return t.execAny(ctx, "delete mail tokens", `DELETE FROM mail_tokens WHERE user_id = ? AND purpose = ?`, userID, purpose)
}
