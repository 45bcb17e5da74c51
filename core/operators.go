package core

import (
	"context"
	"errors"
)

// This file holds what the operator's CLI does to users outside any API
// (profiled users, tfa reset, tokens): the operator acts on every account
// and needs no token, so none of these take an Actor.

// operatorUser finds a user by name for the operator.
func (s *Service) operatorUser(ctx context.Context, r Reader, username string) (User, error) {
	u, err := r.UserByUsername(ctx, username)
	return u, notFound(err, "find user")
}

// lockedOperatorUser finds a user by name and locks their row for the
// rest of tx.
func (s *Service) lockedOperatorUser(ctx context.Context, tx Tx, username string) (User, error) {
	u, err := s.operatorUser(ctx, tx, username)
	if err != nil {
		return User{}, err
	}
	return lockUser(ctx, tx, u.ID)
}

// UserByName returns a user and what the Linode User object shows of them.
func (s *Service) UserByName(ctx context.Context, username string) (AccountUser, error) {
	u, err := s.operatorUser(ctx, s.store, username)
	if err != nil {
		return AccountUser{}, err
	}
	return s.summarize(ctx, u)
}

// Users returns up to limit users with ids after afterID, in id order:
// every account's, for the operator to page through.
func (s *Service) Users(ctx context.Context, afterID int64, limit int) ([]User, error) {
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	users, err := s.store.UsersAfter(ctx, afterID, limit)
	return users, notFound(err, "list users")
}

// SetDisabled disables a user (they cannot sign in, and their tokens are
// refused at once) or enables them again.
func (s *Service) SetDisabled(ctx context.Context, username string, disabled bool) error {
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		u, err := s.lockedOperatorUser(ctx, tx, username)
		if err != nil {
			return err
		}
		if disabled && !u.Disabled {
			// The sessions stay, refused until enabled; the relying
			// parties' end (logout.go).
			if err := s.logOutEverywhere(ctx, tx, u.ID); err != nil {
				return notFound(err, "log out")
			}
		}
		u.Disabled = disabled
		return notFound(tx.UpdateUser(ctx, u), "update user")
	})
}

// DeleteUser deletes a user and everything they own, for the operator.
// The last unrestricted user of an account that has other users is kept,
// as through the API: their account would have no one to manage it.
func (s *Service) DeleteUser(ctx context.Context, username string) error {
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		u, err := s.operatorUser(ctx, tx, username)
		if err != nil {
			return err
		}
		if err := tx.LockAccount(ctx, u.AccountID); err != nil {
			return notFound(err, "lock account")
		}
		if !u.Restricted {
			_, members, err := tx.ListAccountUsers(ctx, u.AccountID, ListQuery{Page: 1, PageSize: 1})
			if err != nil {
				return notFound(err, "count users")
			}
			if members > 1 {
				if err := lastOwner(ctx, tx, u, "username", "deleted while the account has other users"); err != nil {
					return err
				}
			}
		}
		if err := s.deleteUser(ctx, tx, u.ID); err != nil {
			return notFound(err, "delete user")
		}
		note(Event{Name: EventUserDeleted, UserID: u.ID, Username: u.Username, Detail: "operator", AccountID: u.AccountID})
		return nil
	})
}

// ResetTFA turns a user's two-factor authentication off, for a user who
// lost their device: the secret and scratch codes are forgotten, and
// every session and trusted device of the user ends.
func (s *Service) ResetTFA(ctx context.Context, username string) error {
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		u, err := s.lockedOperatorUser(ctx, tx, username)
		if err != nil {
			return err
		}
		if !u.TwoFactorAuth {
			return Conflict("username", "two-factor authentication is not enabled for %s", username)
		}
		u.TwoFactorAuth = false
		if err := tx.UpdateUser(ctx, u); err != nil {
			return notFound(err, "update user")
		}
		if err := errors.Join(tx.SetTFA(ctx, u.ID, TFAState{}), tx.SetScratchCodes(ctx, u.ID, nil)); err != nil {
			return notFound(err, "reset tfa")
		}
		note(Event{Name: EventTFADisabled, UserID: u.ID, Username: u.Username, Detail: "operator"})
		return s.endSessions(ctx, tx, u.ID, 0)
	})
}

// UserTokens lists a user's tokens of every kind, for the operator.
func (s *Service) UserTokens(ctx context.Context, username string, q ListQuery) (Page[Token], error) {
	u, err := s.operatorUser(ctx, s.store, username)
	if err != nil {
		return Page[Token]{}, err
	}
	data, n, err := s.store.ListTokens(ctx, u.ID, q)
	return Page[Token]{Data: data, Page: q.Page, PageSize: q.PageSize, Results: n}, notFound(err, "list tokens")
}

// RevokeUserToken deletes one of a user's tokens, for the operator: it is
// refused from the next request on.
func (s *Service) RevokeUserToken(ctx context.Context, username string, id int64) error {
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		u, err := s.operatorUser(ctx, tx, username)
		if err != nil {
			return err
		}
		t, err := tx.Token(ctx, u.ID, id)
		if err != nil {
			return notFound(err, "revoke token")
		}
		if err := s.endSession(ctx, tx, t); err != nil { // a session's relying parties are told
			return notFound(err, "revoke token")
		}
		note(Event{Name: EventTokenRevoked, UserID: u.ID, Username: u.Username, Detail: "operator"})
		return nil
	})
}
