package core

import (
	"encoding/base32"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// rfcSecret is the RFC 6238 SHA-1 test key "12345678901234567890", base32.
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

func TestMatchTOTPRFC6238Vector(t *testing.T) {
	// RFC 6238 Appendix B: T = 59 s, SHA-1 → 94287082; six digits → 287082.
	code8, err := totp.GenerateCodeCustom(rfcSecret, time.Unix(59, 0), totp.ValidateOpts{Period: 30, Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1})
	if err != nil || code8 != "94287082" {
		t.Fatalf("the RFC vector itself: %q, %v", code8, err)
	}
	step, ok := matchTOTP(rfcSecret, "287082", time.Unix(59, 0), 0)
	if !ok || step != 1 {
		t.Fatalf("matchTOTP(287082 at T=59) = %d, %v; want step 1, true", step, ok)
	}
	// The 8-digit form is not a code here.
	if _, ok := matchTOTP(rfcSecret, "94287082", time.Unix(59, 0), 0); ok {
		t.Fatal("an 8-digit code was accepted")
	}
	// The same step is never accepted twice.
	if _, ok := matchTOTP(rfcSecret, "287082", time.Unix(59, 0), 1); ok {
		t.Fatal("a code of the last accepted step was accepted again")
	}
	if _, ok := matchTOTP(rfcSecret, "287082", time.Unix(59, 0), 2); ok {
		t.Fatal("a code of a step before the last accepted one was accepted")
	}
}

func TestMatchTOTPWindow(t *testing.T) {
	secret := "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := time.Unix(1_700_000_000, 0).Add(7 * time.Second) // mid-step
	current := now.Unix() / totpPeriod
	codeAt := func(step int64) string {
		c, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, d := range []int64{-1, 0, 1} {
		step, ok := matchTOTP(secret, codeAt(current+d), now, 0)
		if !ok || step != current+d {
			t.Errorf("code of step current%+d: got %d, %v; want %d, true", d, step, ok, current+d)
		}
		// With lastStep just before it, it is still accepted; at it, refused.
		if _, ok := matchTOTP(secret, codeAt(current+d), now, current+d-1); !ok {
			t.Errorf("code of step current%+d refused with lastStep one before it", d)
		}
		if _, ok := matchTOTP(secret, codeAt(current+d), now, current+d); ok {
			t.Errorf("code of step current%+d accepted with lastStep at it", d)
		}
	}
	for _, d := range []int64{-3, -2, 2, 3} {
		c := codeAt(current + d)
		// Skip the (1 in 10^6) case where a far code equals a near one.
		if c == codeAt(current-1) || c == codeAt(current) || c == codeAt(current+1) {
			continue
		}
		if _, ok := matchTOTP(secret, c, now, 0); ok {
			t.Errorf("code of step current%+d accepted", d)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef", " " + codeAt(current)} {
		if _, ok := matchTOTP(secret, bad, now, 0); ok {
			t.Errorf("malformed code %q accepted", bad)
		}
	}
	if _, ok := matchTOTP("not base32!", "123456", now, 0); ok {
		t.Error("a code was accepted for an undecodable secret")
	}
}
