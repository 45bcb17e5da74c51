package webhook_test

import (
	"testing"

	"github.com/profiled/profiled/webhook"
)

// TestSign checks the signature against a published HMAC-SHA256 vector,
// so that receivers in any language compute the same.
func TestSign(t *testing.T) {
	got := webhook.Sign([]byte("key"), []byte("The quick brown fox jumps over the lazy dog"))
	const want = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}
