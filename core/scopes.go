package core

import (
	"sort"
	"strings"
)

// Scopes is a token's OAuth scope string in canonical form: "*" for
// everything, or space-separated scopes, sorted and without duplicates:
// "<category>:read_only|read_write" entries of the Linode API, one per
// category, the preferences scopes of the PACE User API
// ("user:preferences:read", "user:preferences:write:<clientId>", ...),
// and OpenID Connect's identity scopes ("openid", "profile", "email"),
// which open no API: they release the user's identity to an application
// (idtoken.go).
type Scopes string

// AllScopes grants read/write on every category and every preferences
// namespace.
const AllScopes Scopes = "*"

// Access levels of a scope.
const (
	ReadOnly  = "read_only"
	ReadWrite = "read_write"
)

// ScopeCategories are the OAuth scope categories of the Linode API (the
// union of every category the v4.208.1 spec's operations require, plus the
// OAuth reference's databases). /profile itself uses only "account".
var ScopeCategories = map[string]bool{
	"account": true, "child_account": true, "databases": true, "domains": true,
	"events": true, "firewall": true, "images": true, "ips": true, "linodes": true,
	"lke": true, "longview": true, "monitor": true, "nodebalancers": true,
	"object_storage": true, "placement": true, "stackscripts": true,
	"volumes": true, "vpc": true,
}

// Operations of the preferences scopes. They are independent grants:
// write does not imply read.
const (
	PreferencesRead  = "read"
	PreferencesWrite = "write"
)

// preferencesScope begins every preferences scope.
const preferencesScope = "user:preferences:"

// OpenID Connect's identity scopes (OpenID Connect Core 1.0, 3.1.2.1,
// 5.4 and 11): openid asks for an ID token naming the user, profile and
// email for the claims of those names, and offline_access for access that
// outlasts the sign-in session (App.SessionBound).
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
)

// isIdentityScope reports whether f is one of the scopes of OpenID
// Connect profiled knows. A switch, not a map: parseGrant reads every
// scope of a token at every request.
func isIdentityScope(f string) bool {
	switch f {
	case ScopeOpenID, ScopeProfile, ScopeEmail, ScopeOfflineAccess:
		return true
	}
	return false
}

// grant is one entry of a scope string. parseGrant and String are the one
// place the scope grammar is written down; ParseScopes, Allows,
// AllowsPreferences, Within and Bind all read scopes through them.
//
// A Linode grant has a category and a level. A preferences grant has an
// operation (PreferencesRead or PreferencesWrite) and a client: "" for the
// namespace of the token's own client ("user:preferences:read"), else the
// id of the client whose namespace it opens ("user:preferences:read:xyz",
// where xyz may be PersonalNamespace). An identity grant has only its
// name (identity), one isIdentityScope accepts.
type grant struct {
	category, level string
	prefs, client   string
	identity        string
}

// parseGrant parses one space-free entry; ok is false if it is not a scope.
func parseGrant(f string) (g grant, ok bool) {
	if isIdentityScope(f) {
		return grant{identity: f}, true
	}
	if rest, found := strings.CutPrefix(f, preferencesScope); found {
		op, client, qualified := strings.Cut(rest, ":")
		if op != PreferencesRead && op != PreferencesWrite {
			return grant{}, false
		}
		if qualified && !ValidClientID(client) && client != PersonalNamespace {
			return grant{}, false
		}
		return grant{prefs: op, client: client}, true
	}
	cat, lvl, found := strings.Cut(f, ":")
	if !found || !ScopeCategories[cat] || (lvl != ReadOnly && lvl != ReadWrite) {
		return grant{}, false
	}
	return grant{category: cat, level: lvl}, true
}

func (g grant) String() string {
	if g.identity != "" {
		return g.identity
	}
	if g.prefs == "" {
		return g.category + ":" + g.level
	}
	if g.client == "" {
		return preferencesScope + g.prefs
	}
	return preferencesScope + g.prefs + ":" + g.client
}

// AnyLinode reports whether s grants anything of the Linode API: "*", or
// a scope of one of its categories (not only preferences scopes). It reads
// s without allocating: GET /profile asks it on every request.
func (s Scopes) AnyLinode() bool {
	if s == AllScopes {
		return true
	}
	for f := range strings.FieldsSeq(string(s)) {
		if g, ok := parseGrant(f); ok && g.category != "" {
			return true
		}
	}
	return false
}

// grants parses every entry of s, skipping what is not a scope.
func (s Scopes) grants() []grant {
	var out []grant
	for f := range strings.FieldsSeq(string(s)) {
		if g, ok := parseGrant(f); ok {
			out = append(out, g)
		}
	}
	return out
}

// ParseScopes validates s and returns its canonical form. An empty string
// or "*" is AllScopes; duplicate Linode categories collapse to the highest
// level, and repeated preferences and identity scopes to one.
func ParseScopes(s string) (Scopes, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "*" {
		return AllScopes, nil
	}
	levels := map[string]string{}
	others := map[grant]bool{} // preferences and identity scopes
	all := false
	for _, f := range strings.Fields(s) {
		if f == "*" {
			all = true
			continue
		}
		g, ok := parseGrant(f)
		if !ok {
			return "", Invalid("scopes", "%q is not a valid scope: use \"*\", or space-separated <category>:read_only|read_write, user:preferences:read|write, user:preferences:read|write:<clientId>, openid, profile or email", f)
		}
		if g.category == "" {
			others[g] = true
		} else if levels[g.category] != ReadWrite {
			levels[g.category] = g.level
		}
	}
	if all {
		return AllScopes, nil
	}
	out := make([]string, 0, len(levels)+len(others))
	for cat, lvl := range levels {
		out = append(out, grant{category: cat, level: lvl}.String())
	}
	for g := range others {
		out = append(out, g.String())
	}
	sort.Strings(out)
	return Scopes(strings.Join(out, " ")), nil
}

// level returns the access level s grants on category: "", read_only or read_write.
func (s Scopes) level(category string) string {
	if s == AllScopes {
		return ReadWrite
	}
	best := ""
	for _, g := range s.grants() {
		if g.category != category {
			continue
		}
		if g.level == ReadWrite {
			return ReadWrite
		}
		best = ReadOnly
	}
	return best
}

// Allows reports whether s grants level (read_only or read_write) on category.
// read_write implies read_only.
func (s Scopes) Allows(category, level string) bool {
	have := s.level(category)
	return have == ReadWrite || (have == ReadOnly && level == ReadOnly)
}

// AllowsPreferences reports whether s holds the preferences scope for op
// (PreferencesRead or PreferencesWrite) on client: "" asks for the
// unqualified scope (the token's own namespace), a client id for the
// scope qualified with it. "*" holds them all. Which namespace is the
// token's own is the caller's business (Service.ClientPreferences).
func (s Scopes) AllowsPreferences(op, client string) bool {
	if s == AllScopes {
		return true
	}
	for _, g := range s.grants() {
		if g.prefs == op && g.client == client {
			return true
		}
	}
	return false
}

// Within reports whether every grant of s is also granted by parent, so that
// a token never creates a token stronger than itself. An unqualified
// preferences scope is only within an unqualified one: what it opens
// depends on the token that holds it (see Bind).
func (s Scopes) Within(parent Scopes) bool {
	if parent == AllScopes {
		return true
	}
	if s == AllScopes {
		return false
	}
	for f := range strings.FieldsSeq(string(s)) {
		g, ok := parseGrant(f)
		if !ok {
			return false
		}
		switch {
		case g.identity != "":
			if !parent.AllowsIdentity(g.identity) {
				return false
			}
		case g.prefs != "":
			if !parent.AllowsPreferences(g.prefs, g.client) {
				return false
			}
		case !parent.Allows(g.category, g.level):
			return false
		}
	}
	return true
}

// AllowsIdentity reports whether s holds the identity scope name
// (ScopeOpenID, ScopeProfile or ScopeEmail); "*" holds them all.
func (s Scopes) AllowsIdentity(name string) bool {
	if s == AllScopes {
		return true
	}
	for f := range strings.FieldsSeq(string(s)) {
		if f == name && isIdentityScope(f) {
			return true
		}
	}
	return false
}

// Bind returns s with every unqualified preferences scope qualified by
// client, in canonical form: what s opens when a token of that client holds
// it, written so that it means the same in any other token. A token of
// client x that creates a personal token passes on "user:preferences:read:x",
// never "user:preferences:read", which would open the personal namespace
// instead. "*" stays "*".
func (s Scopes) Bind(client string) Scopes {
	if s == AllScopes || client == "" {
		return s
	}
	var out []string
	changed := false
	for _, g := range s.grants() {
		if g.prefs != "" && g.client == "" {
			g.client, changed = client, true
		}
		out = append(out, g.String())
	}
	if !changed {
		return s
	}
	bound, err := ParseScopes(strings.Join(out, " "))
	if err != nil { // client is not a valid client id: nothing can hold it
		return s.withoutUnqualifiedPreferences()
	}
	return bound
}

// withoutUnqualifiedPreferences drops the unqualified preferences scopes.
func (s Scopes) withoutUnqualifiedPreferences() Scopes {
	var out []string
	for _, g := range s.grants() {
		if g.prefs == "" || g.client != "" {
			out = append(out, g.String())
		}
	}
	return Scopes(strings.Join(out, " "))
}

// Scope names a required category and level, e.g. "account:read_only".
func Scope(category, level string) string { return category + ":" + level }

// PreferencesScope names the preferences scope for op on client ("" for
// the token's own namespace), e.g. "user:preferences:read:xyz".
func PreferencesScope(op, client string) string {
	return grant{prefs: op, client: client}.String()
}

// SortedScopeCategories is ScopeCategories in order, for listings.
func SortedScopeCategories() []string {
	out := make([]string, 0, len(ScopeCategories))
	for c := range ScopeCategories {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}
