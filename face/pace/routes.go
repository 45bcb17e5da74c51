// Package pace serves the per-client app preferences of the PACE User API,
// GET and PUT /user/{version}/preferences/{clientId}, over the core: one
// JSON object per user and client, with the API's limits (10 keys, keys of
// at most 128 bytes, values of at most 10 MiB of JSON) and JSON:API error
// documents. The namespaces are the ones /v4/profile/preferences uses; the
// namespace of personal tokens is named core.PersonalNamespace ("personal").
package pace

import (
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/reqlog"
)

// Versions are the published versions of the API, the {version} of every
// path; any other is a 404.
var Versions = []string{"2024-2", "2024-3", "2024-4", "2025-1"}

// Options configure the face.
type Options struct {
	Logger *slog.Logger
	// Budget bounds the bytes that large bodies and values hold at once
	// in the process (nil: no bound). serve shares one among the faces.
	Budget *httpx.ByteBudget
	// CORSOrigins, when set, are the only origins that may read answers
	// (each named exactly, with credentials); unset, any origin ("*").
	CORSOrigins []string
}

// route is one operation. The scope it needs depends on the client named in
// the path, so the core, not the route, checks it.
type route struct {
	method, path string
	handle       handlerFunc
}

// routes lists every operation of the face, so the API reads in one place.
func (s *server) routes() []route {
	return []route{
		{"GET", "/user/{version}/preferences/{clientId}", s.getPreferences},
		{"PUT", "/user/{version}/preferences/{clientId}", s.putPreferences},
	}
}

// New returns the handler of the face. Mount it at /user/: it answers
// every path under it, what is not an operation with a JSON:API 404 (or 405).
func New(svc *core.Service, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &server{svc: svc, log: opts.Logger, budget: opts.Budget}
	table := []httpx.Route{{Method: "GET", Path: OpenAPIPath, Handler: http.HandlerFunc(serveOpenAPI)}}
	for _, rt := range s.routes() {
		table = append(table, httpx.Route{Method: rt.method, Path: rt.path, Handler: s.endpoint(rt)})
	}
	return cors.WithOrigins(opts.CORSOrigins).Wrap(httpx.Mux(httpx.Table{Routes: table,
		NotAllowed: func(w http.ResponseWriter, r *http.Request) {
			s.fail(w, r, &core.Error{Kind: core.KindInvalid, Code: codeMethodNotAllowed,
				Reason: "This path accepts " + w.Header().Get("Allow")})
		},
		NotFound: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.fail(w, r, &core.Error{Kind: core.KindNotFound, Reason: "There is no such resource: see the API's paths"})
		}),
	}))
}

// cors lets browser apps on other origins call the API with a bearer token.
var cors = httpx.CORS{
	AllowOrigin:   "*",
	AllowHeaders:  "Authorization, Content-Type, Accept",
	AllowMethods:  "GET, HEAD, PUT, OPTIONS",
	ExposeHeaders: "X-Request-Id, WWW-Authenticate",
}

// server holds what the face's routes share.
type server struct {
	svc    *core.Service
	log    *slog.Logger
	budget *httpx.ByteBudget
}

// handlerFunc is an operation's handler, called with the authenticated actor.
type handlerFunc func(w http.ResponseWriter, r *http.Request, a core.Actor)

// endpoint checks the version, authenticates the bearer token and sets
// the headers every response carries, then calls the operation.
func (s *server) endpoint(rt route) http.Handler {
	pattern := rt.method + " " + rt.path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqlog.SetRoute(r.Context(), pattern)
		h := w.Header()
		h.Set("Vary", "Authorization")
		h.Set("Cache-Control", "private, max-age=0, no-store")
		if v := r.PathValue("version"); !slices.Contains(Versions, v) {
			s.fail(w, r, &core.Error{Kind: core.KindNotFound, Field: "version", Code: codeUnknownVersion,
				Reason: "There is no version " + strconv.Quote(v) + " of this API: use one of " + strings.Join(Versions, ", ")})
			return
		}
		a, err := s.svc.Authenticate(r.Context(), httpx.Bearer(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		reqlog.SetUser(r.Context(), a.User.ID)
		rt.handle(w, r, a)
	})
}

// jsonBody refuses a request body that is not JSON, by its Content-Type.
func jsonBody(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return &core.Error{Kind: core.KindInvalid, Code: codeUnsupportedMediaType,
		Reason: "Send the preferences as a JSON object with Content-Type: application/json"}
}

// writeObject sends a stored JSON object, as it is.
func writeObject(w http.ResponseWriter, v []byte) {
	httpx.Write(w, http.StatusOK, "application/json", v)
}
