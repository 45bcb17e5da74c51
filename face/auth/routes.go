// Package auth serves sign-in and the OAuth 2.0 authorization server over
// the core: a JSON sign-in API under /auth/, server-rendered HTML pages
// for signing in, the second factor and OAuth consent (html/template, no
// build step), and the OAuth endpoints under /oauth/.
package auth

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/reqlog"
)

// Options configure the face.
type Options struct {
	Logger       *slog.Logger
	MaxBodyBytes int64 // default 64 KiB: nothing here needs more
	// TrustProxyHeaders takes the client address from the last entry of
	// X-Forwarded-For and the scheme from X-Forwarded-Proto, for a server
	// behind a load balancer that sets them. Without it the peer address
	// is the client.
	TrustProxyHeaders bool
	// PublicURL is the scheme and host clients reach profiled at, the
	// issuer of the authorization server metadata; "" takes the request's.
	PublicURL string
	// CORSOrigins are the consoles that may call the JSON sign-in API and
	// the token endpoint from their origin, with credentials. Unset, the
	// token and revocation endpoints take any origin ("*": they read no
	// cookie) and the sign-in API none.
	CORSOrigins []string
}

// signInCORS is the sign-in API's policy for the consoles of --cors-origin.
var signInCORS = httpx.CORS{
	AllowHeaders:  "Authorization, Content-Type, Accept",
	AllowMethods:  "POST, OPTIONS",
	ExposeHeaders: "X-Request-Id, Retry-After",
	MaxAge:        600,
}

// DefaultMaxBodyBytes bounds request bodies.
const DefaultMaxBodyBytes = 64 << 10

// routes lists every endpoint of the face, so the API reads in one place.
func (s *server) routes() {
	// The JSON sign-in API. With --cors-origin, the consoles named there
	// may sign in from their own origin; without it, no other origin may.
	if len(s.opts.CORSOrigins) > 0 {
		consoles := signInCORS.WithOrigins(s.opts.CORSOrigins)
		s.handle("POST /auth/login", browserFacing(consoles, s.apiLogin))
		s.handle("OPTIONS /auth/login", browserFacing(consoles, s.apiLogin))
		s.handle("POST /auth/login/tfa", browserFacing(consoles, s.apiLoginTFA))
		s.handle("OPTIONS /auth/login/tfa", browserFacing(consoles, s.apiLoginTFA))
	} else {
		s.handle("POST /auth/login", s.apiLogin)
		s.handle("POST /auth/login/tfa", s.apiLoginTFA)
	}
	s.handle("POST /auth/recovery", s.apiRecovery)
	s.handle("POST /auth/recovery/complete", s.apiRecoveryComplete)
	s.handle("POST /auth/email/verify", s.apiVerifyEmail)
	s.handle("POST /auth/signup", s.apiSignUp)
	s.handle("POST /auth/logout", s.bearer(s.apiLogout))
	s.handle("GET /auth/tfa/scratch-codes", s.bearer(s.apiScratchCodesLeft))
	s.handle("POST /auth/tfa/scratch-codes", s.bearer(s.apiRegenerateScratchCodes))

	// The HTML pages, their forms protected against cross-site requests.
	s.handle("GET /auth/signin", s.signInPage)
	s.handle("POST /auth/signin", s.form(s.signInSubmit))
	s.handle("POST /auth/signin/tfa", s.form(s.signInTFASubmit))
	s.handle("GET /auth/signin/confirm", s.confirmPage)
	s.handle("POST /auth/signin/confirm", s.form(s.confirmSubmit))
	s.handle("POST /auth/signout", s.form(s.signOutSubmit))
	s.handle("GET /auth/recover", s.offered(s.recoverPage))
	s.handle("POST /auth/recover", s.offered(s.form(s.recoverSubmit)))
	s.handle("GET /auth/recover/complete", s.offered(s.recoverCompletePage))
	s.handle("POST /auth/recover/complete", s.offered(s.form(s.recoverCompleteSubmit)))
	s.handle("GET /auth/email/verify", s.offered(s.verifyEmailPage))
	s.handle("GET /auth/signup", s.signUpOffered(s.signUpPage))
	s.handle("POST /auth/signup/form", s.signUpOffered(s.form(s.signUpSubmit)))
	s.handle("POST /auth/email/verify/form", s.offered(s.form(s.verifyEmailSubmit)))

	// The login server's paths that Cloud Manager links to, at the root
	// as on login.linode.com: sign-out and "forgot password".
	s.handle("GET /logout", s.logoutPage)
	s.handle("GET /forgot/password", s.forgotPasswordPage)

	// OAuth 2.0 (RFC 6749, RFC 7636, RFC 7009). Browser applications call
	// the token and revocation endpoints from their own origin.
	s.handle("GET /oauth/authorize", s.authorizePage)
	s.handle("POST /oauth/authorize", s.form(s.authorizeSubmit))
	oauth := oauthCORS.WithOrigins(s.opts.CORSOrigins)
	s.handle("POST /oauth/token", browserFacing(oauth, s.clientJSON(s.token)))
	s.handle("OPTIONS /oauth/token", browserFacing(oauth, s.clientJSON(s.token)))
	s.handle("POST /oauth/revoke", browserFacing(oauth, s.revoke))
	s.handle("OPTIONS /oauth/revoke", browserFacing(oauth, s.revoke))
	// Dynamic client registration (RFC 7591, registration.go), when the
	// operator opens it; a browser application may register itself.
	s.handle("POST /oauth/register", browserFacing(oauth, s.register))
	s.handle("OPTIONS /oauth/register", browserFacing(oauth, s.register))
	// Pushed authorization requests (RFC 9126, par.go).
	s.handle("POST /oauth/par", s.clientJSON(s.pushAuthorization))
	// The device authorization grant (RFC 8628, device.go).
	s.handle("POST /oauth/device_authorization", s.clientJSON(s.deviceAuthorization))
	s.handle("GET "+devicePath, s.devicePage)
	s.handle("POST "+devicePath, s.form(s.deviceSubmit))

	// What the rest of a platform needs to trust profiled's tokens:
	// authorization server metadata (RFC 8414), introspection for resource
	// servers (RFC 7662), and forward authentication for gateways.
	s.handle("GET /.well-known/oauth-authorization-server", browserRead(s.metadata))
	// OpenID Connect: profiled as the identity provider of other
	// applications (openid.go).
	s.handle("GET /.well-known/openid-configuration", browserRead(s.metadata))
	s.handle("GET /oauth/jwks", browserRead(s.keySet))
	s.handle("GET /oauth/userinfo", browserRead(s.userInfo))
	s.handle("POST /oauth/userinfo", browserRead(s.userInfo))
	s.handle("OPTIONS /oauth/userinfo", browserRead(s.userInfo))
	s.handle("POST /oauth/introspect", s.clientJSON(s.introspect))
	s.handle("/auth/verify", s.verify)
	// Envoy's ext_authz appends the original path to its path_prefix.
	s.handle("/auth/verify/", s.verify)
	s.handle("GET /auth/openapi.json", httpx.Document(openAPIDoc))
}

// Paths are the path prefixes and paths the face answers, for mounting.
var Paths = []string{"/auth/", "/oauth/", "/logout", "/forgot/", "/.well-known/oauth-authorization-server",
	"/.well-known/openid-configuration"}

// New returns the handler of the face. Mount it on each of Paths.
func New(svc *core.Service, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s := &server{svc: svc, log: opts.Logger, opts: opts, cop: http.NewCrossOriginProtection()}
	s.routes()
	return httpx.Mux(httpx.Table{Routes: s.table,
		NotAllowed: func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusMethodNotAllowed, "", "Method not allowed; this path accepts "+w.Header().Get("Allow"))
		},
		NotFound: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "", "Not found")
		}),
	})
}

// server holds what the face's routes share.
type server struct {
	svc  *core.Service
	log  *slog.Logger
	opts Options
	cop  *http.CrossOriginProtection
	// table is the face's routes, as routes makes them.
	table []httpx.Route
}

// handle adds h for pattern to the table, naming the route in the request
// log and bounding the body.
func (s *server) handle(pattern string, h http.HandlerFunc) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern // any method
	}
	s.table = append(s.table, httpx.Route{Method: method, Path: path, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqlog.SetRoute(r.Context(), pattern)
		w.Header().Set("Cache-Control", "no-store")
		if r.Body != http.NoBody { // nothing to bound, and one allocation less per GET
			r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		}
		h(w, r)
	})})
}

// bearer authenticates the Authorization: Bearer token of a JSON request.
func (s *server) bearer(h func(http.ResponseWriter, *http.Request, core.Actor)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := s.svc.Authenticate(r.Context(), httpx.Bearer(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		reqlog.SetUser(r.Context(), a.User.ID)
		h(w, r, a)
	}
}

// clientIP is the address limits and login records use.
func (s *server) clientIP(r *http.Request) string {
	return reqlog.ClientAddr(r, s.opts.TrustProxyHeaders)
}

// secure reports whether the client reached us over TLS, for cookies.
func (s *server) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return s.opts.TrustProxyHeaders && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// errorBody is the error envelope of the JSON sign-in API, the Linode
// face's: {"errors": [{"reason": ..., "field": ...}]}.
type errorBody struct {
	Errors []errorItem `json:"errors"`
}

type errorItem struct {
	Reason string `json:"reason"`
	Field  string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	httpx.WriteJSON(w, status, "application/json", v, `{"errors":[{"reason":"Internal server error"}]}`)
}

func writeError(w http.ResponseWriter, status int, field, reason string) {
	writeJSON(w, status, errorBody{Errors: []errorItem{{Reason: reason, Field: field}}})
}

// status maps a core error to its HTTP status, setting Retry-After.
func status(w http.ResponseWriter, e *core.Error) int {
	httpx.SetRetryAfter(w.Header(), e)
	return httpx.Status(e.Kind)
}

// internal logs err and answers 500 with the request id.
func (s *server) internal(r *http.Request, err error) string {
	id := reqlog.RequestID(r.Context())
	if httpx.ClientGone(r, err) {
		// Nobody reads the answer; nothing in the server went wrong.
		return "The request ended before its answer was ready"
	}
	s.log.ErrorContext(r.Context(), "internal error", "err", err, "request_id", id)
	return "Internal server error; the server log has the details under request id " + id
}

func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	e, gone := httpx.Failure(w, r, err)
	if gone {
		return
	}
	if e == nil {
		writeError(w, http.StatusInternalServerError, "", s.internal(r, err))
		return
	}
	writeError(w, status(w, e), e.Field, e.Reason)
}

// decode reads one JSON object into v, refusing unknown fields, trailing
// data and other content types; errors name the field.
func decode(r *http.Request, v any) error {
	return httpx.DecodeObject(r, v, httpx.RefuseUnknown, httpx.JSONError)
}
