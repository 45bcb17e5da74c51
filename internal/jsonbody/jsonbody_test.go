package jsonbody_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/profiled/profiled/internal/jsonbody"
)

// TestLimitsAreValues: the reader holds whatever limits it is given (the
// core's preferences give theirs; the core's tests cover those), naming
// the member at fault.
func TestLimitsAreValues(t *testing.T) {
	l := jsonbody.Limits{MaxKeys: 2, MaxKeyBytes: 3, MaxValueBytes: 5, MaxBodyBytes: 40}
	for body, want := range map[string]struct {
		problem jsonbody.Problem
		pointer string
	}{
		`{"a":1,"b":2,"c":3}`:                   {jsonbody.TooManyKeys, "/c"},
		`{"abcd":1}`:                            {jsonbody.KeyTooLong, "/abcd"},
		`{"a":"123456"}`:                        {jsonbody.ValueTooLarge, "/a"},
		`{"a":1}` + strings.Repeat(" ", 40):     {jsonbody.BodyTooLarge, ""},
		`{"a":1,"a":2}`:                         {jsonbody.DuplicateKey, "/a"},
		`[1]`:                                   {jsonbody.NotAnObject, ""},
		`{"a":`:                                 {jsonbody.InvalidJSON, "/a"},
		`{"` + strings.Repeat("x", 30) + `":1}`: {jsonbody.KeyTooLong, "/" + strings.Repeat("x", 30)},
	} {
		_, err := jsonbody.Read(strings.NewReader(body), -1, l)
		var je *jsonbody.Error
		if !errors.As(err, &je) || je.Problem != want.problem || je.Pointer != want.pointer {
			t.Errorf("%.30s: %v, want problem %d at %q", body, err, want.problem, want.pointer)
		}
	}
	out, err := jsonbody.Read(strings.NewReader(` { "a" : [ 1 , 2 ] , "bc" : "x" } `), -1, l)
	if err != nil || string(out) != `{"a":[1,2],"bc":"x"}` {
		t.Fatalf("a body within the limits: %s, %v", out, err)
	}
}
