package core_test

import (
	"testing"

	"github.com/profiled/profiled/core"
)

// canonicalCase is a scope string and its canonical form.
type canonicalCase struct{ in, want string }

// wantCanonical checks that ParseScopes gives each case's canonical form,
// and gives it back unchanged.
func wantCanonical(t *testing.T, cases []canonicalCase) {
	t.Helper()
	for _, c := range cases {
		got, err := core.ParseScopes(c.in)
		if err != nil {
			t.Errorf("ParseScopes(%q): %v", c.in, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("ParseScopes(%q) = %q, want %q", c.in, got, c.want)
		}
		// The canonical form is a fixed point.
		again, err := core.ParseScopes(string(got))
		if err != nil || again != got {
			t.Errorf("ParseScopes(%q) = %q, %v; want the same canonical form back", got, again, err)
		}
	}
}

// wantInvalidScopes checks that ParseScopes refuses each of ins.
func wantInvalidScopes(t *testing.T, ins ...string) {
	t.Helper()
	for _, in := range ins {
		_, err := core.ParseScopes(in)
		wantErr(t, err, core.KindInvalid, "scopes")
	}
}

// withinCase is whether child is Within parent.
type withinCase struct {
	child, parent core.Scopes
	want          bool
}

func wantWithin(t *testing.T, cases []withinCase) {
	t.Helper()
	for _, c := range cases {
		if got := c.child.Within(c.parent); got != c.want {
			t.Errorf("%q.Within(%q) = %v, want %v", c.child, c.parent, got, c.want)
		}
	}
}

func TestParseScopesCanonical(t *testing.T) {
	wantCanonical(t, []canonicalCase{
		{"", "*"},
		{"   ", "*"},
		{"*", "*"},
		{" * ", "*"},
		{"account:read_only", "account:read_only"},
		{"linodes:read_write account:read_only", "account:read_only linodes:read_write"},
		{"  volumes:read_only   account:read_write ", "account:read_write volumes:read_only"},
		// Duplicates collapse to the highest level, whatever their order.
		{"account:read_only account:read_write", "account:read_write"},
		{"account:read_write account:read_only", "account:read_write"},
		{"account:read_only account:read_only", "account:read_only"},
		// A wildcard among scopes means everything.
		{"account:read_only *", "*"},
		{"vpc:read_write child_account:read_only placement:read_only", "child_account:read_only placement:read_only vpc:read_write"},
	})
}

func TestParseScopesInvalid(t *testing.T) {
	wantInvalidScopes(t,
		"account",                             // no level
		"account:",                            // empty level
		":read_only",                          // empty category
		"account:write",                       // bad level
		"account:read-write",                  // hyphen
		"monitor:read-write",                  // the spec's typo is not a scope
		"accounts:read_only",                  // unknown category
		"ACCOUNT:read_only",                   // case matters
		"account:read_only,linodes:read_only", // comma separated
		"account:read_only foo:read_write",
		"account:read_only:extra",
		"**",
	)
}

func TestScopesAllows(t *testing.T) {
	cases := []struct {
		s               core.Scopes
		cat             string
		read, readWrite bool
	}{
		{core.AllScopes, "account", true, true},
		{core.AllScopes, "linodes", true, true},
		{"account:read_only", "account", true, false},
		{"account:read_write", "account", true, true},
		{"account:read_only linodes:read_write", "account", true, false},
		{"account:read_only linodes:read_write", "linodes", true, true},
		{"account:read_only linodes:read_write", "volumes", false, false},
		{"linodes:read_write", "account", false, false},
		// Non-canonical strings are read at their highest level.
		{"account:read_only account:read_write", "account", true, true},
		{"", "account", false, false},
	}
	for _, c := range cases {
		if got := c.s.Allows(c.cat, core.ReadOnly); got != c.read {
			t.Errorf("%q.Allows(%s, read_only) = %v, want %v", c.s, c.cat, got, c.read)
		}
		if got := c.s.Allows(c.cat, core.ReadWrite); got != c.readWrite {
			t.Errorf("%q.Allows(%s, read_write) = %v, want %v", c.s, c.cat, got, c.readWrite)
		}
	}
}

func TestScopesWithin(t *testing.T) {
	wantWithin(t, []withinCase{
		{"*", "*", true},
		{"account:read_write", "*", true},
		{"account:read_only linodes:read_write", "*", true},
		{"*", "account:read_write", false},
		{"*", "account:read_write linodes:read_write", false},
		{"account:read_only", "account:read_write", true},
		{"account:read_only", "account:read_only", true},
		{"account:read_write", "account:read_write", true},
		{"account:read_write", "account:read_only", false},
		{"account:read_only linodes:read_only", "account:read_write", false},
		{"account:read_only linodes:read_only", "account:read_only linodes:read_write volumes:read_only", true},
		{"volumes:read_only", "account:read_write", false},
	})
}

// TestScopesNeverEscalate checks, over every pair of small scope sets, that
// whatever is Within a parent grants nothing the parent does not.
func TestScopesNeverEscalate(t *testing.T) {
	cats := []string{"account", "linodes"}
	levels := []string{"", core.ReadOnly, core.ReadWrite}
	var all []core.Scopes
	for _, a := range levels {
		for _, b := range levels {
			s := ""
			if a != "" {
				s += "account:" + a + " "
			}
			if b != "" {
				s += "linodes:" + b
			}
			if s == "" {
				continue
			}
			p, err := core.ParseScopes(s)
			noErr(t, err)
			all = append(all, p)
		}
	}
	all = append(all, core.AllScopes)
	for _, child := range all {
		for _, parent := range all {
			if !child.Within(parent) {
				continue
			}
			for _, c := range append(cats, "volumes") {
				for _, l := range []string{core.ReadOnly, core.ReadWrite} {
					if child.Allows(c, l) && !parent.Allows(c, l) {
						t.Errorf("%q is Within %q but allows %s:%s", child, parent, c, l)
					}
				}
			}
		}
	}
}

func TestScope(t *testing.T) {
	if got := core.Scope("account", core.ReadWrite); got != "account:read_write" {
		t.Fatalf("Scope = %q", got)
	}
}

// TestIdentityScopes: OpenID Connect's openid, profile, email and
// offline_access are
// scopes of the grammar, canonical like the others, within "*" and within
// a parent that holds them only; they open no API and no preferences.
func TestIdentityScopes(t *testing.T) {
	wantCanonical(t, []canonicalCase{
		{"openid", "openid"},
		{"profile openid email openid", "email openid profile"},
		{"openid account:read_only", "account:read_only openid"},
		{"offline_access openid", "offline_access openid"},
	})
	wantInvalidScopes(t, "OpenID", "address", "openid:read_only", "phone", "offline_access:read_only")
	wantWithin(t, []withinCase{
		{"openid", "*", true},
		{"openid email", "email openid profile", true},
		{"openid email", "openid", false},
		{"openid offline_access", "openid", false},
		{"openid", "openid offline_access", true},
		{"openid", "account:read_write", false},
		{"account:read_only", "openid account:read_only", true},
		{"openid", "user:preferences:read", false},
	})
	for _, s := range []core.Scopes{"openid", "email openid profile"} {
		if s.AnyLinode() || s.Allows("account", core.ReadOnly) || s.AllowsPreferences(core.PreferencesRead, "") {
			t.Errorf("%q opens an API", s)
		}
	}
	for _, c := range []struct {
		s    core.Scopes
		name string
		want bool
	}{
		{"*", core.ScopeEmail, true},
		{"email openid", core.ScopeEmail, true},
		{"email openid", core.ScopeProfile, false},
		{"account:read_write", core.ScopeOpenID, false},
		{"openid", "account:read_write", false},
	} {
		if got := c.s.AllowsIdentity(c.name); got != c.want {
			t.Errorf("%q.AllowsIdentity(%s) = %v, want %v", c.s, c.name, got, c.want)
		}
	}
	// The consent page has a line for each, and gives back what was left.
	lines := core.ConsentScopes("email openid profile linodes:read_only")
	if len(lines) != 4 {
		t.Fatalf("consent lines: %+v", lines)
	}
	granted, err := core.GrantConsent("email openid profile linodes:read_only", func(key string) string {
		if key == core.ScopeEmail {
			return ""
		}
		for _, l := range lines {
			if l.Key == key {
				return l.Choices()[0]
			}
		}
		return ""
	})
	if err != nil || granted != "linodes:read_only openid profile" {
		t.Fatalf("granted %q, %v", granted, err)
	}
}
