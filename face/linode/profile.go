package linode

import (
	"encoding/json"
	"net/http"

	"github.com/profiled/profiled/core"
)

type referralsJSON struct {
	Code      string  `json:"code"`
	URL       string  `json:"url"`
	Total     int     `json:"total"`
	Completed int     `json:"completed"`
	Pending   int     `json:"pending"`
	Credit    float64 `json:"credit"`
}

type profileJSON struct {
	UID                 int64         `json:"uid"`
	Username            string        `json:"username"`
	Email               string        `json:"email"`
	Timezone            string        `json:"timezone"`
	EmailNotifications  bool          `json:"email_notifications"`
	Referrals           referralsJSON `json:"referrals"`
	IPWhitelistEnabled  bool          `json:"ip_whitelist_enabled"`
	LishAuthMethod      string        `json:"lish_auth_method"`
	AuthorizedKeys      []string      `json:"authorized_keys"`
	TwoFactorAuth       bool          `json:"two_factor_auth"`
	Restricted          bool          `json:"restricted"`
	AuthenticationType  string        `json:"authentication_type"`
	VerifiedPhoneNumber *string       `json:"verified_phone_number"`
	// UserType is not in the OpenAPI description but the real API sends it (WIRE-FACTS.md).
	UserType string `json:"user_type"`
}

func toProfile(u core.User) profileJSON {
	r := core.ReferralsOf(u)
	p := profileJSON{
		UID: u.ID, Username: u.Username, Email: u.Email, Timezone: u.Timezone,
		EmailNotifications: u.EmailNotifications,
		Referrals:          referralsJSON{Code: r.Code, URL: r.URL, Total: r.Total, Completed: r.Completed, Pending: r.Pending, Credit: r.Credit},
		IPWhitelistEnabled: u.IPWhitelistEnabled, LishAuthMethod: u.LishAuthMethod,
		AuthorizedKeys: u.AuthorizedKeys, TwoFactorAuth: u.TwoFactorAuth, Restricted: u.Restricted,
		AuthenticationType: u.AuthenticationType, UserType: "default",
	}
	// No keys is null, as in every recording of the real API.
	if len(p.AuthorizedKeys) == 0 {
		p.AuthorizedKeys = nil
	}
	if u.VerifiedPhoneNumber != "" {
		p.VerifiedPhoneNumber = &u.VerifiedPhoneNumber
	}
	return p
}

// profileUpdateJSON is the PUT body: the whole Profile schema, every field optional.
type profileUpdateJSON struct {
	Email               *string         `json:"email"`
	Timezone            *string         `json:"timezone"`
	EmailNotifications  *bool           `json:"email_notifications"`
	LishAuthMethod      *string         `json:"lish_auth_method"`
	AuthorizedKeys      json.RawMessage `json:"authorized_keys"` // null clears; absent keeps
	IPWhitelistEnabled  *bool           `json:"ip_whitelist_enabled"`
	UID                 *int64          `json:"uid"`
	Username            *string         `json:"username"`
	Restricted          *bool           `json:"restricted"`
	TwoFactorAuth       *bool           `json:"two_factor_auth"`
	AuthenticationType  *string         `json:"authentication_type"`
	VerifiedPhoneNumber json.RawMessage `json:"verified_phone_number"`
	UserType            *string         `json:"user_type"`
	Referrals           *referralsJSON  `json:"referrals"`
}

// getProfile answers with the actor's user as Authenticate read it
// (core.Actor.Profile says why).
func (s *server) getProfile(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	u, err := a.Profile()
	return toProfile(u), err
}

func (s *server) putProfile(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	var in profileUpdateJSON
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	up := core.ProfileUpdate{
		Email: in.Email, Timezone: in.Timezone, EmailNotifications: in.EmailNotifications,
		LishAuthMethod: in.LishAuthMethod, IPWhitelistEnabled: in.IPWhitelistEnabled,
		UID: in.UID, Username: in.Username, Restricted: in.Restricted, TwoFactorAuth: in.TwoFactorAuth,
		AuthenticationType: in.AuthenticationType, UserType: in.UserType,
	}
	if in.AuthorizedKeys != nil {
		var keys []string
		if err := json.Unmarshal(in.AuthorizedKeys, &keys); err != nil {
			return nil, core.Invalid("authorized_keys", "authorized_keys must be an array of SSH public keys or null")
		}
		up.AuthorizedKeys = &keys
	}
	if in.VerifiedPhoneNumber != nil {
		var phone *string
		if err := json.Unmarshal(in.VerifiedPhoneNumber, &phone); err != nil {
			return nil, core.Invalid("verified_phone_number", "verified_phone_number must be a string or null")
		}
		v := ""
		if phone != nil {
			v = *phone
		}
		up.VerifiedPhoneNumber = &v
	}
	if in.Referrals != nil {
		rf := in.Referrals
		up.Referrals = &core.Referrals{Code: rf.Code, URL: rf.URL, Total: rf.Total, Completed: rf.Completed, Pending: rf.Pending, Credit: rf.Credit}
	}
	u, err := s.svc.UpdateProfile(r.Context(), a, up)
	return toProfile(u), err
}

func (s *server) getGrants(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	g, err := s.svc.Grants(r.Context(), a)
	if err != nil {
		return nil, err
	}
	if g == nil {
		// Unrestricted users have access to everything: 204, no body.
		return noContent{}, nil
	}
	return g, nil
}
