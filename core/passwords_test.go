package core_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/profiled/profiled/core"
)

func TestValidatePassword(t *testing.T) {
	u := core.User{Username: "alice-wonder", Email: "Alice.Wonder@example.com"}
	if n := core.CommonPasswordCount(); n < 10000 {
		t.Fatalf("the common password list has %d entries, want at least 10,000", n)
	}
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"correct horse battery staple", true},
		{"short", false},
		{strings.Repeat("é", 11), false}, // 22 bytes, 11 characters
		{strings.Repeat("é", 12), true},
		{strings.Repeat("x", 256), true},
		{strings.Repeat("x", 257), false},
		{"password1234", false}, // on the list
		{"PassWord1234", false}, // case-insensitively
		{"1qaz2wsx3edc", false},
		{"ALICE-WONDER", false}, // the username
		{"alice.wonder@example.com", false},
		{"with a \x00 NUL in it", false},
		{"bad utf8 \xff\xfe here", false},
	} {
		err := core.ValidatePassword("password", tc.pw, u)
		if tc.ok {
			noErr(t, err)
		} else {
			wantErr(t, err, core.KindInvalid, "password")
		}
	}
	wantErr(t, core.ValidatePassword("new_password", "short", core.User{}), core.KindInvalid, "new_password")
}

func TestHashPassword(t *testing.T) {
	h, err := core.HashPassword("correct horse battery staple")
	noErr(t, err)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id PHC with the current parameters", h)
	}
	h2, err := core.HashPassword("correct horse battery staple")
	noErr(t, err)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	ok, rehash, err := core.CheckPassword(h, "correct horse battery staple")
	if err != nil || !ok || rehash {
		t.Fatalf("CheckPassword(right) = %v %v %v", ok, rehash, err)
	}
	ok, _, err = core.CheckPassword(h, "correct horse battery stapl")
	if err != nil || ok {
		t.Fatalf("CheckPassword(wrong) = %v %v", ok, err)
	}
	for _, bad := range []string{"", "$2b$10$abc", "$argon2i$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=999999999,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5"} {
		if _, _, err := core.CheckPassword(bad, "x"); err == nil {
			t.Errorf("CheckPassword(%q) accepted a malformed hash", bad)
		}
	}
}

// weakHash is a PHC string with parameters below the current ones, as an
// older profiled would have stored.
func weakHash(pw string) string {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(pw), salt, 1, 8*1024, 1, 32)
	return "$argon2id$v=19$m=8192,t=1,p=1$" + b64(salt) + "$" + b64(key)
}

func TestVerifyPasswordRehashes(t *testing.T) {
	e := newProductionEnv(t)
	a := e.user("alice", false)
	pw := "an old but long passphrase"
	noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error { return tx.SetPasswordHash(e.ctx, a.User.ID, weakHash(pw), time.Now()) }))
	ok, rehash, err := core.CheckPassword(weakHash(pw), pw)
	if !ok || !rehash || err != nil {
		t.Fatalf("CheckPassword(weak) = %v %v %v, want a match that needs a rehash", ok, rehash, err)
	}
	ok, err = e.svc.VerifyPassword(e.ctx, a.User.ID, pw)
	if !ok || err != nil {
		t.Fatalf("VerifyPassword = %v %v", ok, err)
	}
	h, err := e.store.PasswordHash(e.ctx, a.User.ID)
	noErr(t, err)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=1$") {
		t.Fatalf("after a sign-in the hash is %q, want the current parameters", h)
	}
	ok, err = e.svc.VerifyPassword(e.ctx, a.User.ID, pw)
	if !ok || err != nil {
		t.Fatalf("VerifyPassword after the rehash = %v %v", ok, err)
	}
	ok, err = e.svc.VerifyPassword(e.ctx, 424242, pw)
	if ok || err != nil {
		t.Fatalf("VerifyPassword of a missing user = %v %v", ok, err)
	}
}

func TestSetPassword(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	wantErr(t, e.svc.SetPassword(e.ctx, a.User.ID, "alice@example.com"), core.KindInvalid, "password")
	wantErr(t, e.svc.SetPassword(e.ctx, 424242, "a fine long passphrase"), core.KindNotFound, "-")
	noErr(t, e.svc.SetPassword(e.ctx, a.User.ID, "a fine long passphrase"))
	e.assertNotOnDisk("a fine long passphrase")
	ok, err := e.svc.VerifyPassword(e.ctx, a.User.ID, "a fine long passphrase")
	if !ok || err != nil {
		t.Fatalf("VerifyPassword = %v %v", ok, err)
	}
}

func b64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }
