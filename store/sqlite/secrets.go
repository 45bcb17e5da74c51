package sqlite

import (
	"context"
	"database/sql"

	"github.com/profiled/profiled/core"
)

// This file holds the second factors and what guards them: security
// answers, the TOTP state, scratch codes and phone verification. Every
// secret arrives encrypted or hashed by the core; the store never sees one
// in the clear.

func (r reader) SecurityAnswers(ctx context.Context, userID int64) ([]core.SecurityAnswer, error) {
	rows, err := r.q.QueryContext(ctx,
		`SELECT question_id, answer_enc FROM security_answers WHERE user_id = ? ORDER BY position`, userID)
	if err != nil {
		return nil, storeErr("read security answers", err)
	}
	defer rows.Close()
	out := []core.SecurityAnswer{}
	for rows.Next() {
		var a core.SecurityAnswer
		if err := rows.Scan(&a.QuestionID, &a.AnswerEnc); err != nil {
			return nil, storeErr("read security answers", err)
		}
		out = append(out, a)
	}
	return out, storeErr("read security answers", rows.Err())
}

// SetSecurityAnswers replaces the user's answers, keeping their order. A
// question answered twice gives ErrDuplicate, a missing user ErrNotFound.
func (t tx) SetSecurityAnswers(ctx context.Context, userID int64, answers []core.SecurityAnswer) error {
	if err := t.LockUser(ctx, userID); err != nil {
		return err
	}
	if _, err := t.q.ExecContext(ctx, `DELETE FROM security_answers WHERE user_id = ?`, userID); err != nil {
		return storeErr("set security answers", err)
	}
	for i, a := range answers {
		if _, err := t.q.ExecContext(ctx,
			`INSERT INTO security_answers (user_id, position, question_id, answer_enc) VALUES (?, ?, ?, ?)`,
			userID, i, a.QuestionID, a.AnswerEnc); err != nil {
			return storeErr("set security answers", err)
		}
	}
	return nil
}

// TFA returns the zero TFAState for an existing user who never set one,
// and ErrNotFound only for a missing user.
func (r reader) TFA(ctx context.Context, userID int64) (core.TFAState, error) {
	var s core.TFAState
	var pendingExpiry sql.NullInt64
	err := r.q.QueryRowContext(ctx, `SELECT tfa_secret_enc, tfa_pending_secret_enc,
		tfa_pending_expiry, tfa_last_step FROM users WHERE id = ?`, userID).
		Scan(&s.SecretEnc, &s.PendingSecretEnc, &pendingExpiry, &s.LastStep)
	if err != nil {
		return core.TFAState{}, storeErr("read tfa", err)
	}
	s.SecretEnc, s.PendingSecretEnc = nonEmpty(s.SecretEnc), nonEmpty(s.PendingSecretEnc)
	if pendingExpiry.Valid {
		s.PendingExpiry = fromUnix(pendingExpiry.Int64)
	}
	return s, nil
}

func (t tx) SetTFA(ctx context.Context, userID int64, s core.TFAState) error {
	var pendingExpiry any
	if !s.PendingExpiry.IsZero() {
		pendingExpiry = unix(s.PendingExpiry)
	}
	res, err := t.q.ExecContext(ctx, `UPDATE users SET tfa_secret_enc = ?,
		tfa_pending_secret_enc = ?, tfa_pending_expiry = ?, tfa_last_step = ? WHERE id = ?`,
		nonEmpty(s.SecretEnc), nonEmpty(s.PendingSecretEnc), pendingExpiry, s.LastStep, userID)
	return affectedOne("set tfa", res, err)
}

func (r reader) ScratchCodes(ctx context.Context, userID int64) ([][]byte, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT hash FROM scratch_codes WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, storeErr("read scratch codes", err)
	}
	defer rows.Close()
	out := [][]byte{}
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, storeErr("read scratch codes", err)
		}
		out = append(out, h)
	}
	return out, storeErr("read scratch codes", rows.Err())
}

// SetScratchCodes replaces the user's unused codes; a missing user gives
// ErrNotFound.
func (t tx) SetScratchCodes(ctx context.Context, userID int64, hashes [][]byte) error {
	if err := t.LockUser(ctx, userID); err != nil {
		return err
	}
	if _, err := t.q.ExecContext(ctx, `DELETE FROM scratch_codes WHERE user_id = ?`, userID); err != nil {
		return storeErr("set scratch codes", err)
	}
	for _, h := range hashes {
		if _, err := t.q.ExecContext(ctx, `INSERT INTO scratch_codes (user_id, hash) VALUES (?, ?)`, userID, h); err != nil {
			return storeErr("set scratch codes", err)
		}
	}
	return nil
}

// UseScratchCode deletes one code with this hash (one, should the same
// hash have been stored twice), so each code works exactly once.
func (t tx) UseScratchCode(ctx context.Context, userID int64, hash []byte) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM scratch_codes WHERE id =
		(SELECT id FROM scratch_codes WHERE user_id = ? AND hash = ? ORDER BY id LIMIT 1)`, userID, hash)
	return affectedOne("use scratch code", res, err)
}

func (r reader) PhoneVerification(ctx context.Context, userID int64) (core.PhoneVerification, error) {
	var v core.PhoneVerification
	var expiry int64
	err := r.q.QueryRowContext(ctx, `SELECT phone, iso_code, code_enc, expiry
		FROM phone_verifications WHERE user_id = ?`, userID).Scan(&v.Phone, &v.ISOCode, &v.CodeEnc, &expiry)
	if err != nil {
		return core.PhoneVerification{}, storeErr("read phone verification", err)
	}
	v.CodeEnc = nonEmpty(v.CodeEnc)
	v.Expiry = fromUnix(expiry)
	return v, nil
}

// SetPhoneVerification replaces the user's pending verification.
func (t tx) SetPhoneVerification(ctx context.Context, userID int64, v core.PhoneVerification) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO phone_verifications (user_id, phone, iso_code, code_enc, expiry)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone, iso_code = excluded.iso_code,
			code_enc = excluded.code_enc, expiry = excluded.expiry`,
		userID, v.Phone, v.ISOCode, nonEmpty(v.CodeEnc), unix(v.Expiry))
	return storeErr("set phone verification", err)
}

// DeletePhoneVerification forgets the pending verification; none pending
// is no error, so that clearing is safe whatever state the user is in.
func (t tx) DeletePhoneVerification(ctx context.Context, userID int64) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM phone_verifications WHERE user_id = ?`, userID)
	return storeErr("delete phone verification", err)
}
