package auth

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/reqlog"
)

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
func decode(r *http.Request, v any) error { return httpx.DecodeObject(r, v, httpx.JSONError) }
