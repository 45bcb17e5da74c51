package core_test

import (
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

func TestSSHKeysValidTypes(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	noErr(t, err)
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	noErr(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	noErr(t, err)
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	noErr(t, err)
	keys := map[string]string{
		"ssh-ed25519":         testenv.NewSSHKey(t, "alice@laptop"),
		"ssh-rsa":             testenv.AuthorizedKey(t, &rsaKey.PublicKey, "alice@desktop"),
		"ecdsa-sha2-nistp256": testenv.AuthorizedKey(t, &p256.PublicKey, ""),
		"ecdsa-sha2-nistp384": testenv.AuthorizedKey(t, &p384.PublicKey, "with spaces in the comment"),
		"ecdsa-sha2-nistp521": testenv.AuthorizedKey(t, &p521.PublicKey, "x"),
	}
	ids := map[int64]bool{}
	for typ, line := range keys {
		if !strings.HasPrefix(line, typ+" ") {
			t.Fatalf("%s key line %q", typ, line)
		}
		k, err := e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: typ, Key: line})
		noErr(t, err)
		if k.ID == 0 || ids[k.ID] || k.UserID != a.User.ID || k.Label != typ || k.Key != line || !k.Created.Equal(start) || !strings.HasPrefix(k.Fingerprint, "SHA256:") {
			t.Fatalf("added %s key = %+v", typ, k)
		}
		ids[k.ID] = true
		got, err := e.svc.SSHKey(e.ctx, a, k.ID)
		noErr(t, err)
		// The key comes back byte-identical to what was sent.
		if got.Key != line || got.Label != typ || !got.Created.Equal(start) {
			t.Fatalf("read back %s key = %+v", typ, got)
		}
	}
	page, err := e.svc.SSHKeys(e.ctx, a, allRows)
	noErr(t, err)
	if page.Results != len(keys) || len(page.Data) != len(keys) {
		t.Fatalf("list: %d results, %d rows; want %d", page.Results, len(page.Data), len(keys))
	}
	// A page of one.
	page, err = e.svc.SSHKeys(e.ctx, a, core.ListQuery{Page: 2, PageSize: 1})
	noErr(t, err)
	if page.Results != len(keys) || len(page.Data) != 1 || page.Pages() != len(keys) {
		t.Fatalf("page 2 of size 1: %d results, %d rows, %d pages", page.Results, len(page.Data), page.Pages())
	}
}

func TestSSHKeysInvalid(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	good := testenv.NewSSHKey(t, "c")
	for _, bad := range []string{
		"not a key",
		"ssh-rsa AAAA_valid_public_ssh_key_123456785== user@their-computer", // the spec's example
		"ssh-ed25519",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBroken",
		strings.Replace(good, "ssh-ed25519", "ssh-rsa", 1), // type and blob disagree
		good + "\n" + testenv.NewSSHKey(t, ""),             // two keys
		`no-pty ` + good,                                   // options are for authorized_keys files, not keys
		"-----BEGIN OPENSSH PRIVATE KEY-----",
		strings.Repeat("A", 17*1024),
	} {
		_, err := e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: "x", Key: bad})
		wantErr(t, err, core.KindInvalid, "ssh_key")
	}
	_, err := e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: "x"})
	wantErr(t, err, core.KindInvalid, "ssh_key")

	// A key pasted from a .pub file keeps its final newline: accepted, stored without it.
	pasted, err := e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: "pasted", Key: testenv.NewSSHKey(t, "p") + "\n"})
	noErr(t, err)
	if strings.HasSuffix(pasted.Key, "\n") {
		t.Fatalf("stored key keeps its newline: %q", pasted.Key)
	}
	noErr(t, e.svc.DeleteSSHKey(e.ctx, a, pasted.ID))

	// Labels: 0 to 64 characters.
	_, err = e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: strings.Repeat("l", 65), Key: good})
	wantErr(t, err, core.KindInvalid, "label")
	k, err := e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: strings.Repeat("é", 64), Key: good})
	noErr(t, err)
	if k.Label != strings.Repeat("é", 64) {
		t.Fatalf("label = %q", k.Label)
	}
	k2, err := e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: "", Key: testenv.NewSSHKey(t, "")})
	noErr(t, err)
	if k2.Label != "" {
		t.Fatalf("empty label came back as %q", k2.Label)
	}
	page, err := e.svc.SSHKeys(e.ctx, a, allRows)
	noErr(t, err)
	if page.Results != 2 {
		t.Fatalf("%d keys stored, want 2", page.Results)
	}
}

// TestSSHKeysRepeated: the same public key may be stored twice in one
// profile, as the real API allows (the Terraform provider's acceptance
// tests do it); each copy has its own id, label and lifetime.
func TestSSHKeysRepeated(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	b := e.user("bobby", false)
	line := testenv.NewSSHKey(t, "first")
	one, err := e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: "one", Key: line})
	noErr(t, err)
	two, err := e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: "two", Key: line})
	noErr(t, err)
	if one.ID == two.ID || two.Key != line {
		t.Fatalf("the second copy is %+v, the first %+v", two, one)
	}
	noErr(t, e.svc.DeleteSSHKey(e.ctx, a, one.ID))
	got, err := e.svc.SSHKey(e.ctx, a, two.ID)
	noErr(t, err)
	if got.Label != "two" {
		t.Fatalf("deleting one copy changed the other: %+v", got)
	}
	// Another user may hold the same public key.
	_, err = e.svc.AddSSHKey(e.ctx, b, core.SSHKeyCreate{Label: "mine", Key: line})
	noErr(t, err)
}

func TestSSHKeysOwnership(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	b := e.user("bobby", false)
	k, err := e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: "alice's", Key: testenv.NewSSHKey(t, "")})
	noErr(t, err)

	_, err = e.svc.SSHKey(e.ctx, b, k.ID)
	wantErr(t, err, core.KindNotFound, "")
	_, err = e.svc.RenameSSHKey(e.ctx, b, k.ID, "stolen")
	wantErr(t, err, core.KindNotFound, "")
	err = e.svc.DeleteSSHKey(e.ctx, b, k.ID)
	wantErr(t, err, core.KindNotFound, "")
	page, err := e.svc.SSHKeys(e.ctx, b, allRows)
	noErr(t, err)
	if page.Results != 0 || len(page.Data) != 0 {
		t.Fatalf("bobby sees %d keys", page.Results)
	}
	got, err := e.svc.SSHKey(e.ctx, a, k.ID)
	noErr(t, err)
	if got.Label != "alice's" {
		t.Fatalf("alice's key label = %q after bobby's attempts", got.Label)
	}

	// The owner can rename (label only, 0..64) and delete.
	r, err := e.svc.RenameSSHKey(e.ctx, a, k.ID, "renamed")
	noErr(t, err)
	if r.Label != "renamed" || r.Key != k.Key || r.ID != k.ID {
		t.Fatalf("renamed key = %+v", r)
	}
	_, err = e.svc.RenameSSHKey(e.ctx, a, k.ID, strings.Repeat("x", 65))
	wantErr(t, err, core.KindInvalid, "label")
	_, err = e.svc.RenameSSHKey(e.ctx, a, k.ID+1000, "x")
	wantErr(t, err, core.KindNotFound, "")
	noErr(t, e.svc.DeleteSSHKey(e.ctx, a, k.ID))
	_, err = e.svc.SSHKey(e.ctx, a, k.ID)
	wantErr(t, err, core.KindNotFound, "")
	wantErr(t, e.svc.DeleteSSHKey(e.ctx, a, k.ID), core.KindNotFound, "")
}

// skKeyLine builds an authorized_keys line for a FIDO security-key public
// key: the wire format is the plain key's fields plus an application string.
func skKeyLine(t *testing.T, typ string, fields ...any) string {
	t.Helper()
	var blob []byte
	for _, f := range fields {
		switch v := f.(type) {
		case string:
			blob = append(blob, ssh.Marshal(struct{ S string }{v})...)
		case []byte:
			blob = append(blob, ssh.Marshal(struct{ B []byte }{v})...)
		}
	}
	line := typ + " " + base64.StdEncoding.EncodeToString(blob)
	if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err != nil {
		t.Fatalf("test key %s does not parse: %v", typ, err)
	}
	return line
}

func TestSSHKeysSecurityKeyAndDSATypes(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)

	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	noErr(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	noErr(t, err)
	ecPoint, err := ec.PublicKey.ECDH()
	noErr(t, err)
	var params dsa.Parameters
	noErr(t, dsa.GenerateParameters(&params, rand.Reader, dsa.L1024N160))
	dsaKey := dsa.PrivateKey{PublicKey: dsa.PublicKey{Parameters: params}}
	noErr(t, dsa.GenerateKey(&dsaKey, rand.Reader))

	for _, line := range []string{
		skKeyLine(t, ssh.KeyAlgoSKED25519, ssh.KeyAlgoSKED25519, []byte(edPub), "ssh:"),
		skKeyLine(t, ssh.KeyAlgoSKECDSA256, ssh.KeyAlgoSKECDSA256, "nistp256", ecPoint.Bytes(), "ssh:"),
		testenv.AuthorizedKey(t, &dsaKey.PublicKey, "old"),
	} {
		k, err := e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: strings.Fields(line)[0], Key: line})
		if err != nil {
			t.Errorf("%s key refused: %v", strings.Fields(line)[0], err)
			continue
		}
		if k.Key != line {
			t.Errorf("%s key changed on the way in", k.Label)
		}
	}

	// A certificate is not a public key the spec lists.
	_, caPriv, err := ed25519.GenerateKey(rand.Reader)
	noErr(t, err)
	signer, err := ssh.NewSignerFromKey(caPriv)
	noErr(t, err)
	userPub, _, err := ed25519.GenerateKey(rand.Reader)
	noErr(t, err)
	sp, err := ssh.NewPublicKey(userPub)
	noErr(t, err)
	cert := &ssh.Certificate{Key: sp, CertType: ssh.UserCert, KeyId: "alice", ValidPrincipals: []string{"alice"}, ValidBefore: ssh.CertTimeInfinity}
	noErr(t, cert.SignCert(rand.Reader, signer))
	certLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert)))
	_, err = e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: "cert", Key: certLine})
	wantErr(t, err, core.KindInvalid, "ssh_key")
}
