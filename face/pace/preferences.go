package pace

import (
	"net/http"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
)

// large is the size from which a body or value draws from the budget:
// below it, what a request holds is too small to matter.
const large = 1 << 20

// heldPerByte is how many bytes a large body takes per byte while it is
// checked and stored (measured in memory_test.go: 1.4x on SQLite, 2.5x on
// PostgreSQL).
const heldPerByte = 3

// getPreferences answers the stored object of the client's namespace, or
// {}. A large value is held until a slow client has read it: that hold
// draws from the budget.
func (s *server) getPreferences(w http.ResponseWriter, r *http.Request, a core.Actor) {
	v, err := s.svc.ClientPreferences(r.Context(), a, r.PathValue("clientId"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(v) >= large {
		release, err := s.budget.Reserve(r.Context(), int64(len(v)))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer release()
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
	// A large body reserves what it will hold before it is read; one of
	// unknown length, what the largest may.
	if n := r.ContentLength; n < 0 || n >= large {
		if n < 0 {
			n = core.MaxPreferenceKeys * core.MaxPreferenceValueBytes
		}
		release, err := s.budget.Reserve(r.Context(), heldPerByte*n)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer release()
	}
	v, err := s.svc.PutClientPreferences(r.Context(), a, r.PathValue("clientId"), r.Body, r.ContentLength, httpx.IfMatch(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.SetETag(w, core.PreferencesTag(v))
	writeObject(w, v)
}
