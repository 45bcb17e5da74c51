package testenv

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// NewSSHKey returns an authorized_keys line for a fresh ed25519 key, with
// comment after it unless comment is "".
func NewSSHKey(t testing.TB, comment string) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return AuthorizedKey(t, pub, comment)
}

// AuthorizedKey returns the authorized_keys line of pub (a public key of
// crypto/ed25519, rsa, ecdsa or dsa, as ssh.NewPublicKey takes it), with
// comment after it unless comment is "".
func AuthorizedKey(t testing.TB, pub any, comment string) string {
	t.Helper()
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimRight(string(ssh.MarshalAuthorizedKey(sp)), "\n")
	if comment != "" {
		line += " " + comment
	}
	return line
}
