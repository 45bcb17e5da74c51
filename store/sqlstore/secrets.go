package sqlstore

import (
	"context"

	"github.com/profiled/profiled/core"
)

// This file holds the second factors and what guards them: security
// answers, the TOTP state, scratch codes and phone verification. Every
// secret arrives encrypted or hashed by the core; the store never sees one
// in the clear.

func (r Reader) SecurityAnswers(ctx context.Context, userID int64) ([]core.SecurityAnswer, error) {
	return collect(ctx, r, "read security answers", func(row Row) (core.SecurityAnswer, error) {
		var a core.SecurityAnswer
		err := row.Scan(&a.QuestionID, &a.AnswerEnc)
		return a, err
	}, `SELECT question_id, answer_enc FROM security_answers WHERE user_id = ? ORDER BY position`, userID)
}

// SetSecurityAnswers replaces the user's answers, keeping their order. A
// question answered twice gives ErrDuplicate, a missing user ErrNotFound.
// The replacement is all or nothing: on either error the user's answers
// are as they were.
func (t Tx) SetSecurityAnswers(ctx context.Context, userID int64, answers []core.SecurityAnswer) error {
	const op = "set security answers"
	if err := t.userExists(ctx, op, userID); err != nil {
		return err
	}
	stmts := []Stmt{{SQL: `DELETE FROM security_answers WHERE user_id = ?`, Args: []any{userID}}}
	for i, a := range answers {
		stmts = append(stmts, Stmt{SQL: `INSERT INTO security_answers (user_id, position, question_id, answer_enc) VALUES (?, ?, ?, ?)`,
			Args: []any{userID, i, a.QuestionID, a.AnswerEnc}})
	}
	return t.write(ctx, op, stmts...)
}

// TFA returns the zero TFAState for an existing user who never set one,
// and ErrNotFound only for a missing user.
func (r Reader) TFA(ctx context.Context, userID int64) (core.TFAState, error) {
	var s core.TFAState
	err := r.q.QueryRow(ctx, `SELECT tfa_secret_enc, tfa_pending_secret_enc,
		tfa_pending_expiry, tfa_last_step FROM users WHERE id = ?`, userID).
		Scan(&s.SecretEnc, &s.PendingSecretEnc, at(&s.PendingExpiry), &s.LastStep)
	if err != nil {
		return core.TFAState{}, r.err("read tfa", err)
	}
	s.SecretEnc, s.PendingSecretEnc = nonEmpty(s.SecretEnc), nonEmpty(s.PendingSecretEnc)
	return s, nil
}

// SetTFA replaces the user's two-factor state; the zero PendingExpiry is
// stored as NULL.
func (t Tx) SetTFA(ctx context.Context, userID int64, s core.TFAState) error {
	return t.exec(ctx, "set tfa", `UPDATE users SET tfa_secret_enc = ?,
		tfa_pending_secret_enc = ?, tfa_pending_expiry = ?, tfa_last_step = ? WHERE id = ?`,
		nonEmpty(s.SecretEnc), nonEmpty(s.PendingSecretEnc), t.zeroNull(s.PendingExpiry), s.LastStep, userID)
}

func (r Reader) ScratchCodes(ctx context.Context, userID int64) ([][]byte, error) {
	return collect(ctx, r, "read scratch codes", func(row Row) ([]byte, error) {
		var h []byte
		err := row.Scan(&h)
		return h, err
	}, `SELECT hash FROM scratch_codes WHERE user_id = ? ORDER BY id`, userID)
}

// SetScratchCodes replaces the user's unused codes, keeping their order
// (ids are handed out in the order rows are inserted); a missing user
// gives ErrNotFound.
func (t Tx) SetScratchCodes(ctx context.Context, userID int64, hashes [][]byte) error {
	const op = "set scratch codes"
	if err := t.userExists(ctx, op, userID); err != nil {
		return err
	}
	stmts := []Stmt{{SQL: `DELETE FROM scratch_codes WHERE user_id = ?`, Args: []any{userID}}}
	for _, h := range hashes {
		stmts = append(stmts, Stmt{SQL: `INSERT INTO scratch_codes (user_id, hash) VALUES (?, ?)`, Args: []any{userID, h}})
	}
	return t.write(ctx, op, stmts...)
}

// UseScratchCode deletes one code with this hash (one, should the same
// hash have been stored twice), so each code works exactly once: of two
// transactions using one code at once, the second finds it gone.
func (t Tx) UseScratchCode(ctx context.Context, userID int64, hash []byte) error {
	return t.exec(ctx, "use scratch code", `DELETE FROM scratch_codes WHERE id =
		(SELECT id FROM scratch_codes WHERE user_id = ? AND hash = ? ORDER BY id LIMIT 1)`, userID, hash)
}

func (r Reader) PhoneVerification(ctx context.Context, userID int64) (core.PhoneVerification, error) {
	var v core.PhoneVerification
	err := r.q.QueryRow(ctx, `SELECT phone, iso_code, code_enc, expiry
		FROM phone_verifications WHERE user_id = ?`, userID).Scan(&v.Phone, &v.ISOCode, &v.CodeEnc, at(&v.Expiry))
	if err != nil {
		return core.PhoneVerification{}, r.err("read phone verification", err)
	}
	v.CodeEnc = nonEmpty(v.CodeEnc)
	return v, nil
}

var setPhoneVerificationSQL = upsert("phone_verifications", "user_id", "user_id", "phone", "iso_code", "code_enc", "expiry")

// SetPhoneVerification replaces the user's pending verification; a
// missing user gives ErrNotFound.
func (t Tx) SetPhoneVerification(ctx context.Context, userID int64, v core.PhoneVerification) error {
	return t.write(ctx, "set phone verification", Stmt{SQL: setPhoneVerificationSQL, Args: []any{userID, v.Phone, v.ISOCode, nonEmpty(v.CodeEnc), t.d.Time(v.Expiry)}})
}

// DeletePhoneVerification forgets the pending verification; none pending
// is no error, so that clearing is safe whatever state the user is in.
func (t Tx) DeletePhoneVerification(ctx context.Context, userID int64) error {
	return t.execAny(ctx, "delete phone verification", `DELETE FROM phone_verifications WHERE user_id = ?`, userID)
}
