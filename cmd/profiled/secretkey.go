package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/profiled/profiled/core"
)

// keySize is the size of the AES-256 key that encrypts secrets at rest
// (TOTP secrets, security answers, pending SMS codes).
const keySize = 32

// makeKeyHint is how the errors tell an operator to make a key.
const makeKeyHint = "make one with: openssl rand -hex 32"

// keyConfig is where the secret key comes from.
type keyConfig struct {
	file string // --secret-key-file
}

func keyFlags(f *flagSet) *keyConfig {
	k := &keyConfig{}
	f.envString(&k.file, "secret-key-file", "PROFILED_SECRET_KEY_FILE", "",
		"the `PATH` of a file holding the 32-byte key that encrypts secrets at rest (hex, base64 or raw), readable by its owner only; "+
			"the environment variable PROFILED_SECRET_KEY may hold the key itself instead; with neither, SQLite uses DB.key beside the database, created on first use, and PostgreSQL refuses to start")
	return k
}

// openWithKey opens the database and loads the secret key that encrypts
// secrets at rest, from the first of:
//
//  1. the environment variable PROFILED_SECRET_KEY (hex or base64);
//  2. --secret-key-file (env PROFILED_SECRET_KEY_FILE);
//  3. for SQLite only, the file <database>.key beside the database,
//     created with random bytes and mode 0600 while the database has no
//     users yet.
//
// PostgreSQL has no default: every replica must share one key, so the
// operator provides it. A missing or malformed key is reported before the
// database is opened. created names the key file if this call made it, so
// the caller can tell the operator to back it up.
func openWithKey(ctx context.Context, e *env, k *keyConfig, c *dbConfig, m migrations) (st database, box *core.SecretBox, created string, err error) {
	if err := c.validate(); err != nil {
		return nil, nil, "", err
	}
	key, err := explicitKey(e, k, c)
	if err != nil {
		return nil, nil, "", err
	}
	st, err = openDB(ctx, c, m)
	if err != nil {
		return nil, nil, "", err
	}
	if key == nil {
		if key, created, err = sqliteKey(ctx, c, st); err != nil {
			st.Close()
			return nil, nil, "", err
		}
	}
	box, err = core.NewSecretBox(key)
	if err != nil {
		st.Close()
		return nil, nil, "", err
	}
	return st, box, created, nil
}

// explicitKey returns the key that PROFILED_SECRET_KEY or --secret-key-file
// gives, or nil if neither is set and the database is SQLite.
func explicitKey(e *env, k *keyConfig, c *dbConfig) ([]byte, error) {
	if v := e.getenv("PROFILED_SECRET_KEY"); v != "" {
		if k.file != "" {
			return nil, usagef("both PROFILED_SECRET_KEY and --secret-key-file (PROFILED_SECRET_KEY_FILE) are set: keep one")
		}
		key, err := decodeKey(v)
		if err != nil {
			return nil, usagef("PROFILED_SECRET_KEY: %v", err)
		}
		return key, nil
	}
	if k.file != "" {
		return readKeyFile(k.file)
	}
	if c.isPostgres() {
		return nil, usagef("PostgreSQL needs a secret key that every replica shares: set PROFILED_SECRET_KEY to 32 bytes in hex or base64 (%s), or give --secret-key-file PATH (env PROFILED_SECRET_KEY_FILE)", makeKeyHint)
	}
	return nil, nil
}

// sqliteKey reads the key file beside an SQLite database, creating it if
// the database has no users yet; created is its path if it did.
func sqliteKey(ctx context.Context, c *dbConfig, st database) (key []byte, created string, err error) {
	path := c.sqlitePath() + ".key"
	key, err = readKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, "", err
	}
	// No key file. A database that already has users may hold secrets
	// under a key that was lost or given some other way: a new key would
	// make them unreadable, so that takes the operator's decision.
	n, err := st.CountUsers(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil, "", fmt.Errorf("the secret key file %s is missing but the database already has users, whose secrets at rest (TFA, security answers) need the key they were encrypted with: "+
			"restore the file, or set PROFILED_SECRET_KEY to that key; to start over with a new key (users then enroll in TFA and security questions again): %s > %s && chmod 600 %s",
			path, makeKeyHint, path, path)
	}
	key, err = createKeyFile(path)
	if err != nil {
		return nil, "", err
	}
	return key, path, nil
}

// keyBesideDatabase is the warning serve logs at every start when the key
// file is in the SQLite database's folder (the default DB.key, or a
// --secret-key-file put there), or "" when it is not: a backup or a copy
// of that folder then holds both the data and the key to its secrets.
func keyBesideDatabase(k *keyConfig, c *dbConfig, getenv func(string) string) string {
	if c.isPostgres() || getenv("PROFILED_SECRET_KEY") != "" {
		return ""
	}
	key := k.file
	if key == "" {
		key = c.sqlitePath() + ".key"
	}
	kd, err1 := filepath.Abs(filepath.Dir(key))
	dd, err2 := filepath.Abs(filepath.Dir(c.sqlitePath()))
	if err1 != nil || err2 != nil || kd != dd {
		return ""
	}
	return "the secret key file " + key + " is in the database's folder: a backup or copy of that folder holds the data and the key to its secrets together. " +
		"Keep them apart: move the key elsewhere and give it with --secret-key-file (PROFILED_SECRET_KEY_FILE) or PROFILED_SECRET_KEY, and back it up separately from the database"
}

// keyCreatedNotice is what the operator is told when a key file is made.
func keyCreatedNotice(path string) string {
	return "created the secret key file " + path + " (mode 0600): back it up with the database; without it, TFA secrets, security answers and the keys that sign ID tokens cannot be read"
}

// decodeKey reads a key written as 64 hex digits or as base64 (standard
// or URL alphabet, padded or not) of 32 bytes.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == keySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == keySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("the key must be %d bytes written as 64 hex digits or as base64 (%s)", keySize, makeKeyHint)
}

// readKeyFile reads a key file, refusing one that its group or others
// may read or write: a secret other users can read is not a secret.
func readKeyFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("secret key file %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("secret key file %s has mode %04o, so other users may read it: make it readable by its owner only with: chmod 600 %s", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	if key, err := decodeKey(string(data)); err == nil {
		return key, nil
	}
	if len(data) == keySize {
		return data, nil // 32 raw bytes
	}
	return nil, fmt.Errorf("secret key file %s: the key must be %d bytes, raw or written as 64 hex digits or base64 (%s)", path, keySize, makeKeyHint)
}

// createKeyFile writes a new random key, as hex, to path, which must not
// exist. The key is written to a temporary file first and linked into
// place, so that two processes starting at once agree on one key and no
// one ever reads a half-written file.
func createKeyFile(path string) ([]byte, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("create the secret key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600; say so, whatever the umask.
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write the secret key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path) // another process made it first
		}
		return nil, fmt.Errorf("create the secret key file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the new name durable too
		d.Close()
	}
	return key, nil
}
