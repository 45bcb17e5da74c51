package auth

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
)

//go:embed templates/*.html
var templateFiles embed.FS

var pages = template.Must(template.ParseFS(templateFiles, "templates/*.html"))

// defaultNext is where a sign-in without a destination lands.
const defaultNext = "/auth/signin"

// render writes a page with headers that keep it out of frames and caches.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("Internal server error")
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src https: http:; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", msg)
}

// pageError shows a core error on a page: the reason, or a request id.
func (s *server) pageError(w http.ResponseWriter, r *http.Request, err error) (int, string) {
	err = httpx.Domain(r, err)
	e := core.AsError(err)
	if e == nil {
		return http.StatusInternalServerError, s.internal(r, err)
	}
	return status(w, e), e.Reason
}

// safeNext keeps redirects after sign-in on this site: a path, not a URL,
// as a browser reads it. Browsers drop tabs and newlines anywhere in a URL
// and read a backslash as a slash (the WHATWG URL standard), so
// "/\t/evil.example" and "/\\evil.example" are "//evil.example", another
// host: any control character or backslash is refused outright, and what
// is left must be a path that starts with one slash, which no parser reads
// as a host.
func safeNext(next string) string {
	if len(next) > 8192 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsRune(next, '\\') || !utf8.ValidString(next) {
		return defaultNext
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return defaultNext
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return defaultNext
	}
	return next
}

type signInData struct {
	CSRF, Next, Username, Error string
	SignUp                      bool // link to the sign-up page
	// SecondFactor asks for the second factor even on a trusted device:
	// the application next leads to requires it (core/stepup.go).
	SecondFactor bool
}

// tfaData is the page asking for the second factor: of a sign-in, which
// Challenge names, or of the signed-in Username (confirmPage).
type tfaData struct {
	CSRF, Next, Challenge, Username, Error string
}

type signedInData struct {
	CSRF, Username string
}

func (s *server) signInPage(w http.ResponseWriter, r *http.Request) {
	csrf := s.csrfToken(w, r)
	next := safeNext(r.URL.Query().Get("next"))
	if a, ok := s.session(r); ok {
		if next != defaultNext {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		s.render(w, r, http.StatusOK, "signedin", signedInData{CSRF: csrf, Username: a.User.Username})
		return
	}
	s.render(w, r, http.StatusOK, "signin", signInData{CSRF: csrf, Next: next, SignUp: s.svc.SignUpOffered(),
		SecondFactor: r.URL.Query().Get("second_factor") != ""})
}

// signedIn keeps the session (and a newly trusted device) in cookies and
// goes on to next.
func (s *server) signedIn(w http.ResponseWriter, r *http.Request, res core.SignInResult, next string) {
	s.setCookie(w, r, sessionCookie, res.SessionSecret, "/", *res.Session.Expiry, http.SameSiteLaxMode)
	s.setDevice(w, r, res)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *server) signInSubmit(w http.ResponseWriter, r *http.Request) {
	csrf := cookie(r, csrfCookie)
	next := safeNext(r.PostForm.Get("next"))
	username := r.PostForm.Get("username")
	secondFactor := r.PostForm.Get("second_factor") != ""
	res, err := s.svc.SignIn(r.Context(), core.SignInRequest{Username: username, Password: r.PostForm.Get("password"),
		RememberMe: r.PostForm.Get("remember_me") != "", DeviceSecret: cookie(r, deviceCookie),
		IP: s.clientIP(r), UserAgent: r.UserAgent(), SecondFactor: secondFactor})
	if err != nil {
		st, msg := s.pageError(w, r, err)
		s.render(w, r, st, "signin", signInData{CSRF: csrf, Next: next, Username: username, Error: msg, SecondFactor: secondFactor})
		return
	}
	if res.TFARequired {
		s.render(w, r, http.StatusOK, "tfa", tfaData{CSRF: csrf, Next: next, Challenge: res.Challenge})
		return
	}
	s.signedIn(w, r, res, next)
}

func (s *server) signInTFASubmit(w http.ResponseWriter, r *http.Request) {
	csrf := cookie(r, csrfCookie)
	next := safeNext(r.PostForm.Get("next"))
	challenge := r.PostForm.Get("challenge")
	res, err := s.svc.SignInTFA(r.Context(), core.TFASignInRequest{Challenge: challenge, Code: r.PostForm.Get("code"),
		IP: s.clientIP(r), UserAgent: r.UserAgent()})
	if err != nil {
		st, msg := s.pageError(w, r, err)
		if e := core.AsError(err); e != nil && e.Field == "challenge" {
			s.render(w, r, st, "signin", signInData{CSRF: csrf, Next: next, Error: msg})
			return
		}
		s.render(w, r, st, "tfa", tfaData{CSRF: csrf, Next: next, Challenge: challenge, Error: msg})
		return
	}
	s.signedIn(w, r, res, next)
}

// confirmPage is GET /auth/signin/confirm: a signed-in user without their
// second factor types it, for an application that requires it
// (core/stepup.go), and goes on to next in the same session.
func (s *server) confirmPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	a, ok := s.session(r)
	switch {
	case !ok:
		signInFirstWith(w, r, next, true)
		return
	case a.Token.AuthMethods.Has("mfa"):
		http.Redirect(w, r, next, http.StatusSeeOther) // typed already
		return
	}
	s.render(w, r, http.StatusOK, "tfa", tfaData{CSRF: s.csrfToken(w, r), Next: next, Username: a.User.Username})
}

func (s *server) confirmSubmit(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostForm.Get("next"))
	a, ok := s.session(r)
	if !ok {
		signInFirstWith(w, r, next, true)
		return
	}
	if err := s.svc.ConfirmSecondFactor(r.Context(), a, r.PostForm.Get("code"), s.clientIP(r)); err != nil {
		st, msg := s.pageError(w, r, err)
		s.render(w, r, st, "tfa", tfaData{CSRF: cookie(r, csrfCookie), Next: next, Username: a.User.Username, Error: msg})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// confirmFirst sends a signed-in browser to type its second factor, to
// come back to back in the same session.
func confirmFirst(w http.ResponseWriter, r *http.Request, back string) {
	http.Redirect(w, r, "/auth/signin/confirm?"+url.Values{"next": {back}}.Encode(), http.StatusSeeOther)
}

func (s *server) signOutSubmit(w http.ResponseWriter, r *http.Request) {
	if s.signOut(w, r) {
		http.Redirect(w, r, defaultNext, http.StatusSeeOther)
	}
}

// signOut ends the pages' session, if any, and forgets its cookie. On an
// error it shows it and returns false.
func (s *server) signOut(w http.ResponseWriter, r *http.Request) bool {
	if a, ok := s.session(r); ok {
		if err := s.svc.SignOut(r.Context(), a); err != nil {
			st, msg := s.pageError(w, r, err)
			s.errorPage(w, r, st, msg)
			return false
		}
	}
	s.setCookie(w, r, sessionCookie, "", "/", time.Time{}, http.SameSiteLaxMode)
	return true
}

// logoutPage is GET /logout, where Cloud Manager sends the browser after
// revoking its token: it ends the pages' session and returns to return_to
// when that is on the origin of a redirect URI of the client_id given, or
// a path of this site; otherwise to the sign-in page. It is a GET because
// the console navigates to it; a site that links to it can only sign the
// user out, which SameSite=Lax already allows any top-level navigation.
//
// It is also OpenID Connect's end_session_endpoint (RP-Initiated Logout
// 1.0): post_logout_redirect_uri is return_to, with the state given back
// in its query, and the client may be named by the ID token profiled gave
// it (id_token_hint, checked against the signing keys; expired or not)
// instead of client_id.
func (s *server) logoutPage(w http.ResponseWriter, r *http.Request) {
	if !s.signOut(w, r) {
		return
	}
	q := r.URL.Query()
	rt, oidcLogout := q.Get("return_to"), false
	if rt == "" {
		rt, oidcLogout = q.Get("post_logout_redirect_uri"), true
	}
	client := q.Get("client_id")
	if client == "" && q.Get("id_token_hint") != "" {
		client = s.hintedClient(r, q.Get("id_token_hint"))
	}
	back := safeNext(rt)
	if rt != "" && back == defaultNext && s.svc.IsClientOrigin(r.Context(), client, rt) {
		if state := q.Get("state"); oidcLogout && state != "" {
			redirectTo(w, r, rt, url.Values{"state": {state}})
			return
		}
		back = rt
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// forgotPasswordPage is GET /forgot/password, Cloud Manager's "forgot
// password" link: until profiled sends mail, it says whom to ask.
func (s *server) forgotPasswordPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "forgot", s.svc.RecoveryOffered())
}

// signInFirst sends the browser to the sign-in page, to come back to the
// current request.
func signInFirst(w http.ResponseWriter, r *http.Request, back string) {
	signInFirstWith(w, r, back, false)
}

// signInFirstWith is signInFirst, asking for the second factor even on a
// trusted device when secondFactor (core/stepup.go).
func signInFirstWith(w http.ResponseWriter, r *http.Request, back string, secondFactor bool) {
	q := url.Values{"next": {back}}
	if secondFactor {
		q.Set("second_factor", "1")
	}
	http.Redirect(w, r, "/auth/signin?"+q.Encode(), http.StatusSeeOther)
}
