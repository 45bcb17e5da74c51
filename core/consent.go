package core

import (
	"context"
	"slices"
	"strings"
)

// The consent page of an authorization request shows each scope the
// application asked for, and lets the user lower it or leave it out.
// ConsentScopes lists those lines and GrantConsent reads the user's
// choices back; both read the request through the scope grammar
// (parseGrant), so a face never splits a scope itself.

// Choices for a preferences scope on the consent page ("" leaves it out).
const (
	// ConsentAllow grants the preferences scope as the line names it. On a
	// line of a "*" request, that is the application's own namespace.
	ConsentAllow = "allow"
	// ConsentEvery grants the operation on every preferences namespace,
	// as "*" does. Only a "*" request offers it, and only "*" can hold it:
	// it is granted only together with every other line at its highest.
	ConsentEvery = "every"
)

// ConsentScope is one line of a consent page.
type ConsentScope struct {
	// Key names the line in the consent form: the category of a Linode
	// scope ("account"), or a preferences scope as written
	// ("user:preferences:read", "user:preferences:write:xyz").
	Key string
	// Category and Level are the Linode category and the level asked for.
	Category, Level string
	// Op (PreferencesRead or PreferencesWrite) and Client are those of a
	// preferences scope: Client "" is the application's own namespace,
	// else the client id (or PersonalNamespace) of the namespace asked for.
	Op, Client string
	// Every marks the preferences lines of a "*" request, which stand for
	// every namespace.
	Every bool
	// Identity is the name of an identity scope (ScopeOpenID, ...).
	Identity string
}

// Choices returns what the user may choose on the line, the level asked for
// first; leaving the line out ("") is always a choice too.
func (c ConsentScope) Choices() []string {
	switch {
	case c.Category != "" && c.Level == ReadWrite:
		return []string{ReadWrite, ReadOnly}
	case c.Category != "":
		return []string{ReadOnly}
	case c.Every:
		return []string{ConsentEvery, ConsentAllow}
	}
	return []string{ConsentAllow}
}

// ConsentScopes returns the lines of a consent page for requested: a line
// a Linode category, a line a preferences scope and a line an identity
// scope. "*" is every category
// at read_write and two lines, read and write, for every preferences
// namespace.
func ConsentScopes(requested Scopes) []ConsentScope {
	var out []ConsentScope
	if requested == AllScopes {
		cats := make([]string, 0, len(ScopeCategories))
		for c := range ScopeCategories {
			cats = append(cats, c)
		}
		slices.Sort(cats)
		for _, c := range cats {
			out = append(out, ConsentScope{Key: c, Category: c, Level: ReadWrite})
		}
		for _, op := range []string{PreferencesRead, PreferencesWrite} {
			out = append(out, ConsentScope{Key: PreferencesScope(op, ""), Op: op, Every: true})
		}
		return out
	}
	for _, g := range requested.grants() {
		switch {
		case g.identity != "":
			out = append(out, ConsentScope{Key: g.identity, Identity: g.identity})
		case g.prefs == "":
			out = append(out, ConsentScope{Key: g.category, Category: g.category, Level: g.level})
		default:
			out = append(out, ConsentScope{Key: g.String(), Op: g.prefs, Client: g.client})
		}
	}
	return out
}

// GrantConsent reads the scopes a user granted on the consent page of
// requested: choice returns what the user chose on the line with a key
// (one of its Choices, or "" to leave it out). At least one scope must be
// granted. The result is "*" only when requested is "*" and every line was
// left at its highest; the preferences of every namespace come with "*"
// alone, so choosing ConsentEvery while lowering another line is refused.
func GrantConsent(requested Scopes, choice func(key string) string) (Scopes, error) {
	var granted []string
	full, every := true, false
	for _, c := range ConsentScopes(requested) {
		v := choice(c.Key)
		choices := c.Choices()
		switch {
		case v == "":
			full = false
			continue
		case !slices.Contains(choices, v):
			return "", Invalid("scopes", "%s may be %s or nothing", c.Key, strings.Join(choices, " or "))
		}
		full = full && v == choices[0]
		switch {
		case c.Category != "":
			granted = append(granted, Scope(c.Category, v))
		case v == ConsentEvery:
			every = true
		case c.Identity != "":
			granted = append(granted, c.Identity)
		default:
			granted = append(granted, PreferencesScope(c.Op, c.Client))
		}
	}
	if requested == AllScopes && full {
		return AllScopes, nil
	}
	if every {
		return "", Invalid("scopes", "the preferences of every application come only with every other permission at its highest: grant this application's own preferences instead, or nothing")
	}
	if len(granted) == 0 {
		return "", Invalid("scopes", "grant at least one scope, or deny the request")
	}
	g, err := ParseScopes(strings.Join(granted, " "))
	if err != nil {
		return "", err
	}
	if !g.Within(requested) {
		return "", Invalid("scopes", "the granted scopes may not exceed what the application asked for (%s)", requested)
	}
	return g, nil
}

// ConsentGiven reports whether az may be approved without asking the
// user: its client is the platform's own (FirstParty: the console, which
// a sign-in trusts anyway), or the user already granted it at least az's
// scopes through an authorization still live (redeemed, not revoked or
// expired). A user who narrowed the scopes on the consent page has not
// granted the wider ones. OpenID Connect's prompt=none relies on it
// (Core 3.1.2.1); prompt=consent asks all the same.
func (s *Service) ConsentGiven(ctx context.Context, a Actor, az Authorization) (bool, error) {
	if az.Client.FirstParty {
		return true, nil
	}
	q := s.activeOnly(ListQuery{Page: 1, PageSize: MaxPageSize})
	for {
		apps, n, err := s.store.ListApps(ctx, a.User.ID, q)
		if err != nil {
			return false, notFound(err, "list apps")
		}
		for _, app := range apps {
			if app.ClientID == az.Client.ID && az.Scopes.Within(app.Scopes) {
				return true, nil
			}
		}
		if q.Offset()+len(apps) >= n || len(apps) == 0 {
			return false, nil
		}
		q.Page++
	}
}
