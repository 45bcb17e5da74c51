package core

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/profiled/profiled/internal/jsonbody"
)

// Limits of a client's preferences object, as the PACE User API states
// them. They hold for every write through ClientPreferences; the Linode
// face's PutPreferences keeps its own limit (MaxPreferencesLength).
const (
	// MaxPreferenceKeys is the most top-level keys an object may have.
	MaxPreferenceKeys = 10
	// MaxPreferenceKeyBytes is the longest key, in bytes of UTF-8 once
	// its escapes are decoded.
	MaxPreferenceKeyBytes = 128
	// MaxPreferenceValueBytes is the largest value of one key, in bytes of
	// its compact JSON (as stored: whitespace outside strings does not count).
	MaxPreferenceValueBytes = 10 << 20
	// MaxPreferencesBodyBytes bounds the whole body as sent, whitespace
	// included: ten keys at their longest (a key of 128 bytes may take 768
	// when every byte is escaped), each with the largest value, and 1 MiB
	// for whitespace and punctuation.
	MaxPreferencesBodyBytes = MaxPreferenceKeys*(MaxPreferenceValueBytes+6*MaxPreferenceKeyBytes+8) + 1<<20
	// maxPreferencesDepth is encoding/json's nesting limit, which the
	// reader holds (package jsonbody).
	maxPreferencesDepth = 10000
)

// Codes of the errors of a preferences body (Error.Code).
const (
	CodeInvalidJSON    = "invalid-json"
	CodeNotAnObject    = "not-an-object"
	CodeDuplicateKey   = "duplicate-key"
	CodeMaxKeys        = "max-keys-exceeded"
	CodeKeyTooLong     = "key-too-long"
	CodeValueTooLarge  = "value-too-large"
	CodeBodyTooLarge   = "body-too-large"
	CodeUnreadableBody = "unreadable-body"
)

// prefsLimits are the limits above, as package jsonbody takes them.
var prefsLimits = jsonbody.Limits{MaxKeys: MaxPreferenceKeys, MaxKeyBytes: MaxPreferenceKeyBytes,
	MaxValueBytes: MaxPreferenceValueBytes, MaxBodyBytes: MaxPreferencesBodyBytes}

// prefsCodes are the kind and the code of each problem of a body.
var prefsCodes = map[jsonbody.Problem]struct {
	kind Kind
	code string
}{
	jsonbody.InvalidJSON:   {KindInvalid, CodeInvalidJSON},
	jsonbody.NotAnObject:   {KindInvalid, CodeNotAnObject},
	jsonbody.DuplicateKey:  {KindInvalid, CodeDuplicateKey},
	jsonbody.TooManyKeys:   {KindTooLarge, CodeMaxKeys},
	jsonbody.KeyTooLong:    {KindTooLarge, CodeKeyTooLong},
	jsonbody.ValueTooLarge: {KindTooLarge, CodeValueTooLarge},
	jsonbody.BodyTooLarge:  {KindTooLarge, CodeBodyTooLarge},
	jsonbody.Unreadable:    {KindInvalid, CodeUnreadableBody},
}

// readClientPreferences reads a preferences object from r under the
// limits above (jsonbody.Read says how), and words a refusal as the core's
// error of its kind and code, its Field the JSON Pointer of the member at
// fault. size is the body's length if known, else -1.
func readClientPreferences(r io.Reader, size int64) (json.RawMessage, error) {
	v, err := jsonbody.Read(r, size, prefsLimits)
	var je *jsonbody.Error
	if errors.As(err, &je) {
		c := prefsCodes[je.Problem]
		return nil, &Error{Kind: c.kind, Field: je.Pointer, Code: c.code, Reason: je.Reason}
	}
	return v, err
}
