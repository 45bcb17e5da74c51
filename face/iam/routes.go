// Package iam serves an IAM service's "my user" API, /iam/v1/users/me/...,
// over the core: the same users, tokens and store as the Linode face. It
// speaks FastAPI's dialect: JSON bodies, trailing slashes exactly as the
// API lists them, and errors as {"detail": ...}, a list of
// {"loc", "msg", "type"} for a 422. Its OpenAPI 3.1 description is served
// at /iam/v1/openapi.json.
//
// Callers authenticate with one of profiled's tokens in X-API-Key or as an
// Authorization bearer token, or, when an external OpenID Connect provider
// is configured, with that provider's JWT access token as the bearer
// token. Reads need account:read_only, writes account:read_write.
package iam

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/reqlog"
)

// Prefix is where the face answers; cmd/profiled mounts it there.
const Prefix = "/iam/v1"

// Options configure the face.
type Options struct {
	Logger *slog.Logger
	// MaxBodyBytes bounds JSON request bodies; default 1 MiB. Avatar
	// uploads have their own bound, core.MaxAvatarBytes plus the multipart
	// framing.
	MaxBodyBytes int64
	// PublicURL is the scheme and host clients reach profiled at, such as
	// https://id.example.com; avatar_url is an absolute URL under it. Empty:
	// avatar_url is a path (/iam/v1/avatars/<id>.png).
	PublicURL string
	// CORSOrigins, when set, are the only origins that may read answers
	// (each named exactly, with credentials); unset, any origin ("*").
	CORSOrigins []string
}

// DefaultMaxBodyBytes bounds JSON request bodies.
const DefaultMaxBodyBytes = 1 << 20

// maxAvatarRequest bounds an avatar upload's whole body: the file, and the
// multipart boundaries and part headers around it.
const maxAvatarRequest = core.MaxAvatarBytes + 64<<10

// Scopes the operations need, enforced by the core and documented in the
// OpenAPI description (x-required-scope).
const (
	read  = "account:read_only"
	write = "account:read_write"
)

// route is one authenticated operation.
type route struct {
	method, path string // path below Prefix, as the API writes it
	scope        string
	handle       handlerFunc
}

// routes lists every operation of the face, so the API reads in one place.
func (s *server) routes() []route {
	return []route{
		{"GET", "/users/me/", read, s.getMe},
		{"PATCH", "/users/me/", write, s.patchMe},
		{"DELETE", "/users/me/", write, s.deleteMe},
		{"POST", "/users/me/password/", write, s.changePassword},
		{"POST", "/users/me/avatar/", write, s.postAvatar},
		{"DELETE", "/users/me/avatar/", write, s.deleteAvatar},
		{"GET", "/users/me/config/", read, s.getConfig},
		{"PUT", "/users/me/config/", write, s.putConfig},
		{"GET", "/users/me/notification-preferences/", read, s.getNotifications},
		{"PUT", "/users/me/notification-preferences/", write, s.putNotifications},
		{"POST", "/users/me/sync-from-auth/", write, s.syncFromAuth},
	}
}

// publicRoutes need no credentials.
func (s *server) publicRoutes() []struct {
	method, path string
	h            http.HandlerFunc
} {
	return []struct {
		method, path string
		h            http.HandlerFunc
	}{
		{"GET", "/openapi.json", httpx.Document(openAPIDoc)},
		{"GET", "/avatars/{file}", s.getAvatar},
	}
}

// pattern is the ServeMux pattern of a path below Prefix: a trailing
// slash matches itself only ("{$}"), not the subtree.
func pattern(path string) string {
	if strings.HasSuffix(path, "/") {
		return Prefix + path + "{$}"
	}
	return Prefix + path
}

// New returns the handler of the face. Mount it at Prefix + "/": it
// answers every path below, what is not an operation with a 404 (or a
// 405) in its own format.
func New(svc *core.Service, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s := &server{svc: svc, log: opts.Logger, maxBody: opts.MaxBodyBytes,
		publicURL: strings.TrimRight(opts.PublicURL, "/")}
	var table []httpx.Route
	var paths []string
	for _, rt := range s.routes() {
		table = append(table, httpx.Route{Method: rt.method, Path: pattern(rt.path), Handler: s.endpoint(rt)})
		paths = append(paths, rt.path)
	}
	for _, rt := range s.publicRoutes() {
		table = append(table, httpx.Route{Method: rt.method, Path: pattern(rt.path), Handler: s.public(rt.method+" "+pattern(rt.path), rt.h)})
		paths = append(paths, rt.path)
	}
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeDetail(w, http.StatusNotFound, "Not Found")
	})
	mux := httpx.Mux(httpx.Table{Routes: table, NotFound: notFound,
		NotAllowed: func(w http.ResponseWriter, r *http.Request) {
			writeDetail(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		}})
	// Paths end with a slash exactly where the API writes one: without it,
	// a 404 (ServeMux would otherwise redirect with a 301, which clients
	// follow with a GET whatever the method was).
	slices.Sort(paths)
	for _, path := range slices.Compact(paths) {
		if bare, ok := strings.CutSuffix(path, "/"); ok {
			mux.Handle(Prefix+bare, notFound)
		}
	}
	return cors.WithOrigins(opts.CORSOrigins).Wrap(mux)
}

// cors lets browser consoles on other origins call the API with a key
// or a bearer token (not with cookies: there are none).
var cors = httpx.CORS{
	AllowOrigin:   "*",
	AllowHeaders:  "Authorization, X-API-Key, Content-Type, Accept, If-None-Match",
	AllowMethods:  "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
	ExposeHeaders: "X-Request-Id, ETag, WWW-Authenticate",
	MaxAge:        600,
}

// server holds what the face's routes share.
type server struct {
	svc       *core.Service
	log       *slog.Logger
	maxBody   int64
	publicURL string
}

// handlerFunc is an operation's handler, called with the authenticated actor.
// It returns what to answer, or the error that answers instead.
type handlerFunc func(r *http.Request, a core.Actor) (answer, error)

// endpoint authenticates the caller, bounds the body and sets the headers
// every response carries, then calls the operation.
func (s *server) endpoint(rt route) http.Handler {
	pat := rt.method + " " + pattern(rt.path)
	limit := s.maxBody
	if rt.path == "/users/me/avatar/" {
		limit = maxAvatarRequest
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqlog.SetRoute(r.Context(), pat)
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Vary", "Authorization, X-API-Key")
		h.Set("X-Content-Type-Options", "nosniff")
		a, err := s.authenticate(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		reqlog.SetUser(r.Context(), a.User.ID)
		if r.Body != http.NoBody { // nothing to bound, and one allocation less per GET
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		ans, err := rt.handle(r, a)
		switch {
		case err != nil:
			s.fail(w, r, err)
		case ans.body == nil:
			h.Set("Content-Length", "0")
			w.WriteHeader(ans.status)
		default:
			writeJSON(w, ans.status, ans.body)
		}
	})
}

// public wraps an operation that needs no credentials.
func (s *server) public(pat string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqlog.SetRoute(r.Context(), pat)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h(w, r)
	})
}

// errNoCredentials is the answer to a request that sends neither header.
var errNoCredentials = &core.Error{Kind: core.KindUnauthorized, Reason: "Not authenticated"}

// authenticate resolves the X-API-Key header, else the bearer token: one
// of profiled's tokens, or an access token of the configured identity
// provider. X-API-Key wins when both are sent.
func (s *server) authenticate(r *http.Request) (core.Actor, error) {
	if key := strings.TrimSpace(r.Header.Get("X-API-Key")); key != "" {
		return s.svc.Authenticate(r.Context(), key)
	}
	tok := httpx.Bearer(r)
	if tok == "" {
		return core.Actor{}, errNoCredentials
	}
	return s.svc.AuthenticateBearer(r.Context(), tok)
}

// answer is what an operation answers: status with body as JSON, or with
// no body when body is nil (the 410 of a deleted user).
type answer struct {
	status int
	body   any
}

func ok(body any) answer         { return answer{http.StatusOK, body} }
func accepted(msg string) answer { return answer{http.StatusAccepted, message{msg}} }

// message is the body of the operations that answer 202.
type message struct {
	Message string `json:"message"`
}
