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
