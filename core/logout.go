package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// OpenID Connect Back-Channel Logout 1.0: when a sign-in session ends
// (the user signs out, or a password change or reset, a TFA reset or the
// operator ends it, or disables or deletes the user), each relying party
// the user signed in to from that session, whose client has a
// BackchannelLogoutURI, is told so server to server by a logout token,
// and ends its own session of the user.
//
// The session is named to relying parties by its sid: the ID tokens of an
// authorization the user approved in it carry it, and so does the logout
// token. The notice is queued in the outbox in the transaction that ends
// the session, so it is sent however the process fares after the commit,
// by a worker on any replica (RunOutbox(OutboxLogout)); each delivery
// signs a fresh logout token with the key that signs ID tokens then.
//
// The authorizations of OpenID Connect sign-ins approved in the session
// without offline_access (App.SessionBound) end with it, their access and
// refresh tokens revoked in the same transaction, as Back-Channel Logout
// 2.7 asks: a relying party that takes no logout tokens then loses the
// user too, at its next refresh. Others stay: an application's API
// access (no openid), or one the user let go on (offline_access), goes
// on working, as the Linode API's OAuth applications do when the console
// signs out.
const (
	// OutboxLogout is the outbox topic of back-channel logouts.
	OutboxLogout = "backchannel-logout"
	// LogoutTokenLifetime is how long a logout token is good: the
	// specification suggests at most two minutes (2.4), and each delivery
	// signs a new one.
	LogoutTokenLifetime = 2 * time.Minute
	// BackchannelLogoutEvent is the member of a logout token's events claim.
	BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"
)

// sessionID is the sid of the sign-in session t: derived from its stored
// hash, so it needs no column, tells nothing of the token, and is the
// same on every replica; "" for a token that is not a sign-in session.
func sessionID(t Token) string {
	if t.Kind != TokenSession || len(t.Hash) == 0 {
		return ""
	}
	sum := sha256.Sum256(append([]byte("profiled sid\x00"), t.Hash...))
	return hex.EncodeToString(sum[:16])
}

// logoutNotice is the payload of an OutboxLogout message: whom to tell,
// of which session. The token itself is made at each delivery.
type logoutNotice struct {
	ClientID string `json:"client_id"`
	Issuer   string `json:"iss"`
	UserID   int64  `json:"sub"`
	SID      string `json:"sid"`
	// JTI is the logout token's id, the same on every delivery of the
	// notice, so that a relying party that took it drops the repeat.
	JTI string `json:"jti"`
}

// endSession deletes the sign-in session t and queues a logout for each
// relying party the user signed in to from it.
func (s *Service) endSession(ctx context.Context, tx Tx, t Token) error {
	if err := tx.DeleteToken(ctx, t.UserID, t.ID); err != nil {
		return err
	}
	return s.queueLogouts(ctx, tx, t)
}

// logOutEverywhere queues the logouts of every sign-in session of the
// user, for a user disabled or deleted: relying parties end their
// sessions of them, as profiled refuses or forgets its own.
func (s *Service) logOutEverywhere(ctx context.Context, tx Tx, userID int64) error {
	toks, err := sessionsOf(ctx, tx, userID)
	for _, t := range toks {
		if err == nil {
			err = s.queueLogouts(ctx, tx, t)
		}
	}
	return err
}

// deleteUser deletes the user and all they own, after queueing the
// logouts of their sessions.
func (s *Service) deleteUser(ctx context.Context, tx Tx, userID int64) error {
	if err := s.logOutEverywhere(ctx, tx, userID); err != nil {
		return err
	}
	return tx.DeleteUser(ctx, userID)
}

// sessionEnd is when the user's sign-in session sid expires, or the zero
// time when it has ended.
func sessionEnd(ctx context.Context, r Reader, userID int64, sid string, now time.Time) (time.Time, error) {
	toks, err := sessionsOf(ctx, r, userID)
	if err != nil {
		return time.Time{}, err
	}
	for _, t := range toks {
		if sessionID(t) == sid && t.Expiry != nil && now.Before(*t.Expiry) {
			return *t.Expiry, nil
		}
	}
	return time.Time{}, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// sessionsOf lists the user's sign-in sessions.
func sessionsOf(ctx context.Context, r Reader, userID int64) ([]Token, error) {
	sessions := Match("kind", OpEq, string(TokenSession))
	toks, _, err := r.ListTokens(ctx, userID, ListQuery{Filter: &sessions, Page: 1})
	return toks, err
}

// queueLogouts queues a logout for each relying party the user signed in
// to from the session t, and revokes the authorizations bound to it
// (nothing for a token that is not a session).
func (s *Service) queueLogouts(ctx context.Context, tx Tx, t Token) error {
	sid := sessionID(t)
	if sid == "" {
		return nil
	}
	apps, err := tx.LoggedInApps(ctx, t.UserID, sid, s.now())
	if err != nil {
		return err
	}
	if err := tx.DeleteSessionApps(ctx, t.UserID, sid); err != nil {
		return err
	}
	told := map[string]bool{}
	for _, app := range apps {
		if told[app.ClientID] || app.Issuer == "" {
			continue
		}
		told[app.ClientID] = true
		jti, err := s.newSecret(16)
		if err != nil {
			return err
		}
		payload, err := json.Marshal(logoutNotice{ClientID: app.ClientID, Issuer: app.Issuer, UserID: t.UserID, SID: sid, JTI: jti})
		if err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, &OutboxMessage{Topic: OutboxLogout, Payload: payload, Created: s.clock()}); err != nil {
			return notFound(err, "queue logout")
		}
	}
	return nil
}

// LogoutToken is a logout token before it is signed (2.4), and where it
// goes.
type LogoutToken struct {
	URI    string // the client's BackchannelLogoutURI
	Claims map[string]any
	Key    SigningKey
}

// LogoutToken makes the logout token of an OutboxLogout message, for its
// deliverer. It is nil, and nothing is to be sent, when the client was
// deleted or disabled or no longer takes logout tokens; a payload that
// does not parse is ErrUndeliverable.
func (s *Service) LogoutToken(ctx context.Context, m OutboxMessage) (*LogoutToken, error) {
	var n logoutNotice
	if err := json.Unmarshal(m.Payload, &n); err != nil || n.ClientID == "" || n.SID == "" {
		return nil, fmt.Errorf("logout %d: %w: the payload does not parse", m.ID, ErrUndeliverable)
	}
	c, err := s.store.OAuthClient(ctx, n.ClientID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("logout %d: oauth client: %w", m.ID, err)
	}
	if c.BackchannelLogoutURI == "" || c.Status != OAuthClientActive {
		return nil, nil
	}
	keys, err := s.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	return &LogoutToken{URI: c.BackchannelLogoutURI, Key: signingKey(keys, now), Claims: map[string]any{
		"iss":    n.Issuer,
		"aud":    n.ClientID,
		"sub":    strconv.FormatInt(n.UserID, 10),
		"sid":    n.SID,
		"iat":    now.Unix(),
		"exp":    now.Add(LogoutTokenLifetime).Unix(),
		"jti":    n.JTI,
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}}, nil
}
