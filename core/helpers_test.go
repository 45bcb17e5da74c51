package core_test

import (
	"errors"
	"testing"

	"github.com/profiled/profiled/core"
)

// wantErr fails the test unless err is a *core.Error of kind and, when field
// is not "-", names field. It returns the *core.Error for further checks.
func wantErr(t *testing.T, err error, kind core.Kind, field string) *core.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want kind %v field %q", kind, field)
	}
	var e *core.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want a *core.Error of kind %v", err, err, kind)
	}
	if e.Kind != kind {
		t.Fatalf("got kind %v (%v), want %v", e.Kind, err, kind)
	}
	if field != "-" && e.Field != field {
		t.Fatalf("got field %q (%v), want %q", e.Field, err, field)
	}
	if e.Reason == "" {
		t.Fatalf("error %v has no reason", err)
	}
	return e
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}
