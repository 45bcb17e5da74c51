package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/profiled/profiled/core"
)

// Cookies. All are HttpOnly, Secure when the client came over TLS, and
// SameSite: Lax for the session and the device (a top-level navigation
// from an application to /oauth/authorize must carry the session), Strict
// for the CSRF token.
const (
	sessionCookie = "profiled_session" // the session token of the pages
	deviceCookie  = "profiled_device"  // a trusted device's secret
	csrfCookie    = "profiled_csrf"    // the double-submit CSRF token
	csrfField     = "csrf_token"
)

func (s *server) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, expires time.Time, site http.SameSite) {
	c := &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, Secure: s.secure(r), SameSite: site}
	if value == "" {
		c.MaxAge = -1
	} else if !expires.IsZero() {
		c.Expires = expires
	}
	http.SetCookie(w, c)
}

func cookie(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// setDevice keeps a trusted device's secret, for sign-ins through the
// API and the pages alike (both are under /auth).
func (s *server) setDevice(w http.ResponseWriter, r *http.Request, res core.SignInResult) {
	if res.DeviceSecret != "" {
		s.setCookie(w, r, deviceCookie, res.DeviceSecret, "/auth", res.DeviceExpiry, http.SameSiteLaxMode)
	}
}

// csrfToken returns the CSRF token of the browser, making one if needed.
// Forms carry it in a hidden field; form submits the field and the
// cookie must agree (double submit), on top of the browser's own
// cross-origin checks (http.CrossOriginProtection).
func (s *server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if tok := cookie(r, csrfCookie); len(tok) >= 20 {
		return tok
	}
	tok := rand.Text()
	s.setCookie(w, r, csrfCookie, tok, "/", time.Time{}, http.SameSiteStrictMode)
	return tok
}

// form guards a form's POST handler against cross-site requests.
func (s *server) form(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.cop.Check(r); err != nil {
			s.errorPage(w, r, http.StatusForbidden, "This form was sent from another site. Go back, reload the page and try again.")
			return
		}
		if err := r.ParseForm(); err != nil {
			s.errorPage(w, r, http.StatusBadRequest, "The form could not be read. Go back, reload the page and try again.")
			return
		}
		sent, have := r.PostForm.Get(csrfField), cookie(r, csrfCookie)
		if have == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(have)) != 1 {
			s.errorPage(w, r, http.StatusForbidden, "This form has expired or was not sent by this site. Go back, reload the page and try again.")
			return
		}
		h(w, r)
	}
}

// session returns the signed-in user of the pages, from the session cookie.
func (s *server) session(r *http.Request) (core.Actor, bool) {
	raw := cookie(r, sessionCookie)
	if raw == "" {
		return core.Actor{}, false
	}
	a, err := s.svc.Authenticate(r.Context(), raw)
	if err != nil || a.Token.Kind != core.TokenSession {
		return core.Actor{}, false
	}
	return a, true
}
