package linode

import (
	"log/slog"
	"net/http"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/reqlog"
)

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

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) string { return httpx.Bearer(r) }
