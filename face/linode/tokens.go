package linode

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/profiled/profiled/core"
)

type tokenJSON struct {
	ID      int64      `json:"id"`
	Label   string     `json:"label"`
	Scopes  string     `json:"scopes"`
	Created linodeTime `json:"created"`
	Expiry  string     `json:"expiry"`
	Token   string     `json:"token"`
}

// toToken shows a token as lists and reads do: its first 16 characters.
func toToken(t core.Token) tokenJSON {
	exp := neverExpires
	if t.Expiry != nil {
		exp = t.Expiry.UTC().Format(timeLayout)
	}
	return tokenJSON{ID: t.ID, Label: t.Label, Scopes: string(t.Scopes), Created: linodeTime(t.Created),
		Expiry: exp, Token: t.Prefix}
}

// tokenCreateJSON is the POST body; expiry null or absent means "until revoked".
type tokenCreateJSON struct {
	Label  string  `json:"label"`
	Scopes *string `json:"scopes"`
	Expiry *string `json:"expiry"`
}

// parseTime accepts the Linode layout (what linodego sends) and RFC 3339.
func parseTime(field, s string) (time.Time, error) {
	for _, layout := range []string{timeLayout, "2006-01-02T15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, core.Invalid(field, "%s must be a date-time like 2030-01-02T15:04:05 (UTC)", field)
}

func (s *server) listTokens(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	q, err := listQuery(r, core.TokenFields)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.Tokens(r.Context(), a, q)
	return toPage(p, toToken), err
}

func (s *server) getToken(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "tokenId")
	if err != nil {
		return nil, err
	}
	t, err := s.svc.Token(r.Context(), a, id)
	return toToken(t), err
}

func (s *server) postToken(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	var in tokenCreateJSON
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	tc := core.TokenCreate{Label: in.Label, Scopes: in.Scopes}
	if in.Expiry != nil {
		t, err := parseTime("expiry", *in.Expiry)
		if err != nil {
			return nil, err
		}
		tc.Expiry = &t
	}
	t, raw, err := s.svc.CreateToken(r.Context(), a, tc)
	out := toToken(t)
	out.Token = raw // the full token, this once
	return out, err
}

// tokenUpdateJSON is the PUT body: the token schema, of which only label can change.
type tokenUpdateJSON struct {
	Label   *string         `json:"label"`
	ID      *int64          `json:"id"`
	Scopes  *string         `json:"scopes"`
	Created *string         `json:"created"`
	Expiry  json.RawMessage `json:"expiry"`
	Token   *string         `json:"token"`
}

func (s *server) putToken(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "tokenId")
	if err != nil {
		return nil, err
	}
	var in tokenUpdateJSON
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.Label == nil {
		return nil, core.Invalid("label", "label is required: only the label of a token can change")
	}
	t, err := s.svc.RenameToken(r.Context(), a, id, *in.Label)
	return toToken(t), err
}

func (s *server) deleteToken(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "tokenId")
	if err != nil {
		return nil, err
	}
	return empty, s.svc.RevokeToken(r.Context(), a, id)
}
