package core_test

import (
	"strings"
	"testing"

	"github.com/profiled/profiled/core"
)

func TestPreferencesScopesCanonical(t *testing.T) {
	wantCanonical(t, []canonicalCase{
		{"user:preferences:write user:preferences:read", "user:preferences:read user:preferences:write"},
		{"user:preferences:read:abc user:preferences:read:abc account:read_only", "account:read_only user:preferences:read:abc"},
		{"user:preferences:read:personal", "user:preferences:read:personal"},
		{"user:preferences:write:A.b_c~d-9 user:preferences:read", "user:preferences:read user:preferences:write:A.b_c~d-9"},
		{"user:preferences:read user:preferences:read:x *", "*"},
		// Unqualified and qualified scopes are different grants: both stay.
		{"user:preferences:read:x user:preferences:read", "user:preferences:read user:preferences:read:x"},
		{"user:preferences:read:" + strings.Repeat("x", 128), "user:preferences:read:" + strings.Repeat("x", 128)},
	})
}

func TestPreferencesScopesInvalid(t *testing.T) {
	wantInvalidScopes(t,
		"user:preferences",
		"user:preferences:",
		"user:preferences:delete",
		"user:preferences:read_only",
		"user:preferences:read:",
		"user:preferences:read:a:b",
		"user:preferences:read:a/b",
		"user:preferences:read:*",
		"user:preferences:read:"+strings.Repeat("x", 129),
		"User:preferences:read",
		"user:read",
		"user:read_only",
	)
}

func TestAllowsPreferences(t *testing.T) {
	cases := []struct {
		s          core.Scopes
		op, client string
		want       bool
	}{
		{core.AllScopes, core.PreferencesRead, "", true},
		{core.AllScopes, core.PreferencesWrite, "anything", true},
		{"user:preferences:read", core.PreferencesRead, "", true},
		{"user:preferences:read", core.PreferencesWrite, "", false}, // write is its own grant
		{"user:preferences:write", core.PreferencesRead, "", false}, // and so is read
		{"user:preferences:read", core.PreferencesRead, "x", false},
		{"user:preferences:read:x", core.PreferencesRead, "x", true},
		{"user:preferences:read:x", core.PreferencesRead, "", false},
		{"user:preferences:read:x", core.PreferencesRead, "y", false},
		{"user:preferences:read:x", core.PreferencesWrite, "x", false},
		{"account:read_write", core.PreferencesRead, "", false},
		{"", core.PreferencesRead, "", false},
	}
	for _, c := range cases {
		if got := c.s.AllowsPreferences(c.op, c.client); got != c.want {
			t.Errorf("%q.AllowsPreferences(%s, %q) = %v, want %v", c.s, c.op, c.client, got, c.want)
		}
	}
	// Preferences scopes grant nothing on Linode categories, and back.
	if s := core.Scopes("user:preferences:read user:preferences:write"); s.Allows("account", core.ReadOnly) {
		t.Error("preferences scopes allow account:read_only")
	}
}

func TestPreferencesScopesWithin(t *testing.T) {
	wantWithin(t, []withinCase{
		{"user:preferences:read", "user:preferences:read", true},
		{"user:preferences:read", "*", true},
		{"*", "user:preferences:read user:preferences:write", false},
		{"user:preferences:write", "user:preferences:read", false},
		{"user:preferences:read:x", "user:preferences:read", false},
		{"user:preferences:read", "user:preferences:read:x", false},
		{"user:preferences:read:x", "user:preferences:read:x user:preferences:read:y", true},
		{"user:preferences:read:x account:read_only", "user:preferences:read:x account:read_write", true},
		{"user:preferences:read:x account:read_write", "user:preferences:read:x account:read_only", false},
		{"account:read_only", "user:preferences:read", false},
	})
}

func TestScopesBind(t *testing.T) {
	cases := []struct {
		s      core.Scopes
		client string
		want   core.Scopes
	}{
		{"account:read_only user:preferences:read", "x", "account:read_only user:preferences:read:x"},
		{"user:preferences:read user:preferences:write user:preferences:read:y", "x", "user:preferences:read:x user:preferences:read:y user:preferences:write:x"},
		{"user:preferences:read:x user:preferences:read", "x", "user:preferences:read:x"},
		{"user:preferences:read", "", "user:preferences:read"},
		{"account:read_only", "x", "account:read_only"},
		{core.AllScopes, "x", core.AllScopes},
		{"", "x", ""},
		// A client id that cannot be written in a scope loses the unqualified scope.
		{"account:read_only user:preferences:read", "a b", "account:read_only"},
	}
	for _, c := range cases {
		if got := c.s.Bind(c.client); got != c.want {
			t.Errorf("%q.Bind(%q) = %q, want %q", c.s, c.client, got, c.want)
		}
	}
}

// canDo is what a token of namespace own holding s may do on target.
func canDo(s core.Scopes, own, op, target string) bool {
	return s.AllowsPreferences(op, target) || (target == own && s.AllowsPreferences(op, ""))
}

// TestPreferencesScopesNeverEscalate checks, over every pair of small sets
// of preferences scopes, that a personal token whose scopes are Within the
// bound scopes of a parent of client x can do nothing on any namespace that
// the parent cannot.
func TestPreferencesScopesNeverEscalate(t *testing.T) {
	atoms := []string{"user:preferences:read", "user:preferences:write", "user:preferences:read:x",
		"user:preferences:read:personal", "user:preferences:write:y"}
	var sets []core.Scopes
	for mask := 1; mask < 1<<len(atoms); mask++ {
		var fs []string
		for i, a := range atoms {
			if mask&(1<<i) != 0 {
				fs = append(fs, a)
			}
		}
		s, err := core.ParseScopes(strings.Join(fs, " "))
		noErr(t, err)
		sets = append(sets, s)
	}
	sets = append(sets, core.AllScopes)
	for _, parentOwn := range []string{core.PersonalNamespace, "x"} {
		bindTo := parentOwn
		if parentOwn == core.PersonalNamespace {
			bindTo = ""
		}
		for _, parent := range sets {
			bound := parent.Bind(bindTo)
			for _, child := range sets {
				if !child.Within(bound) {
					continue
				}
				for _, op := range []string{core.PreferencesRead, core.PreferencesWrite} {
					for _, target := range []string{core.PersonalNamespace, "x", "y", "z"} {
						if canDo(child, core.PersonalNamespace, op, target) && !canDo(parent, parentOwn, op, target) {
							t.Errorf("child %q of a %s token with %q may %s %s", child, parentOwn, parent, op, target)
						}
					}
				}
			}
		}
	}
}
