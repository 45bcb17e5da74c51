package iam

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/reqlog"
)

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
