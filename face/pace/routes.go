// Package pace serves the per-client app preferences of the PACE User API,
// GET and PUT /user/{version}/preferences/{clientId}, over the core: one
// JSON object per user and client, with the API's limits (10 keys, keys of
// at most 128 bytes, values of at most 10 MiB of JSON) and JSON:API error
// documents. The namespaces are the ones /v4/profile/preferences uses; the
// namespace of personal tokens is named core.PersonalNamespace ("personal").
package pace

import (
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
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
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range s.routes() {
		mux.Handle(rt.method+" "+rt.path, s.endpoint(rt))
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	for path, methods := range allowed {
		if slices.Contains(methods, "GET") {
			methods = append(methods, "HEAD")
		}
		sort.Strings(methods)
		allow := strings.Join(append(methods, "OPTIONS"), ", ")
		mux.Handle(path, s.otherMethod(path, allow))
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &core.Error{Kind: core.KindNotFound, Reason: "There is no such resource: see the API's paths"})
	}))
	return cors.Wrap(mux)
}

// otherMethod answers a method the path has no operation for: the CORS
// preflight (OPTIONS), or 405.
func (s *server) otherMethod(path, allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s.fail(w, r, &core.Error{Kind: core.KindInvalid, Code: codeMethodNotAllowed,
			Reason: "This path accepts " + allow})
	})
}

// cors lets browser apps on other origins call the API with a bearer token.
var cors = httpx.CORS{
	AllowOrigin:   "*",
	AllowHeaders:  "Authorization, Content-Type, Accept",
	AllowMethods:  "GET, HEAD, PUT, OPTIONS",
	ExposeHeaders: "X-Request-Id, WWW-Authenticate",
}
