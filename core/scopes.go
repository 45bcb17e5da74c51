package core

import (
	"sort"
	"strings"
)

// Scopes is a token's OAuth scope string in canonical form: "*" for
// everything, or space-separated "<category>:read_only|read_write" entries,
// sorted, one per category.
type Scopes string

// AllScopes grants read/write on every category.
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

// ParseScopes validates s and returns its canonical form. An empty string
// or "*" is AllScopes; duplicates collapse to the highest level.
func ParseScopes(s string) (Scopes, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "*" {
		return AllScopes, nil
	}
	levels := map[string]string{}
	all := false
	for _, f := range strings.Fields(s) {
		if f == "*" {
			all = true
			continue
		}
		cat, lvl, ok := strings.Cut(f, ":")
		if !ok || !ScopeCategories[cat] || (lvl != ReadOnly && lvl != ReadWrite) {
			return "", Invalid("scopes", "%q is not a valid scope: use \"*\" or space-separated <category>:read_only|read_write", f)
		}
		if levels[cat] != ReadWrite {
			levels[cat] = lvl
		}
	}
	if all {
		return AllScopes, nil
	}
	out := make([]string, 0, len(levels))
	for cat, lvl := range levels {
		out = append(out, cat+":"+lvl)
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
	for f := range strings.FieldsSeq(string(s)) {
		cat, lvl, _ := strings.Cut(f, ":")
		if cat != category {
			continue
		}
		if lvl == ReadWrite {
			return ReadWrite
		}
		if lvl == ReadOnly {
			best = ReadOnly
		}
	}
	return best
}

// Allows reports whether s grants level (read_only or read_write) on category.
// read_write implies read_only.
func (s Scopes) Allows(category, level string) bool {
	have := s.level(category)
	return have == ReadWrite || (have == ReadOnly && level == ReadOnly)
}

// Within reports whether every grant of s is also granted by parent, so that
// a token never creates a token stronger than itself.
func (s Scopes) Within(parent Scopes) bool {
	if parent == AllScopes {
		return true
	}
	if s == AllScopes {
		return false
	}
	for f := range strings.FieldsSeq(string(s)) {
		cat, lvl, _ := strings.Cut(f, ":")
		if !parent.Allows(cat, lvl) {
			return false
		}
	}
	return true
}

// Scope names a required category and level, e.g. "account:read_only".
func Scope(category, level string) string { return category + ":" + level }
