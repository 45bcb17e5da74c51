package pace

import (
	"net/http"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
)

// getPreferences answers the stored object of the client's namespace, or {}.
func (s *server) getPreferences(w http.ResponseWriter, r *http.Request, a core.Actor) {
	v, err := s.svc.ClientPreferences(r.Context(), a, r.PathValue("clientId"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.SetETag(w, core.PreferencesTag(v))
	writeObject(w, v)
}

// putPreferences replaces the object and answers it as stored. The core
// reads the body and refuses it at the first byte that breaks a limit.
func (s *server) putPreferences(w http.ResponseWriter, r *http.Request, a core.Actor) {
	if err := jsonBody(r); err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.svc.PutClientPreferences(r.Context(), a, r.PathValue("clientId"), r.Body, r.ContentLength, httpx.IfMatch(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.SetETag(w, core.PreferencesTag(v))
	writeObject(w, v)
}
