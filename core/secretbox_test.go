package core_test

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/profiled/profiled/core"
)

func newBox(t *testing.T) *core.SecretBox {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	b, err := core.NewSecretBox(key)
	noErr(t, err)
	return b
}

func TestSecretBoxRoundTrip(t *testing.T) {
	b := newBox(t)
	for _, plain := range [][]byte{[]byte("hunter2"), {}, bytes.Repeat([]byte{0xff}, 4096)} {
		ct := b.Seal(plain, "user:1")
		if len(plain) > 4 && bytes.Contains(ct, plain) {
			t.Fatalf("ciphertext contains the plaintext")
		}
		got, err := b.Open(ct, "user:1")
		noErr(t, err)
		if !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, want %q", got, plain)
		}
	}
	// A fresh nonce each time: the same plaintext never seals the same way.
	if bytes.Equal(b.Seal([]byte("x"), "a"), b.Seal([]byte("x"), "a")) {
		t.Fatal("two seals of the same plaintext are equal")
	}
}

func TestSecretBoxWrongAdditionalData(t *testing.T) {
	b := newBox(t)
	ct := b.Seal([]byte("answer"), "security-answer:1:1")
	for _, ad := range []string{"security-answer:2:1", "security-answer:1:2", "", "security-answer:1:1 "} {
		if _, err := b.Open(ct, ad); err == nil {
			t.Errorf("Open with additional data %q succeeded", ad)
		}
	}
}

func TestSecretBoxTampering(t *testing.T) {
	b := newBox(t)
	ct := b.Seal([]byte("a secret value"), "ad")
	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		if _, err := b.Open(bad, "ad"); err == nil {
			t.Fatalf("Open succeeded with byte %d flipped", i)
		}
	}
	for _, n := range []int{0, 1, 11, 12, len(ct) - 1} {
		if _, err := b.Open(ct[:n], "ad"); err == nil {
			t.Errorf("Open succeeded on a ciphertext cut to %d bytes", n)
		}
	}
	if _, err := b.Open(append(bytes.Clone(ct), 0), "ad"); err == nil {
		t.Error("Open succeeded with a byte appended")
	}
	// Another key does not open it.
	if _, err := newBox(t).Open(ct, "ad"); err == nil {
		t.Error("Open succeeded with another key")
	}
}

func TestSecretBoxKeyLength(t *testing.T) {
	for _, n := range []int{0, 1, 16, 24, 31, 33, 64} {
		if _, err := core.NewSecretBox(make([]byte, n)); err == nil {
			t.Errorf("NewSecretBox accepted a %d-byte key", n)
		}
	}
	if _, err := core.NewSecretBox(make([]byte, 32)); err != nil {
		t.Errorf("NewSecretBox refused a 32-byte key: %v", err)
	}
}
