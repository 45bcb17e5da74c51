package linode

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
)

func (s *server) getPreferences(w http.ResponseWriter, r *http.Request, a core.Actor) {
	v, err := s.svc.Preferences(r.Context(), a)
	if err == nil {
		httpx.SetETag(w, core.PreferencesTag(v))
	}
	s.reply(w, r, v, err)
}

func (s *server) putPreferences(w http.ResponseWriter, r *http.Request, a core.Actor) {
	if err := httpx.RequireJSON(r); err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.fail(w, r, decodeError(err))
			return
		}
		s.fail(w, r, core.Invalid("", "could not read the request body"))
		return
	}
	v, err := s.svc.PutPreferences(r.Context(), a, json.RawMessage(body), httpx.IfMatch(r))
	if err == nil {
		httpx.SetETag(w, core.PreferencesTag(v))
	}
	s.reply(w, r, v, err)
}
