package linode

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
)

func (s *server) getPreferences(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	v, err := s.svc.Preferences(r.Context(), a)
	if err == nil {
		httpx.SetETag(w, core.PreferencesTag(v))
	}
	return v, err
}

func (s *server) putPreferences(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	if err := httpx.RequireJSON(r); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, httpx.JSONError(err)
		}
		return nil, core.Invalid("", "could not read the request body")
	}
	v, err := s.svc.PutPreferences(r.Context(), a, json.RawMessage(body), httpx.IfMatch(r))
	if err == nil {
		httpx.SetETag(w, core.PreferencesTag(v))
	}
	return v, err
}
