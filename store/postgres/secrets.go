package postgres

import (
	"context"
	"time"

	"github.com/profiled/profiled/core"
)

// This file holds the second factors and what guards them: security
// answers, the TOTP state, scratch codes and phone verification. Every
// secret arrives encrypted or hashed by the core; the store never sees one
// in the clear.

func (r reader) SecurityAnswers(ctx context.Context, userID int64) ([]core.SecurityAnswer, error) {
	rows, err := r.q.Query(ctx,
		`SELECT question_id, answer_enc FROM security_answers WHERE user_id = $1 ORDER BY position`, userID)
	if err != nil {
		return nil, r.err("read security answers", err)
	}
	defer rows.Close()
	out := []core.SecurityAnswer{}
	for rows.Next() {
		var a core.SecurityAnswer
		if err := rows.Scan(&a.QuestionID, &a.AnswerEnc); err != nil {
			return nil, r.err("read security answers", err)
		}
		out = append(out, a)
	}
	return out, r.err("read security answers", rows.Err())
}

// SetSecurityAnswers replaces the user's answers, keeping their order. A
// question answered twice gives ErrDuplicate, a missing user ErrNotFound.
// The replacement is all or nothing: on either error the user's answers
// are as they were.
func (t tx) SetSecurityAnswers(ctx context.Context, userID int64, answers []core.SecurityAnswer) error {
	if err := t.userExists(ctx, "set security answers", userID); err != nil {
		return err
	}
	questions := make([]int32, len(answers))
	encs := make([][]byte, len(answers))
	for i, a := range answers {
		questions[i] = int32(a.QuestionID)
		encs[i] = a.AnswerEnc
	}
	// Under one savepoint, so a duplicate undoes the DELETE too.
	_, err := t.write(ctx, "set security answers",
		stmt{sql: `DELETE FROM security_answers WHERE user_id = $1`, args: []any{userID}},
		stmt{sql: `INSERT INTO security_answers (user_id, position, question_id, answer_enc)
			SELECT $1, a.ord - 1, a.question_id, a.answer_enc
			FROM unnest($2::integer[], $3::bytea[]) WITH ORDINALITY AS a (question_id, answer_enc, ord)`,
			args: []any{userID, questions, encs}})
	return err
}

// TFA returns the zero TFAState for an existing user who never set one,
// and ErrNotFound only for a missing user.
func (r reader) TFA(ctx context.Context, userID int64) (core.TFAState, error) {
	var s core.TFAState
	var pendingExpiry *time.Time
	err := r.q.QueryRow(ctx, `SELECT tfa_secret_enc, tfa_pending_secret_enc,
		tfa_pending_expiry, tfa_last_step FROM users WHERE id = $1`, userID).
		Scan(&s.SecretEnc, &s.PendingSecretEnc, &pendingExpiry, &s.LastStep)
	if err != nil {
		return core.TFAState{}, r.err("read tfa", err)
	}
	s.SecretEnc, s.PendingSecretEnc = nonEmpty(s.SecretEnc), nonEmpty(s.PendingSecretEnc)
	if pendingExpiry != nil {
		s.PendingExpiry = pendingExpiry.UTC()
	}
	return s, nil
}

// SetTFA replaces the user's two-factor state; the zero PendingExpiry is
// stored as NULL.
func (t tx) SetTFA(ctx context.Context, userID int64, s core.TFAState) error {
	var pendingExpiry *time.Time
	if !s.PendingExpiry.IsZero() {
		e := ts(s.PendingExpiry)
		pendingExpiry = &e
	}
	tag, err := t.q.Exec(ctx, `UPDATE users SET tfa_secret_enc = $1,
		tfa_pending_secret_enc = $2, tfa_pending_expiry = $3, tfa_last_step = $4 WHERE id = $5`,
		nonEmpty(s.SecretEnc), nonEmpty(s.PendingSecretEnc), pendingExpiry, s.LastStep, userID)
	return t.affectedOne("set tfa", tag, err)
}

func (r reader) ScratchCodes(ctx context.Context, userID int64) ([][]byte, error) {
	rows, err := r.q.Query(ctx, `SELECT hash FROM scratch_codes WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, r.err("read scratch codes", err)
	}
	defer rows.Close()
	out := [][]byte{}
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, r.err("read scratch codes", err)
		}
		out = append(out, h)
	}
	return out, r.err("read scratch codes", rows.Err())
}

// SetScratchCodes replaces the user's unused codes, keeping their order; a
// missing user gives ErrNotFound.
func (t tx) SetScratchCodes(ctx context.Context, userID int64, hashes [][]byte) error {
	if err := t.userExists(ctx, "set scratch codes", userID); err != nil {
		return err
	}
	if hashes == nil {
		hashes = [][]byte{}
	}
	_, err := t.write(ctx, "set scratch codes",
		stmt{sql: `DELETE FROM scratch_codes WHERE user_id = $1`, args: []any{userID}},
		// Identities are handed out in the order rows are inserted, which
		// keeps the codes in the caller's order for ScratchCodes.
		stmt{sql: `INSERT INTO scratch_codes (user_id, hash)
			SELECT $1, h.hash FROM unnest($2::bytea[]) WITH ORDINALITY AS h (hash, ord) ORDER BY h.ord`,
			args: []any{userID, hashes}})
	return err
}

// UseScratchCode deletes one code with this hash (one, should the same
// hash have been stored twice), so each code works exactly once: of two
// transactions using one code at once, the second finds it gone.
func (t tx) UseScratchCode(ctx context.Context, userID int64, hash []byte) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM scratch_codes WHERE id =
		(SELECT id FROM scratch_codes WHERE user_id = $1 AND hash = $2 ORDER BY id LIMIT 1)`, userID, hash)
	return t.affectedOne("use scratch code", tag, err)
}

func (r reader) PhoneVerification(ctx context.Context, userID int64) (core.PhoneVerification, error) {
	var v core.PhoneVerification
	err := r.q.QueryRow(ctx, `SELECT phone, iso_code, code_enc, expiry
		FROM phone_verifications WHERE user_id = $1`, userID).Scan(&v.Phone, &v.ISOCode, &v.CodeEnc, &v.Expiry)
	if err != nil {
		return core.PhoneVerification{}, r.err("read phone verification", err)
	}
	v.CodeEnc = nonEmpty(v.CodeEnc)
	v.Expiry = v.Expiry.UTC()
	return v, nil
}

// SetPhoneVerification replaces the user's pending verification; a
// missing user gives ErrNotFound.
func (t tx) SetPhoneVerification(ctx context.Context, userID int64, v core.PhoneVerification) error {
	_, err := t.write(ctx, "set phone verification", stmt{
		sql: `INSERT INTO phone_verifications (user_id, phone, iso_code, code_enc, expiry)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone, iso_code = excluded.iso_code,
				code_enc = excluded.code_enc, expiry = excluded.expiry`,
		args: []any{userID, v.Phone, v.ISOCode, nonEmpty(v.CodeEnc), ts(v.Expiry)}})
	return err
}

// DeletePhoneVerification forgets the pending verification; none pending
// is no error, so that clearing is safe whatever state the user is in.
func (t tx) DeletePhoneVerification(ctx context.Context, userID int64) error {
	_, err := t.q.Exec(ctx, `DELETE FROM phone_verifications WHERE user_id = $1`, userID)
	return t.err("delete phone verification", err)
}
