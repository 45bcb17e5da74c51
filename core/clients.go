package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// PersonalNamespace is the public name of the preferences namespace that
// personal access tokens (and sign-in sessions) share, the one stored under
// the client id "". Faces that name namespaces by client id, such as
// /user/{version}/preferences/{clientId}, use it for that namespace, and
// scopes name it too ("user:preferences:read:personal"). No OAuth client
// may be registered under this id.
const PersonalNamespace = "personal"

// maxClientIDLength bounds a client id, in bytes.
const maxClientIDLength = 128

// ValidClientID reports whether id can name an OAuth client: 1 to 128
// characters out of A-Z, a-z, 0-9, '.', '_', '~' and '-' (RFC 3986's
// unreserved characters), so that it stands unescaped in a URL path and in
// a scope ("user:preferences:read:<clientId>"). PersonalNamespace is valid
// here, but reserved (see NewStaticClients).
func ValidClientID(id string) bool {
	if len(id) == 0 || len(id) > maxClientIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == '~', c == '-':
		default:
			return false
		}
	}
	return true
}

// ClientDirectory tells the core which OAuth clients exist, so that a
// request for the preferences of an unknown client is a NotFound rather
// than an empty namespace. The namespace of the token's own client and
// PersonalNamespace always exist; the directory is asked about others.
type ClientDirectory interface {
	// ClientExists reports whether clientID names a known client. An error
	// is a failure to find out (the request fails with an internal error),
	// not an unknown client.
	ClientExists(ctx context.Context, clientID string) (bool, error)
}

// StaticClients is a fixed set of client ids, from configuration (serve's
// --preferences-client flag).
type StaticClients struct{ ids []string }

// NewStaticClients checks every id with ValidClientID, refuses
// PersonalNamespace (it is always there, and reserved) and drops repeats.
func NewStaticClients(ids ...string) (*StaticClients, error) {
	c := &StaticClients{}
	for _, id := range ids {
		if !ValidClientID(id) {
			return nil, fmt.Errorf("client id %q: use 1 to %d characters out of A-Z a-z 0-9 . _ ~ -", id, maxClientIDLength)
		}
		if id == PersonalNamespace {
			return nil, fmt.Errorf("client id %q is reserved for the namespace of personal tokens", id)
		}
		if !slices.Contains(c.ids, id) {
			c.ids = append(c.ids, id)
		}
	}
	slices.Sort(c.ids)
	return c, nil
}

// ClientExists implements ClientDirectory.
func (c *StaticClients) ClientExists(_ context.Context, clientID string) (bool, error) {
	_, found := slices.BinarySearch(c.ids, clientID)
	return found, nil
}

// IDs returns the ids, sorted.
func (c *StaticClients) IDs() []string { return slices.Clone(c.ids) }

// ClientDirectories composes directories: a client exists if any of them
// knows it. They are asked in order; the first error stops the search.
type ClientDirectories []ClientDirectory

// ClientExists implements ClientDirectory.
func (ds ClientDirectories) ClientExists(ctx context.Context, clientID string) (bool, error) {
	for _, d := range ds {
		if d == nil {
			continue
		}
		ok, err := d.ClientExists(ctx, clientID)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// RegisteredClients is the ClientDirectory of the OAuth clients registered
// in the store (CreateOAuthClient, "profiled oauth-clients create").
type RegisteredClients struct{ Store Reader }

// ClientExists implements ClientDirectory.
func (r RegisteredClients) ClientExists(ctx context.Context, clientID string) (bool, error) {
	_, err := r.Store.OAuthClient(ctx, clientID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
