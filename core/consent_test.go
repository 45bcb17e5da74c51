package core_test

import (
	"strings"
	"testing"

	"github.com/profiled/profiled/core"
)

func TestConsentScopes(t *testing.T) {
	got := core.ConsentScopes("account:read_write user:preferences:read user:preferences:write:personal user:preferences:write:x.y")
	want := []core.ConsentScope{
		{Key: "account", Category: "account", Level: core.ReadWrite},
		{Key: "user:preferences:read", Op: core.PreferencesRead},
		{Key: "user:preferences:write:personal", Op: core.PreferencesWrite, Client: core.PersonalNamespace},
		{Key: "user:preferences:write:x.y", Op: core.PreferencesWrite, Client: "x.y"},
	}
	if len(got) != len(want) {
		t.Fatalf("ConsentScopes = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	all := core.ConsentScopes(core.AllScopes)
	if len(all) != len(core.ScopeCategories)+2 {
		t.Fatalf("ConsentScopes(*) has %d lines", len(all))
	}
	for _, c := range all[:len(core.ScopeCategories)] {
		if c.Key != c.Category || c.Level != core.ReadWrite || strings.Join(c.Choices(), " ") != "read_write read_only" {
			t.Errorf("a category line of *: %+v", c)
		}
	}
	for i, op := range []string{core.PreferencesRead, core.PreferencesWrite} {
		c := all[len(core.ScopeCategories)+i]
		if c != (core.ConsentScope{Key: "user:preferences:" + op, Op: op, Every: true}) ||
			strings.Join(c.Choices(), " ") != "every allow" {
			t.Errorf("a preferences line of *: %+v %v", c, c.Choices())
		}
	}
}

func TestGrantConsent(t *testing.T) {
	everything := func(requested core.Scopes) map[string]string {
		m := map[string]string{}
		for _, c := range core.ConsentScopes(requested) {
			m[c.Key] = c.Choices()[0]
		}
		return m
	}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	const prefs = "account:read_write user:preferences:read user:preferences:write user:preferences:read:personal"
	var allCategories []string
	for c := range core.ScopeCategories {
		allCategories = append(allCategories, c+":read_write")
	}
	explicit, err := core.ParseScopes(strings.Join(allCategories, " "))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		requested core.Scopes
		chosen    map[string]string
		want      core.Scopes // "" for an error
	}{
		{prefs, everything(prefs), prefs},
		{prefs, with(everything(prefs), "user:preferences:write", "", "account", "read_only"),
			"account:read_only user:preferences:read user:preferences:read:personal"},
		{prefs, map[string]string{"user:preferences:read": "allow"}, "user:preferences:read"},
		{core.AllScopes, everything(core.AllScopes), core.AllScopes},
		// Lowered "*": the application's own preferences, or none.
		{core.AllScopes, with(everything(core.AllScopes), "linodes", "read_only", "user:preferences:read", "allow", "user:preferences:write", "allow"),
			core.Scopes(strings.Replace(string(explicit), "linodes:read_write", "linodes:read_only", 1) + " user:preferences:read user:preferences:write")},
		{core.AllScopes, with(everything(core.AllScopes), "user:preferences:read", "allow", "user:preferences:write", ""),
			core.Scopes(string(explicit) + " user:preferences:read")},
		// Every namespace comes with "*" alone.
		{core.AllScopes, with(everything(core.AllScopes), "user:preferences:write", ""), ""},
		{core.AllScopes, with(everything(core.AllScopes), "linodes", "read_only"), ""},
		{core.AllScopes, with(everything(core.AllScopes), "user:preferences:write", "allow"), ""},
		// Every category at read_write is not "*" unless "*" was asked for.
		{explicit, everything(explicit), explicit},
		// Nothing, or what is not a choice.
		{prefs, map[string]string{}, ""},
		{prefs, with(everything(prefs), "account", "root"), ""},
		{"account:read_only", map[string]string{"account": "read_write"}, ""},
		{prefs, with(everything(prefs), "user:preferences:read", "every"), ""},
		{prefs, with(everything(prefs), "user:preferences:read", "read_only"), ""},
	}
	for _, c := range cases {
		got, err := core.GrantConsent(c.requested, func(k string) string { return c.chosen[k] })
		if c.want == "" {
			if err == nil {
				t.Errorf("GrantConsent(%q, %v) = %q, want an error", c.requested, c.chosen, got)
				continue
			}
			wantErr(t, err, core.KindInvalid, "scopes")
			continue
		}
		want, perr := core.ParseScopes(string(c.want)) // the canonical order
		if perr != nil {
			t.Fatal(perr)
		}
		if err != nil || got != want {
			t.Errorf("GrantConsent(%q, %v) = %q, %v; want %q", c.requested, c.chosen, got, err, want)
		}
	}
}
