package core

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// SecretBox encrypts secrets at rest (TOTP secrets, security answers, SMS
// codes awaiting re-send) with AES-256-GCM. The key never reaches the store.
type SecretBox struct{ aead cipher.AEAD }

// NewSecretBox takes a 32-byte key.
func NewSecretBox(key []byte) (*SecretBox, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &SecretBox{aead: aead}, nil
}

// Seal encrypts plaintext; the random nonce is prepended. additional binds
// the ciphertext to its owner (a user id and purpose), so a ciphertext copied
// to another user's row does not decrypt.
func (b *SecretBox) Seal(plaintext []byte, additional string) []byte {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b.aead.Seal(nonce, nonce, plaintext, []byte(additional))
}

// Open decrypts what Seal produced with the same additional data.
func (b *SecretBox) Open(ciphertext []byte, additional string) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(ciphertext) < n {
		return nil, errors.New("secretbox: ciphertext too short")
	}
	return b.aead.Open(nil, ciphertext[:n], ciphertext[n:], []byte(additional))
}
