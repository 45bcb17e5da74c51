package core_test

import (
	"bytes"
	"encoding/base32"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/profiled/profiled/core"
)

// totpCode is what an authenticator app shows for secret at t.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	noErr(t, err)
	return c
}

// wrongCode returns a 6-digit code that no step around at accepts.
func wrongCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	near := map[string]bool{}
	for d := -2; d <= 2; d++ {
		near[totpCode(t, secret, at.Add(time.Duration(d)*30*time.Second))] = true
	}
	for _, c := range []string{"000000", "111111", "123456", "999999"} {
		if !near[c] {
			return c
		}
	}
	t.Fatal("no wrong code")
	return ""
}

// readyForTFA is a user who answered the security questions.
func readyForTFA(t *testing.T, e *env, name string) core.Actor {
	t.Helper()
	a := e.user(name, false)
	_, err := e.svc.AnswerSecurityQuestions(e.ctx, a, threeAnswers)
	noErr(t, err)
	return a
}

func TestTFAEnableNeedsSecurityQuestions(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	_, err := e.svc.EnableTFA(e.ctx, a)
	wantErr(t, err, core.KindConflict, "-")
	st, err := e.store.TFA(e.ctx, a.User.ID)
	noErr(t, err)
	if st.PendingSecretEnc != nil || st.SecretEnc != nil {
		t.Fatal("a refused tfa-enable stored a secret")
	}
	_, err = e.svc.AnswerSecurityQuestions(e.ctx, a, threeAnswers)
	noErr(t, err)
	_, err = e.svc.EnableTFA(e.ctx, a)
	noErr(t, err)
}

func TestTFAFlow(t *testing.T) {
	e := newEnv(t)
	a := readyForTFA(t, e, "alice")

	// Confirm before enable: nothing is pending.
	_, err := e.svc.ConfirmTFA(e.ctx, a, "123456")
	wantErr(t, err, core.KindInvalid, "tfa_code")

	sec, err := e.svc.EnableTFA(e.ctx, a)
	noErr(t, err)
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(sec.Secret)
	if err != nil || len(raw) != 20 {
		t.Fatalf("secret %q: %d bytes, %v", sec.Secret, len(raw), err)
	}
	if !sec.Expiry.Equal(start.Add(core.PendingSecretLifetime)) {
		t.Fatalf("secret expiry = %v, want %v", sec.Expiry, start.Add(30*time.Minute))
	}
	// The pending secret is encrypted at rest.
	e.assertNotOnDisk(sec.Secret)
	if e.refresh(a).TwoFactorAuth {
		t.Fatal("TFA is on before confirmation")
	}

	e.clock.Advance(10 * time.Minute)
	_, err = e.svc.ConfirmTFA(e.ctx, a, "")
	wantErr(t, err, core.KindInvalid, "tfa_code")
	_, err = e.svc.ConfirmTFA(e.ctx, a, wrongCode(t, sec.Secret, e.clock.Now()))
	wantErr(t, err, core.KindInvalid, "tfa_code")
	if e.refresh(a).TwoFactorAuth {
		t.Fatal("a wrong code turned TFA on")
	}

	code := totpCode(t, sec.Secret, e.clock.Now())
	scratch, err := e.svc.ConfirmTFA(e.ctx, a, " "+code+" ")
	noErr(t, err)
	if len(scratch) != 16 {
		t.Fatalf("scratch code %q is not 16 characters", scratch)
	}
	if !e.refresh(a).TwoFactorAuth {
		t.Fatal("TFA is off after confirmation")
	}
	// The scratch code is stored as its hash only; the secret stays encrypted.
	hashes, err := e.store.ScratchCodes(e.ctx, a.User.ID)
	noErr(t, err)
	if len(hashes) != 1 || !bytes.Equal(hashes[0], core.HashToken(scratch)) {
		t.Fatalf("stored scratch codes = %x", hashes)
	}
	e.assertNotOnDisk(scratch, sec.Secret)
	st, err := e.store.TFA(e.ctx, a.User.ID)
	noErr(t, err)
	if st.SecretEnc == nil || st.PendingSecretEnc != nil || st.LastStep != e.clock.Now().Unix()/30 {
		t.Fatalf("TFA state after confirmation: secret %v pending %v last step %d", st.SecretEnc != nil, st.PendingSecretEnc != nil, st.LastStep)
	}

	// A profile PUT echoing two_factor_auth: true is fine; it cannot turn TFA off.
	_, err = e.svc.UpdateProfile(e.ctx, a, linodegoEcho(e.refresh(a)))
	noErr(t, err)
	_, err = e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{TwoFactorAuth: ptr(false)})
	wantErr(t, err, core.KindInvalid, "two_factor_auth")

	// The same code again is refused: nothing is pending any more.
	_, err = e.svc.ConfirmTFA(e.ctx, a, code)
	if err == nil {
		t.Fatal("the same TFA code was accepted twice")
	}
	wantErr(t, err, core.KindInvalid, "tfa_code")

	// Disable forgets everything.
	noErr(t, e.svc.DisableTFA(e.ctx, a))
	if e.refresh(a).TwoFactorAuth {
		t.Fatal("TFA still on after disable")
	}
	st, err = e.store.TFA(e.ctx, a.User.ID)
	noErr(t, err)
	if st.SecretEnc != nil || st.PendingSecretEnc != nil {
		t.Fatal("TFA secrets kept after disable")
	}
	hashes, err = e.store.ScratchCodes(e.ctx, a.User.ID)
	noErr(t, err)
	if len(hashes) != 0 {
		t.Fatalf("%d scratch codes kept after disable", len(hashes))
	}
	wantErr(t, e.svc.DisableTFA(e.ctx, a), core.KindConflict, "-")

	// And it can be turned on again, with a new secret.
	sec2, err := e.svc.EnableTFA(e.ctx, a)
	noErr(t, err)
	if sec2.Secret == sec.Secret {
		t.Fatal("re-enabling handed out the old secret")
	}
	_, err = e.svc.ConfirmTFA(e.ctx, a, totpCode(t, sec2.Secret, e.clock.Now()))
	noErr(t, err)
}

func TestTFAAcceptsAdjacentSteps(t *testing.T) {
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		e := newEnv(t)
		a := readyForTFA(t, e, "alice")
		sec, err := e.svc.EnableTFA(e.ctx, a)
		noErr(t, err)
		e.clock.Advance(5 * time.Minute)
		_, err = e.svc.ConfirmTFA(e.ctx, a, totpCode(t, sec.Secret, e.clock.Now().Add(d)))
		if err != nil {
			t.Fatalf("code of the step %v away refused: %v", d, err)
		}
	}
	for _, d := range []time.Duration{-60 * time.Second, 60 * time.Second} {
		e := newEnv(t)
		a := readyForTFA(t, e, "alice")
		sec, err := e.svc.EnableTFA(e.ctx, a)
		noErr(t, err)
		e.clock.Advance(5 * time.Minute)
		now := e.clock.Now()
		c := totpCode(t, sec.Secret, now.Add(d))
		if c == totpCode(t, sec.Secret, now) || c == totpCode(t, sec.Secret, now.Add(-30*time.Second)) || c == totpCode(t, sec.Secret, now.Add(30*time.Second)) {
			continue // a one-in-a-million collision with a valid code
		}
		_, err = e.svc.ConfirmTFA(e.ctx, a, c)
		wantErr(t, err, core.KindInvalid, "tfa_code")
	}
}

func TestTFAPendingSecretExpires(t *testing.T) {
	e := newEnv(t)
	a := readyForTFA(t, e, "alice")
	sec, err := e.svc.EnableTFA(e.ctx, a)
	noErr(t, err)
	e.clock.Advance(core.PendingSecretLifetime)
	_, err = e.svc.ConfirmTFA(e.ctx, a, totpCode(t, sec.Secret, e.clock.Now()))
	wantErr(t, err, core.KindInvalid, "tfa_code")
	if e.refresh(a).TwoFactorAuth {
		t.Fatal("an expired secret turned TFA on")
	}
	// One second earlier it still works.
	b := readyForTFA(t, e, "bobby")
	sec, err = e.svc.EnableTFA(e.ctx, b)
	noErr(t, err)
	e.clock.Advance(core.PendingSecretLifetime - time.Second)
	_, err = e.svc.ConfirmTFA(e.ctx, b, totpCode(t, sec.Secret, e.clock.Now()))
	noErr(t, err)
	// A new tfa-enable replaces an expired secret.
	sec, err = e.svc.EnableTFA(e.ctx, a)
	noErr(t, err)
	_, err = e.svc.ConfirmTFA(e.ctx, a, totpCode(t, sec.Secret, e.clock.Now()))
	noErr(t, err)
}

func TestTFAAttemptsLimited(t *testing.T) {
	e := newEnv(t)
	a := readyForTFA(t, e, "alice")
	sec, err := e.svc.EnableTFA(e.ctx, a)
	noErr(t, err)
	bad := wrongCode(t, sec.Secret, e.clock.Now())
	for i := 0; i < 5; i++ {
		_, err := e.svc.ConfirmTFA(e.ctx, a, bad)
		wantErr(t, err, core.KindInvalid, "tfa_code")
	}
	// The sixth try is refused even with the right code.
	_, err = e.svc.ConfirmTFA(e.ctx, a, totpCode(t, sec.Secret, e.clock.Now()))
	ce := wantErr(t, err, core.KindTooManyRequests, "-")
	if ce.RetryAfter <= 0 || ce.RetryAfter > 15*time.Minute {
		t.Fatalf("RetryAfter = %v", ce.RetryAfter)
	}
	// The limit lives in the database: a restarted service (or another replica) keeps it.
	e.reopen()
	_, err = e.svc.ConfirmTFA(e.ctx, a, totpCode(t, sec.Secret, e.clock.Now()))
	wantErr(t, err, core.KindTooManyRequests, "-")
	// Another user is not affected.
	b := readyForTFA(t, e, "bobby")
	secB, err := e.svc.EnableTFA(e.ctx, b)
	noErr(t, err)
	_, err = e.svc.ConfirmTFA(e.ctx, b, totpCode(t, secB.Secret, e.clock.Now()))
	noErr(t, err)
	// When the window ends, the right code works.
	e.clock.Advance(ce.RetryAfter)
	_, err = e.svc.ConfirmTFA(e.ctx, a, totpCode(t, sec.Secret, e.clock.Now()))
	noErr(t, err)
}

func TestTFASuccessResetsAttempts(t *testing.T) {
	e := newEnv(t)
	a := readyForTFA(t, e, "alice")
	sec, err := e.svc.EnableTFA(e.ctx, a)
	noErr(t, err)
	bad := wrongCode(t, sec.Secret, e.clock.Now())
	for i := 0; i < 4; i++ {
		_, err := e.svc.ConfirmTFA(e.ctx, a, bad)
		wantErr(t, err, core.KindInvalid, "tfa_code")
	}
	_, err = e.svc.ConfirmTFA(e.ctx, a, totpCode(t, sec.Secret, e.clock.Now()))
	noErr(t, err)
	noErr(t, e.svc.DisableTFA(e.ctx, a))
	sec, err = e.svc.EnableTFA(e.ctx, a)
	noErr(t, err)
	bad = wrongCode(t, sec.Secret, e.clock.Now())
	for i := 0; i < 5; i++ {
		_, err := e.svc.ConfirmTFA(e.ctx, a, bad)
		wantErr(t, err, core.KindInvalid, "tfa_code")
	}
}

// TestTFAReset is Cloud Manager's "Reset two-factor authentication":
// tfa-enable while TFA is on makes a pending secret; the current secret
// and scratch code keep working until the new one is confirmed, which
// replaces both.
func TestTFAReset(t *testing.T) {
	e := newEnv(t)
	a, oldSecret, oldScratch := tfaUser(t, e, "alice")

	sec, err := e.svc.EnableTFA(e.ctx, a)
	noErr(t, err)
	if sec.Secret == oldSecret {
		t.Fatal("the reset handed out the current secret")
	}
	if !e.refresh(a).TwoFactorAuth {
		t.Fatal("a pending reset turned TFA off")
	}
	// Until it is confirmed, sign-in takes the current secret, not the new one.
	res, err := signIn(e, "alice", alicePassword)
	noErr(t, err)
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: totpCode(t, sec.Secret, e.clock.Now())})
	wantErr(t, err, core.KindUnauthorized, "code")
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: totpCode(t, oldSecret, e.clock.Now())})
	noErr(t, err)

	// A wrong code confirms nothing; the right one replaces the secret.
	_, err = e.svc.ConfirmTFA(e.ctx, a, wrongCode(t, sec.Secret, e.clock.Now()))
	wantErr(t, err, core.KindInvalid, "tfa_code")
	e.clock.Advance(30 * time.Second)
	scratch, err := e.svc.ConfirmTFA(e.ctx, a, totpCode(t, sec.Secret, e.clock.Now()))
	noErr(t, err)
	if scratch == oldScratch {
		t.Fatal("the reset kept the scratch code")
	}
	e.clock.Advance(30 * time.Second)
	res, err = signIn(e, "alice", alicePassword)
	noErr(t, err)
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: totpCode(t, oldSecret, e.clock.Now())})
	wantErr(t, err, core.KindUnauthorized, "code")
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: oldScratch})
	wantErr(t, err, core.KindUnauthorized, "code")
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: totpCode(t, sec.Secret, e.clock.Now())})
	noErr(t, err)
	if !e.refresh(a).TwoFactorAuth {
		t.Fatal("TFA is off after the reset")
	}
}
