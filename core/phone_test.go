package core_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

func TestPhoneVerification(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)

	noErr(t, e.svc.SendPhoneCode(e.ctx, a, "US", "(650) 253-0000"))
	to, code := lastCode(t, e.sms)
	if to != "+16502530000" {
		t.Fatalf("SMS sent to %q, want E.164 +16502530000", to)
	}
	if !strings.Contains(e.sms.Messages()[0].Message, "10 minutes") {
		t.Errorf("SMS text %q does not say when the code expires", e.sms.Messages()[0].Message)
	}
	// The pending code is encrypted at rest.
	v, err := e.store.PhoneVerification(e.ctx, a.User.ID)
	noErr(t, err)
	if v.Phone != "+16502530000" || v.ISOCode != "US" || bytes.Contains(v.CodeEnc, []byte(code)) || !v.Expiry.Equal(start.Add(core.PhoneCodeLifetime)) {
		t.Fatalf("pending verification = %+v", v)
	}

	// Asking again before expiry re-sends the same code.
	e.clock.Advance(5 * time.Minute)
	noErr(t, e.svc.SendPhoneCode(e.ctx, a, "us", "650-253-0000"))
	to2, code2 := lastCode(t, e.sms)
	if len(e.sms.Messages()) != 2 || to2 != to || code2 != code {
		t.Fatalf("second send: %d texts, to %q code %q; want the same code %q again", len(e.sms.Messages()), to2, code2, code)
	}

	wantErr(t, e.svc.VerifyPhone(e.ctx, a, ""), core.KindInvalid, "otp_code")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	wantErr(t, e.svc.VerifyPhone(e.ctx, a, wrong), core.KindInvalid, "otp_code")
	if e.refresh(a).VerifiedPhoneNumber != "" {
		t.Fatal("a wrong code verified the number")
	}
	// Only the user who asked can verify it.
	b := e.user("bobby", false)
	wantErr(t, e.svc.VerifyPhone(e.ctx, b, code), core.KindInvalid, "otp_code")
	if e.refresh(b).VerifiedPhoneNumber != "" {
		t.Fatal("bobby verified alice's number")
	}

	noErr(t, e.svc.VerifyPhone(e.ctx, a, code))
	if got := e.refresh(a).VerifiedPhoneNumber; got != "+16502530000" {
		t.Fatalf("verified_phone_number = %q", got)
	}
	// The verified number is read-only on the profile: echoed back it is fine, changed or cleared it is refused.
	_, err = e.svc.UpdateProfile(e.ctx, a, linodegoEcho(e.refresh(a)))
	noErr(t, err)
	for _, other := range []string{"", "+447400123456"} {
		_, err = e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{VerifiedPhoneNumber: ptr(other)})
		wantErr(t, err, core.KindInvalid, "verified_phone_number")
	}
	// The code is used up.
	wantErr(t, e.svc.VerifyPhone(e.ctx, a, code), core.KindInvalid, "otp_code")
	// A verified number must be deleted before another is sent a code.
	wantErr(t, e.svc.SendPhoneCode(e.ctx, a, "GB", "07400 123456"), core.KindConflict, "phone_number")

	noErr(t, e.svc.DeletePhone(e.ctx, a))
	if got := e.refresh(a).VerifiedPhoneNumber; got != "" {
		t.Fatalf("verified_phone_number after delete = %q", got)
	}
	noErr(t, e.svc.SendPhoneCode(e.ctx, a, "DE", "030 12345678"))
	to, _ = lastCode(t, e.sms)
	if to != "+493012345678" {
		t.Fatalf("SMS sent to %q", to)
	}
	// Delete also forgets the pending code.
	noErr(t, e.svc.DeletePhone(e.ctx, a))
	if _, err := e.store.PhoneVerification(e.ctx, a.User.ID); err != core.ErrNotFound {
		t.Fatalf("pending verification after delete: %v", err)
	}
}

func TestPhoneInvalidInput(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	wantErr(t, e.svc.SendPhoneCode(e.ctx, a, "XX", "6502530000"), core.KindInvalid, "iso_code")
	wantErr(t, e.svc.SendPhoneCode(e.ctx, a, "", "6502530000"), core.KindInvalid, "iso_code")
	wantErr(t, e.svc.SendPhoneCode(e.ctx, a, "US", "123"), core.KindInvalid, "phone_number")
	wantErr(t, e.svc.SendPhoneCode(e.ctx, a, "US", ""), core.KindInvalid, "phone_number")
	if n := len(e.sms.Messages()); n != 0 {
		t.Fatalf("%d texts sent for invalid numbers", n)
	}
}

func TestPhoneCodeExpires(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	noErr(t, e.svc.SendPhoneCode(e.ctx, a, "US", "6502530000"))
	_, code := lastCode(t, e.sms)
	e.clock.Advance(core.PhoneCodeLifetime)
	wantErr(t, e.svc.VerifyPhone(e.ctx, a, code), core.KindInvalid, "otp_code")
	if e.refresh(a).VerifiedPhoneNumber != "" {
		t.Fatal("an expired code verified the number")
	}
	// After expiry, asking again sends a fresh code that works.
	noErr(t, e.svc.SendPhoneCode(e.ctx, a, "US", "6502530000"))
	_, fresh := lastCode(t, e.sms)
	v, err := e.store.PhoneVerification(e.ctx, a.User.ID)
	noErr(t, err)
	if !v.Expiry.Equal(e.clock.Now().Add(core.PhoneCodeLifetime)) {
		t.Fatalf("new code expires at %v", v.Expiry)
	}
	e.clock.Advance(core.PhoneCodeLifetime - time.Second)
	noErr(t, e.svc.VerifyPhone(e.ctx, a, fresh))
}

func TestPhoneNewNumberGetsNewCode(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	noErr(t, e.svc.SendPhoneCode(e.ctx, a, "US", "6502530000"))
	_, first := lastCode(t, e.sms)
	noErr(t, e.svc.SendPhoneCode(e.ctx, a, "GB", "07400 123456"))
	to, second := lastCode(t, e.sms)
	if to != "+447400123456" {
		t.Fatalf("sent to %q", to)
	}
	if first != second {
		// The first number's code no longer verifies anything.
		wantErr(t, e.svc.VerifyPhone(e.ctx, a, first), core.KindInvalid, "otp_code")
	}
	noErr(t, e.svc.VerifyPhone(e.ctx, a, second))
	if got := e.refresh(a).VerifiedPhoneNumber; got != "+447400123456" {
		t.Fatalf("verified %q", got)
	}
}

func TestPhoneVerifyAttemptsLimited(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	noErr(t, e.svc.SendPhoneCode(e.ctx, a, "US", "6502530000"))
	_, code := lastCode(t, e.sms)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 0; i < 5; i++ {
		wantErr(t, e.svc.VerifyPhone(e.ctx, a, wrong), core.KindInvalid, "otp_code")
	}
	ce := wantErr(t, e.svc.VerifyPhone(e.ctx, a, code), core.KindTooManyRequests, "-")
	if ce.RetryAfter <= 0 || ce.RetryAfter > 15*time.Minute {
		t.Fatalf("RetryAfter = %v", ce.RetryAfter)
	}
	e.reopen()
	wantErr(t, e.svc.VerifyPhone(e.ctx, a, code), core.KindTooManyRequests, "-")
	if e.refresh(a).VerifiedPhoneNumber != "" {
		t.Fatal("verified despite the limit")
	}
}

func TestPhoneSendsLimited(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	for i := 0; i < 5; i++ {
		noErr(t, e.svc.SendPhoneCode(e.ctx, a, "US", "6502530000"))
	}
	ce := wantErr(t, e.svc.SendPhoneCode(e.ctx, a, "US", "6502530000"), core.KindTooManyRequests, "-")
	if ce.RetryAfter <= 0 || ce.RetryAfter > time.Hour {
		t.Fatalf("RetryAfter = %v", ce.RetryAfter)
	}
	if n := len(e.sms.Messages()); n != 5 {
		t.Fatalf("%d texts sent, want 5", n)
	}
	e.clock.Advance(time.Hour)
	noErr(t, e.svc.SendPhoneCode(e.ctx, a, "US", "6502530000"))
}
