package core

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind classifies a domain error. Each HTTP face maps a Kind to its own
// status code and error envelope; no face decides a rule on its own.
type Kind int

const (
	KindInternal           Kind = iota // a bug or an unavailable dependency
	KindInvalid                        // the request breaks a rule; Field names the culprit
	KindNotFound                       // absent, or owned by another user (never 403 for that)
	KindUnauthorized                   // missing, unknown, expired or revoked credentials
	KindForbidden                      // authenticated, but the token lacks a scope
	KindConflict                       // the state does not allow the operation (e.g. TFA already on)
	KindTooManyRequests                // a guessable code was tried too often
	KindTooLarge                       // a body or value exceeds a hard limit
	KindGone                           // the object existed and was removed for good
	KindUnavailable                    // the server cannot take the work now; RetryAfter says when to try again
	KindPreconditionFailed             // the object changed since the client read it (If-Match)
)

// Error is the one error type the core returns for anything a client did.
type Error struct {
	Kind   Kind
	Field  string // the offending field, dotted for nested ones; empty if none
	Reason string // a human sentence that says what to do next
	// RetryAfter is set on KindTooManyRequests (how long until the limit
	// resets) and KindUnavailable (when to try again).
	RetryAfter time.Duration
	// Required is set on KindUnauthorized/KindForbidden for scope failures:
	// the scope the operation needed.
	Required string
	// Code, when set, names the broken rule in a stable, machine-readable
	// way (e.g. "max-keys-exceeded"), for faces whose envelope carries one
	// (JSON:API "code"). Faces without such a field ignore it.
	Code string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Reason)
	}
	return e.Reason
}

// Invalid reports a rule broken by the value of field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// NotFound is what a client sees for absent objects and for other users' objects alike.
func NotFound() *Error { return &Error{Kind: KindNotFound, Reason: "Not found"} }

// Unauthorized is the answer to any credential that does not identify a live token.
func Unauthorized() *Error { return &Error{Kind: KindUnauthorized, Reason: "Invalid Token"} }

// Conflict reports an operation the current state does not allow.
func Conflict(field, format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// TooManyRequests reports an exhausted attempt budget.
func TooManyRequests(retryAfter time.Duration) *Error {
	return &Error{Kind: KindTooManyRequests, Reason: "Too many requests", RetryAfter: retryAfter}
}

// ErrNotFound is returned by stores for a missing row; services turn it into NotFound().
var ErrNotFound = errors.New("not found")

// ErrDuplicate is returned by stores when a unique constraint refuses a row.
var ErrDuplicate = errors.New("duplicate")

// KindOf returns the Kind of err, KindInternal for anything that is not a *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// AsError returns the *Error inside err, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// checkText refuses text no store can keep: the NUL character and
// invalid UTF-8 (PostgreSQL text holds neither, and refuses the whole
// statement). JSON decoding replaces invalid UTF-8, but a form or a query
// (OAuth's) arrives as it was sent.
func checkText(field, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return Invalid(field, "%s may not contain the NUL character", field)
	}
	if !utf8.ValidString(s) {
		return Invalid(field, "%s must be UTF-8 text", field)
	}
	return nil
}
