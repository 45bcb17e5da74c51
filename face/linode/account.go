package linode

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
)

// This file serves the account around /profile (docs/accounts.md): the
// account's users and their grants, its logins, its OAuth clients, the
// Account and AccountSettings objects, and an empty notifications list.

type lastLoginJSON struct {
	LoginDatetime linodeTime `json:"login_datetime"`
	Status        string     `json:"status"`
}

// accountUserJSON is the User object of /account/users.
type accountUserJSON struct {
	Username            string         `json:"username"`
	Email               string         `json:"email"`
	Restricted          bool           `json:"restricted"`
	TFAEnabled          bool           `json:"tfa_enabled"`
	SSHKeys             []string       `json:"ssh_keys"`
	LastLogin           *lastLoginJSON `json:"last_login"`
	PasswordCreated     *linodeTime    `json:"password_created"`
	VerifiedPhoneNumber *string        `json:"verified_phone_number"`
	UserType            string         `json:"user_type"`
}

func toAccountUser(u core.AccountUser) accountUserJSON {
	out := accountUserJSON{Username: u.User.Username, Email: u.User.Email, Restricted: u.User.Restricted,
		TFAEnabled: u.User.TwoFactorAuth, SSHKeys: u.Summary.SSHKeyLabels, PasswordCreated: timePtr(u.Summary.PasswordCreated),
		UserType: "default"}
	if out.SSHKeys == nil {
		out.SSHKeys = []string{}
	}
	if l := u.Summary.LastLogin; l != nil {
		out.LastLogin = &lastLoginJSON{LoginDatetime: linodeTime(l.Datetime), Status: l.Status}
	}
	if p := u.User.VerifiedPhoneNumber; p != "" {
		out.VerifiedPhoneNumber = &p
	}
	return out
}

// accountUserInput is the body of POST and PUT /account/users: the User
// object, of which username, email and restricted may be set. The
// read-only fields clients send back with the object are ignored.
type accountUserInput struct {
	Username            *string         `json:"username"`
	Email               *string         `json:"email"`
	Restricted          *bool           `json:"restricted"`
	TFAEnabled          json.RawMessage `json:"tfa_enabled"`
	SSHKeys             json.RawMessage `json:"ssh_keys"`
	LastLogin           json.RawMessage `json:"last_login"`
	PasswordCreated     json.RawMessage `json:"password_created"`
	VerifiedPhoneNumber json.RawMessage `json:"verified_phone_number"`
	UserType            json.RawMessage `json:"user_type"`
}

func (s *server) listAccountUsers(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	q, err := listQuery(r, core.AccountUserFields)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.AccountUsers(r.Context(), a, q)
	return toPage(p, toAccountUser), err
}

func (s *server) getAccountUser(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	u, err := s.svc.AccountUser(r.Context(), a, r.PathValue("username"))
	return toAccountUser(u), err
}

func (s *server) postAccountUser(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	var in accountUserInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.Username == nil {
		return nil, core.Invalid("username", "username is required")
	}
	if in.Email == nil {
		return nil, core.Invalid("email", "email is required")
	}
	u, err := s.svc.CreateAccountUser(r.Context(), a, core.UserCreate{Username: *in.Username, Email: *in.Email,
		Restricted: in.Restricted != nil && *in.Restricted})
	if core.KindOf(err) == core.KindConflict {
		// The Linode API answers a taken username 400, naming the field.
		err = core.Invalid("username", "%s", core.AsError(err).Reason)
	}
	return toAccountUser(u), err
}

func (s *server) putAccountUser(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	var in accountUserInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	u, err := s.svc.UpdateAccountUser(r.Context(), a, r.PathValue("username"),
		core.AccountUserUpdate{Username: in.Username, Email: in.Email, Restricted: in.Restricted})
	return toAccountUser(u), err
}

func (s *server) deleteAccountUser(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	return empty, s.svc.DeleteAccountUser(r.Context(), a, r.PathValue("username"))
}

func (s *server) getAccountUserGrants(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	g, err := s.svc.AccountUserGrants(r.Context(), a, r.PathValue("username"))
	if err != nil {
		return nil, err
	}
	if g == nil {
		return noContent{}, nil // unrestricted: every grant, as /profile/grants answers
	}
	return g, nil
}

func (s *server) putAccountUserGrants(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	if err := httpx.RequireJSON(r); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, httpx.JSONError(err)
	}
	return s.svc.SetAccountUserGrants(r.Context(), a, r.PathValue("username"), body)
}

func (s *server) listAccountLogins(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	q, err := listQuery(r, core.LoginFields)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.AccountLogins(r.Context(), a, q)
	return toPage(p, toLogin), err
}

func (s *server) getAccountLogin(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "loginId")
	if err != nil {
		return nil, err
	}
	l, err := s.svc.AccountLogin(r.Context(), a, id)
	return toLogin(l), err
}

// oauthClientJSON is the OAuthClient object; the secret is shown at
// creation and reset only.
type oauthClientJSON struct {
	ID           string  `json:"id"`
	Label        string  `json:"label"`
	RedirectURI  string  `json:"redirect_uri"`
	Secret       string  `json:"secret"`
	Public       bool    `json:"public"`
	Status       string  `json:"status"`
	ThumbnailURL *string `json:"thumbnail_url"`
}

const redacted = "<REDACTED>"

func (s *server) toOAuthClient(r *http.Request, c core.OAuthClient, secret string) oauthClientJSON {
	out := oauthClientJSON{ID: c.ID, Label: c.Label, Secret: secret, Public: c.Public, Status: c.Status}
	if len(c.RedirectURIs) > 0 {
		out.RedirectURI = c.RedirectURIs[0]
	}
	if out.Secret == "" {
		out.Secret = redacted
	}
	if c.HasThumbnail {
		u := origin(r) + "/" + apiVersion(r) + "/account/oauth-clients/" + c.ID + "/thumbnail"
		out.ThumbnailURL = &u
	}
	return out
}

// origin is the scheme and host the request reached profiled at, as the
// client (or the proxy in front, with X-Forwarded-Proto) sees it.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// apiVersion is the version prefix of the request's path (v4, v4beta).
func apiVersion(r *http.Request) string {
	v, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return v
}

// oauthClientInput is the body of POST and PUT /account/oauth-clients.
type oauthClientInput struct {
	Label        *string         `json:"label"`
	RedirectURI  *string         `json:"redirect_uri"`
	Public       *bool           `json:"public"`
	ID           json.RawMessage `json:"id"`
	Secret       json.RawMessage `json:"secret"`
	Status       json.RawMessage `json:"status"`
	ThumbnailURL json.RawMessage `json:"thumbnail_url"`
}

func (in oauthClientInput) core() core.AccountClientInput {
	return core.AccountClientInput{Label: in.Label, RedirectURI: in.RedirectURI, Public: in.Public}
}

func (s *server) listOAuthClients(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	q, err := listQuery(r, core.OAuthClientFields)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.AccountOAuthClients(r.Context(), a, q)
	return toPage(p, func(c core.OAuthClient) oauthClientJSON { return s.toOAuthClient(r, c, "") }), err
}

func (s *server) getOAuthClient(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	c, err := s.svc.AccountOAuthClient(r.Context(), a, r.PathValue("clientId"))
	return s.toOAuthClient(r, c, ""), err
}

func (s *server) postOAuthClient(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	var in oauthClientInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	c, secret, err := s.svc.CreateAccountOAuthClient(r.Context(), a, in.core())
	return s.toOAuthClient(r, c, secret), err
}

func (s *server) putOAuthClient(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	var in oauthClientInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	c, err := s.svc.UpdateAccountOAuthClient(r.Context(), a, r.PathValue("clientId"), in.core())
	return s.toOAuthClient(r, c, ""), err
}

func (s *server) deleteOAuthClient(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	return empty, s.svc.DeleteAccountOAuthClient(r.Context(), a, r.PathValue("clientId"))
}

func (s *server) resetOAuthClientSecret(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	c, secret, err := s.svc.ResetAccountOAuthClientSecret(r.Context(), a, r.PathValue("clientId"))
	return s.toOAuthClient(r, c, secret), err
}

func (s *server) getOAuthClientThumbnail(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	png, err := s.svc.AccountOAuthClientThumbnail(r.Context(), a, r.PathValue("clientId"))
	return rawBody{contentType: "image/png", body: png}, err
}

// putOAuthClientThumbnail takes the PNG as the body (Content-Type
// image/png), as the Linode API does.
func (s *server) putOAuthClientThumbnail(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "image/png") {
		return nil, &core.Error{Kind: core.KindInvalid, Field: "file", Reason: "send the thumbnail as the body, with Content-Type: image/png"}
	}
	png, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, httpx.JSONError(err)
	}
	return empty, s.svc.SetAccountOAuthClientThumbnail(r.Context(), a, r.PathValue("clientId"), png)
}

// accountJSON is the Account object: the contact fields the owner sets,
// and the billing fields profiled does not manage as a new account shows
// them.
type accountJSON struct {
	core.AccountContact
	EUUID             string         `json:"euuid"`
	ActiveSince       linodeTime     `json:"active_since"`
	Balance           float64        `json:"balance"`
	BalanceUninvoiced float64        `json:"balance_uninvoiced"`
	BillingSource     string         `json:"billing_source"`
	Capabilities      []string       `json:"capabilities"`
	CreditCard        creditCardJSON `json:"credit_card"`
	ActivePromotions  []struct{}     `json:"active_promotions"`
}

type creditCardJSON struct {
	Expiry   *string `json:"expiry"`
	LastFour *string `json:"last_four"`
}

// capabilities are what the account may use, as the Linode API lists them
// for a new account: profiled serves none of these products, the platform
// around it does.
var capabilities = []string{"Linodes", "NodeBalancers", "Block Storage", "Object Storage", "Kubernetes",
	"Cloud Firewall", "Managed Databases", "Vlans", "VPCs", "Machine Images", "Placement Group"}

func toAccount(acc core.Account) accountJSON {
	return accountJSON{AccountContact: acc.Contact, EUUID: acc.EUUID, ActiveSince: linodeTime(acc.Created),
		BillingSource: "linode", Capabilities: capabilities, ActivePromotions: []struct{}{}}
}

func (s *server) getAccount(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	acc, err := s.svc.Account(r.Context(), a)
	return toAccount(acc), err
}

func (s *server) putAccount(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	var in map[string]json.RawMessage
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	contact := map[string]*string{}
	for name, raw := range in {
		// The Account object's other fields (euuid, balance, capabilities,
		// ...), which clients send back, and fields it does not have are
		// ignored, as decode ignores them.
		if !core.IsContactField(name) {
			continue
		}
		var v *string
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, core.Invalid(name, "%s must be a string", name)
		}
		contact[name] = v
	}
	acc, err := s.svc.UpdateAccount(r.Context(), a, core.AccountUpdate{Contact: contact})
	return toAccount(acc), err
}

// accountSettingsJSON is the AccountSettings object.
type accountSettingsJSON struct {
	BackupsEnabled          bool    `json:"backups_enabled"`
	Managed                 bool    `json:"managed"`
	NetworkHelper           bool    `json:"network_helper"`
	LongviewSubscription    *string `json:"longview_subscription"`
	ObjectStorage           string  `json:"object_storage"`
	InterfacesForNewLinodes string  `json:"interfaces_for_new_linodes"`
	MaintenancePolicy       string  `json:"maintenance_policy"`
}

func toSettings(st core.AccountSettings) accountSettingsJSON {
	out := accountSettingsJSON{BackupsEnabled: st.BackupsEnabled, NetworkHelper: st.NetworkHelper, ObjectStorage: "disabled",
		InterfacesForNewLinodes: st.InterfacesForNewLinodes, MaintenancePolicy: st.MaintenancePolicy}
	if out.InterfacesForNewLinodes == "" {
		out.InterfacesForNewLinodes = "legacy_config_only"
	}
	if out.MaintenancePolicy == "" {
		out.MaintenancePolicy = "linode/migrate"
	}
	return out
}

// accountSettingsInput is the body of PUT /account/settings; the fields
// that cannot change here are accepted and ignored.
type accountSettingsInput struct {
	BackupsEnabled          *bool           `json:"backups_enabled"`
	NetworkHelper           *bool           `json:"network_helper"`
	InterfacesForNewLinodes *string         `json:"interfaces_for_new_linodes"`
	MaintenancePolicy       *string         `json:"maintenance_policy"`
	Managed                 json.RawMessage `json:"managed"`
	LongviewSubscription    json.RawMessage `json:"longview_subscription"`
	ObjectStorage           json.RawMessage `json:"object_storage"`
}

func (s *server) getAccountSettings(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	acc, err := s.svc.Account(r.Context(), a)
	return toSettings(acc.Settings), err
}

func (s *server) putAccountSettings(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	var in accountSettingsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	acc, err := s.svc.UpdateAccount(r.Context(), a, core.AccountUpdate{Settings: &core.AccountSettingsUpdate{
		BackupsEnabled: in.BackupsEnabled, NetworkHelper: in.NetworkHelper,
		InterfacesForNewLinodes: in.InterfacesForNewLinodes, MaintenancePolicy: in.MaintenancePolicy}})
	return toSettings(acc.Settings), err
}

// longviewPlanInput is the body of PUT /longview/plan.
type longviewPlanInput struct {
	LongviewSubscription *string `json:"longview_subscription"`
}

// getLongviewPlan answers the free plan, the only one profiled has, which
// the Linode API shows as an empty object.
func (s *server) getLongviewPlan(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	return struct{}{}, s.svc.LongviewPlan(r.Context(), a)
}

func (s *server) putLongviewPlan(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	var in longviewPlanInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	plan := ""
	if in.LongviewSubscription != nil {
		plan = *in.LongviewSubscription
	}
	return struct{}{}, s.svc.SetLongviewPlan(r.Context(), a, plan)
}

// listNotifications answers what profiled never has: no notifications.
func (s *server) listNotifications(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	if _, err := s.svc.Account(r.Context(), a); err != nil {
		return nil, err
	}
	return emptyPage, nil
}

// listMaintenance answers what profiled never schedules: no maintenance of
// the account's Linodes (Cloud Manager asks at every load). Any token may
// ask, as on the Linode API.
func (s *server) listMaintenance(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	return emptyPage, nil
}

// emptyPage is a list of nothing.
var emptyPage = pageJSON[struct{}]{Data: []struct{}{}, Page: 1, Pages: 1}

// eventEntityJSON is what an event is about.
type eventEntityJSON struct {
	ID    int64  `json:"id"`
	Label string `json:"label"`
	Type  string `json:"type"`
	URL   string `json:"url"`
}

// eventJSON is the Event object; the events profiled keeps are
// notifications, complete when they are made.
type eventJSON struct {
	ID              int64            `json:"id"`
	Action          string           `json:"action"`
	Created         linodeTime       `json:"created"`
	Duration        *float64         `json:"duration"`
	Entity          eventEntityJSON  `json:"entity"`
	SecondaryEntity *eventEntityJSON `json:"secondary_entity"`
	Message         *string          `json:"message"`
	PercentComplete *int             `json:"percent_complete"`
	Rate            *string          `json:"rate"`
	Read            bool             `json:"read"`
	Seen            bool             `json:"seen"`
	Status          string           `json:"status"`
	TimeRemaining   *string          `json:"time_remaining"`
	Username        string           `json:"username"`
}

// eventURLs are the API paths of the entities events are about.
var eventURLs = map[string]string{"token": "/v4/profile/tokens", "profile": "/v4/profile", "user": "/v4/account/users/",
	"user_ssh_key": "/v4/profile/sshkeys", "oauth_client": "/v4/account/oauth-clients"}

func toEvent(e core.AccountEvent) eventJSON {
	url := eventURLs[e.EntityType]
	if e.EntityType == "user" {
		url += e.EntityLabel
	}
	return eventJSON{ID: e.ID, Action: e.Action, Created: linodeTime(e.Created),
		Entity: eventEntityJSON{ID: e.EntityID, Label: e.EntityLabel, Type: e.EntityType, URL: url},
		Read:   e.Read, Seen: e.Seen, Status: "notification", Username: e.Username}
}

func (s *server) listEvents(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	q, err := listQuery(r, core.AccountEventFields)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.AccountEvents(r.Context(), a, q)
	return toPage(p, toEvent), err
}

func (s *server) getEvent(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "eventId")
	if err != nil {
		return nil, err
	}
	e, err := s.svc.AccountEvent(r.Context(), a, id)
	return toEvent(e), err
}

func (s *server) markEventSeen(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "eventId")
	if err != nil {
		return nil, err
	}
	return empty, s.svc.MarkEventsSeen(r.Context(), a, id)
}

func (s *server) markEventRead(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "eventId")
	if err != nil {
		return nil, err
	}
	return empty, s.svc.MarkEventRead(r.Context(), a, id)
}
