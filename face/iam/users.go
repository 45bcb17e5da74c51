package iam

import (
	"net/http"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
)

// userJSON is the User model: a person.
type userJSON struct {
	Kind               string  `json:"kind"` // "human"
	ID                 int64   `json:"id"`
	Username           string  `json:"username"`
	Email              string  `json:"email"`
	EmailVerified      bool    `json:"email_verified"`
	FirstName          string  `json:"first_name"`
	LastName           string  `json:"last_name"`
	Timezone           string  `json:"timezone"`
	Locale             string  `json:"locale"`
	AvatarURL          *string `json:"avatar_url"`
	AuthenticationType string  `json:"authentication_type"`
	TwoFactorAuth      bool    `json:"two_factor_auth"`
	Restricted         bool    `json:"restricted"`
	Created            apiTime `json:"created"`
}

// serviceAccountJSON is the ServiceAccount model: a machine identity.
type serviceAccountJSON struct {
	Kind        string  `json:"kind"` // "service"
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Owner       *int64  `json:"owner"` // the creating person's user id; null if none or deleted
	Created     apiTime `json:"created"`
}

// avatarURL is where the user's picture is: the uploaded avatar, else the
// picture the identity provider reported, else none.
func (s *server) avatarURL(p core.IAMProfile) *string {
	var u string
	switch {
	case p.AvatarID != "":
		u = s.publicURL + Prefix + "/avatars/" + p.AvatarID + ".png"
	case p.PictureURL != "":
		u = p.PictureURL
	default:
		return nil
	}
	return &u
}

func (s *server) toUser(m core.Me) userJSON {
	u, p := m.User, m.Profile
	return userJSON{Kind: string(core.UserHuman), ID: u.ID, Username: u.Username, Email: u.Email,
		EmailVerified: p.EmailVerified, FirstName: p.FirstName, LastName: p.LastName, Timezone: u.Timezone,
		Locale: p.Config.Locale, AvatarURL: s.avatarURL(p), AuthenticationType: u.AuthenticationType,
		TwoFactorAuth: u.TwoFactorAuth, Restricted: u.Restricted, Created: apiTime(u.Created)}
}

// toMe is the ResponseGetMyUser model: a User or a ServiceAccount.
func (s *server) toMe(m core.Me) any {
	if m.Human() {
		return s.toUser(m)
	}
	out := serviceAccountJSON{Kind: string(core.UserService), ID: m.User.ID, Name: m.Profile.Name,
		Description: m.Profile.Description, Created: apiTime(m.User.Created)}
	if m.Profile.OwnerID != 0 {
		out.Owner = &m.Profile.OwnerID
	}
	return out
}

func (s *server) getMe(r *http.Request, a core.Actor) (answer, error) {
	m, err := s.svc.Me(r.Context(), a)
	return ok(s.toMe(m)), err
}

// patchMe applies a PartialUpdateUser: only the fields present change.
func (s *server) patchMe(r *http.Request, a core.Actor) (answer, error) {
	o, err := readObject(r)
	if err != nil {
		return answer{}, err
	}
	in := core.MeUpdate{
		FirstName: o.optString("first_name"), LastName: o.optString("last_name"), Email: o.optString("email"),
		Timezone: o.optString("timezone"), Locale: o.optString("locale"),
	}
	if err := o.done(); err != nil {
		return answer{}, err
	}
	m, err := s.svc.UpdateMe(r.Context(), a, in)
	return ok(s.toUser(m)), err
}

// deleteMe answers 410 Gone with no body, as the API describes it.
func (s *server) deleteMe(r *http.Request, a core.Actor) (answer, error) {
	return answer{status: http.StatusGone}, s.svc.DeleteMe(r.Context(), a)
}

// maxPasswordBytes bounds each password of a ChangePassword.
const maxPasswordBytes = 1024

// changePassword checks the ChangePassword shape and hands it to the core.
// A password the core refuses (the current one is wrong, the new one
// breaks the policy) is a 400, as the API describes it, not a 422.
func (s *server) changePassword(r *http.Request, a core.Actor) (answer, error) {
	o, err := readObject(r)
	if err != nil {
		return answer{}, err
	}
	current := o.requiredString("current_password", maxPasswordBytes)
	next := o.requiredString("new_password", maxPasswordBytes)
	if err := o.done(); err != nil {
		return answer{}, err
	}
	err = s.svc.ChangePassword(r.Context(), a, current, next)
	if e := core.AsError(err); e != nil && e.Kind == core.KindInvalid {
		return answer{}, detailError(http.StatusBadRequest, e.Error())
	}
	return accepted("Password changed"), err
}

func (s *server) syncFromAuth(r *http.Request, a core.Actor) (answer, error) {
	_, _ = drain(r)
	return accepted("User synchronized from the identity provider"), s.svc.SyncFromAuth(r.Context(), a, httpx.Bearer(r))
}
