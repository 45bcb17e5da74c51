package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
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

// csrfToken returns the CSRF token of the browser's forms. Signed in, it
// is derived from the session (sessionCSRF), so it is bound to it: a site
// that can plant cookies (a sibling subdomain) can plant a double-submit
// pair, but cannot know a session's token. Before sign-in it is a random
// double-submit cookie, made if needed. Both come on top of the browser's
// own cross-origin checks (http.CrossOriginProtection).
func (s *server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if raw, ok := s.sessionSecret(r); ok {
		return sessionCSRF(raw)
	}
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
		if raw, ok := s.sessionSecret(r); ok {
			have = sessionCSRF(raw)
		}
		if have == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(have)) != 1 {
			s.errorPage(w, r, http.StatusForbidden, "This form has expired or was not sent by this site. Go back, reload the page and try again.")
			return
		}
		h(w, r)
	}
}

// sessionCSRF is the CSRF token of a signed-in browser: a hash of its
// session secret, which only that browser and the server know. The secret
// itself is never put in a page.
func sessionCSRF(session string) string {
	sum := sha256.Sum256([]byte("profiled csrf\x00" + session))
	return hex.EncodeToString(sum[:])
}

// sessionSecret returns the session cookie when it is a live session.
func (s *server) sessionSecret(r *http.Request) (string, bool) {
	if _, ok := s.session(r); !ok {
		return "", false
	}
	return cookie(r, sessionCookie), true
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
