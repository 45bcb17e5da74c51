// Package linode serves the Linode API v4 /profile and the /account
// around it (users, grants, logins, OAuth clients) over the core, wire
// compatible with the official clients (linodego): the same paths under /v4
// and /v4beta, the same JSON shapes, times, list envelope, X-Filter and
// error envelope.
package linode

import (
	"log/slog"
	"net/http"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/reqlog"
)

// Options configure the face.
type Options struct {
	Logger       *slog.Logger
	MaxBodyBytes int64 // default 1 MiB
	// CORSOrigins, when set, are the only origins that may read answers
	// (each named exactly, with credentials); unset, any origin ("*").
	CORSOrigins []string
}

// DefaultMaxBodyBytes bounds request bodies.
const DefaultMaxBodyBytes = 1 << 20

// Scopes the /profile operations accept (X-Accepted-OAuth-Scopes).
const (
	anyToken = ""
	read     = "account:read_only"
	write    = "account:read_write"
	// eventsRead is the one scope of the Events API, its marks included.
	eventsRead = "events:read_only"
	// longviewRead and longviewWrite are the Longview plan's.
	longviewRead  = "longview:read_only"
	longviewWrite = "longview:read_write"
)

// route is one operation: the scope it needs is enforced by the core and
// announced here in X-Accepted-OAuth-Scopes.
type route struct {
	method, path string
	scope        string
	handle       handlerFunc
}

// routes lists every operation of the face, so the API reads in one place.
func (s *server) routes() []route {
	return []route{
		{"GET", "/account", read, s.getAccount},
		{"PUT", "/account", write, s.putAccount},
		{"GET", "/account/events", eventsRead, s.listEvents},
		{"GET", "/account/events/{eventId}", eventsRead, s.getEvent},
		{"POST", "/account/events/{eventId}/read", eventsRead, s.markEventRead},
		{"POST", "/account/events/{eventId}/seen", eventsRead, s.markEventSeen},
		{"GET", "/account/logins", read, s.listAccountLogins},
		{"GET", "/account/logins/{loginId}", read, s.getAccountLogin},
		{"GET", "/account/maintenance", anyToken, s.listMaintenance},
		{"GET", "/account/notifications", read, s.listNotifications},
		{"GET", "/account/oauth-clients", read, s.listOAuthClients},
		{"POST", "/account/oauth-clients", write, s.postOAuthClient},
		{"GET", "/account/oauth-clients/{clientId}", read, s.getOAuthClient},
		{"PUT", "/account/oauth-clients/{clientId}", write, s.putOAuthClient},
		{"DELETE", "/account/oauth-clients/{clientId}", write, s.deleteOAuthClient},
		{"POST", "/account/oauth-clients/{clientId}/reset-secret", write, s.resetOAuthClientSecret},
		// linode_api4 (the Python SDK) posts to reset_secret, and the
		// real API answers it: its integration tests reset a secret so.
		{"POST", "/account/oauth-clients/{clientId}/reset_secret", write, s.resetOAuthClientSecret},
		{"GET", "/account/oauth-clients/{clientId}/thumbnail", read, s.getOAuthClientThumbnail},
		{"PUT", "/account/oauth-clients/{clientId}/thumbnail", write, s.putOAuthClientThumbnail},
		{"GET", "/account/settings", read, s.getAccountSettings},
		{"PUT", "/account/settings", write, s.putAccountSettings},
		{"GET", "/account/users", read, s.listAccountUsers},
		{"POST", "/account/users", write, s.postAccountUser},
		{"GET", "/account/users/{username}", read, s.getAccountUser},
		{"PUT", "/account/users/{username}", write, s.putAccountUser},
		{"DELETE", "/account/users/{username}", write, s.deleteAccountUser},
		{"GET", "/account/users/{username}/grants", read, s.getAccountUserGrants},
		{"PUT", "/account/users/{username}/grants", write, s.putAccountUserGrants},
		{"GET", "/longview/plan", longviewRead, s.getLongviewPlan},
		{"PUT", "/longview/plan", longviewWrite, s.putLongviewPlan},

		{"GET", "/profile", anyToken, s.getProfile},
		{"PUT", "/profile", write, s.putProfile},

		{"GET", "/profile/apps", read, s.listApps},
		{"GET", "/profile/apps/{appId}", read, s.getApp},
		{"DELETE", "/profile/apps/{appId}", write, s.deleteApp},

		{"GET", "/profile/devices", read, s.listDevices},
		{"GET", "/profile/devices/{deviceId}", read, s.getDevice},
		{"DELETE", "/profile/devices/{deviceId}", write, s.deleteDevice},

		{"GET", "/profile/grants", anyToken, s.getGrants},

		{"GET", "/profile/logins", read, s.listLogins},
		{"GET", "/profile/logins/{loginId}", read, s.getLogin},

		{"POST", "/profile/phone-number", write, s.postPhone},
		{"DELETE", "/profile/phone-number", write, s.deletePhone},
		{"POST", "/profile/phone-number/verify", write, s.verifyPhone},

		{"GET", "/profile/preferences", read, s.getPreferences},
		{"PUT", "/profile/preferences", write, s.putPreferences},

		{"GET", "/profile/security-questions", read, s.getQuestions},
		{"POST", "/profile/security-questions", write, s.postQuestions},

		{"GET", "/profile/sshkeys", read, s.listSSHKeys},
		{"POST", "/profile/sshkeys", write, s.postSSHKey},
		{"GET", "/profile/sshkeys/{sshKeyId}", read, s.getSSHKey},
		{"PUT", "/profile/sshkeys/{sshKeyId}", write, s.putSSHKey},
		{"DELETE", "/profile/sshkeys/{sshKeyId}", write, s.deleteSSHKey},

		{"POST", "/profile/tfa-disable", write, s.tfaDisable},
		{"POST", "/profile/tfa-enable", write, s.tfaEnable},
		{"POST", "/profile/tfa-enable-confirm", write, s.tfaConfirm},

		{"GET", "/profile/tokens", read, s.listTokens},
		{"POST", "/profile/tokens", write, s.postToken},
		{"GET", "/profile/tokens/{tokenId}", read, s.getToken},
		{"PUT", "/profile/tokens/{tokenId}", write, s.putToken},
		{"DELETE", "/profile/tokens/{tokenId}", write, s.deleteToken},
	}
}

// apiVersions are the path prefixes the face answers under.
var apiVersions = []string{"v4", "v4beta"}

// New returns the handler of the Linode face. It answers every path: what
// is not a /profile operation is a 404 (or 405) in the Linode envelope.
func New(svc *core.Service, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s := &server{svc: svc, log: opts.Logger, maxBody: opts.MaxBodyBytes, failer: failer{log: opts.Logger}}
	var table []httpx.Route
	for _, v := range apiVersions {
		for _, rt := range s.routes() {
			table = append(table, httpx.Route{Method: rt.method, Path: "/" + v + rt.path, Handler: s.endpoint(rt)})
		}
		// The Terraform provider checks its connection with GET
		// /linode/types?page=100 at start-up and stops unless that is a
		// 200 list (WIRE-FACTS.md). profiled serves no compute catalogue:
		// an empty list, to any caller, token or not.
		table = append(table, httpx.Route{Method: "GET", Path: "/" + v + "/linode/types", Handler: http.HandlerFunc(emptyCatalogue)})
		table = append(table, httpx.Route{Method: "GET", Path: "/" + v + "/openapi.json", Handler: http.HandlerFunc(serveOpenAPI)})
	}
	return cors.WithOrigins(opts.CORSOrigins).Wrap(httpx.Mux(httpx.Table{Routes: table,
		NotAllowed: func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusMethodNotAllowed, "", "Method not allowed; this path accepts "+w.Header().Get("Allow"))
		},
		NotFound: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "", "Not found")
		}),
	}))
}

// emptyCatalogue answers a list of what profiled does not serve: no rows.
func emptyCatalogue(w http.ResponseWriter, r *http.Request) {
	reqlog.SetRoute(r.Context(), "GET /linode/types")
	writeJSON(w, http.StatusOK, emptyPage)
}

// cors is the policy the real API answers with, so browser consoles work,
// on every answer of the face (WIRE-FACTS.md), less its
// Access-Control-Allow-Credentials: true, which browsers refuse beside
// "*"; Options.CORSOrigins names exact origins instead, with credentials.
var cors = httpx.CORS{
	AllowOrigin:   "*",
	AllowHeaders:  "Authorization, Origin, X-Requested-With, Content-Type, Accept, X-Filter",
	AllowMethods:  "HEAD, GET, OPTIONS, POST, PUT, DELETE",
	ExposeHeaders: "X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Status, X-Request-Id",
	MaxAge:        600,
}

// header and headerValues are httpx's fixed headers, under short names.
var header = httpx.Header

type headerValues = httpx.FixedHeaders

// server holds what the face's routes share.
type server struct {
	svc     *core.Service
	log     *slog.Logger
	maxBody int64
	failer
}

// handlerFunc is an operation's handler, called with the authenticated
// actor. It returns what to answer, 200 with it as JSON, or the error to
// answer in the Linode envelope; w is for the headers of an answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error)

// noContent is what a handler returns for a 204 without a body.
type noContent struct{}

// rawBody is what a handler returns for a 200 that is not JSON (an image).
type rawBody struct {
	contentType string
	body        []byte
}

// endpoint authenticates the bearer token, bounds the body and sets the
// headers every response carries, then calls the operation.
func (s *server) endpoint(rt route) http.Handler {
	pattern := rt.method + " " + rt.path
	fixed := headerValues{
		header("Vary", "Authorization, X-Filter"),
		header("Cache-Control", "private, max-age=0, no-store")}
	if rt.scope != anyToken {
		fixed = append(fixed, header("X-Accepted-OAuth-Scopes", rt.scope))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqlog.SetRoute(r.Context(), pattern)
		h := w.Header()
		fixed.SetOn(h)
		a, err := s.svc.Authenticate(r.Context(), bearer(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		reqlog.SetUser(r.Context(), a.User.ID)
		h[oauthScopesKey] = []string{string(a.Token.Scopes)}
		if r.Body != http.NoBody { // nothing to bound, and one allocation less per GET
			r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		}
		v, err := rt.handle(w, r, a)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		switch v := v.(type) {
		case noContent:
			w.WriteHeader(http.StatusNoContent)
		case rawBody:
			httpx.Write(w, http.StatusOK, v.contentType, v.body)
		default:
			writeJSON(w, http.StatusOK, v)
		}
	})
}

var oauthScopesKey = http.CanonicalHeaderKey("X-OAuth-Scopes")

// bearer returns the token of an "Authorization: Bearer <token>" header,
// or of "Authorization: token <token>", the scheme of the API's first
// days, which linode_api4 (the Python SDK under Ansible's linode.cloud)
// still sends to read and set an OAuth client's thumbnail.
func bearer(r *http.Request) string { return httpx.Credential(r, "bearer", "token") }
