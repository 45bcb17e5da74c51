package auth

import (
	"net/http"
	"strings"

	"github.com/profiled/profiled/core"
)

// Password recovery by mail (core/recovery.go): the JSON API under
// /auth/recovery, and the pages under /auth/recover that the mail's link
// opens. Without mail (--smtp-url and --public-url) every one answers 404.

type recoveryRequest struct {
	Email    string `json:"email"`
	Username string `json:"username"`
}

type recoveryComplete struct {
	Token    string `json:"token"`
	Password string `json:"password"`
	TFACode  string `json:"tfa_code"`
}

type statusResponse struct {
	Status string `json:"status"`
}

// recoverySent is the one answer to a recovery request, whether or not
// the address exists.
const recoverySent = "If an account has that address, a mail with a link is on its way; the link works once, for 30 minutes."

func (s *server) apiRecovery(w http.ResponseWriter, r *http.Request) {
	var in recoveryRequest
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.svc.RequestRecovery(r.Context(), core.RecoveryRequest{Email: in.Email, Username: in.Username}); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, statusResponse{Status: recoverySent})
}

func (s *server) apiRecoveryComplete(w http.ResponseWriter, r *http.Request) {
	var in recoveryComplete
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	err := s.svc.CompleteRecovery(r.Context(), core.RecoveryComplete{Token: in.Token, Password: in.Password, TFACode: in.TFACode, IP: s.clientIP(r)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, statusResponse{Status: "The password is set, and every session ended: sign in with it."})
}

type recoverData struct {
	CSRF, Token, Error, Message string
	Done                        bool
}

// offered answers 404 for the pages of recovery when it is not offered.
func (s *server) offered(h http.HandlerFunc) http.HandlerFunc {
	return s.only(s.svc.RecoveryOffered, "This server does not send recovery mail: ask its operator to set a new password for you.", h)
}

// signUpOffered answers 404 for the sign-up pages when sign-up is off.
func (s *server) signUpOffered(h http.HandlerFunc) http.HandlerFunc {
	return s.only(s.svc.SignUpOffered, "This server does not take sign-ups: ask its operator for an account.", h)
}

// only serves h while on() holds, and otherwise a 404 page that says why.
func (s *server) only(on func() bool, why string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !on() {
			s.errorPage(w, r, http.StatusNotFound, why)
			return
		}
		h(w, r)
	}
}

func (s *server) recoverPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "recover", recoverData{CSRF: s.csrfToken(w, r)})
}

func (s *server) recoverSubmit(w http.ResponseWriter, r *http.Request) {
	csrf := cookie(r, csrfCookie)
	address := strings.TrimSpace(r.PostForm.Get("address"))
	in := core.RecoveryRequest{Username: address}
	if strings.Contains(address, "@") {
		in = core.RecoveryRequest{Email: address}
	}
	if err := s.svc.RequestRecovery(r.Context(), in); err != nil {
		st, msg := s.pageError(w, r, err)
		s.render(w, r, st, "recover", recoverData{CSRF: csrf, Error: msg})
		return
	}
	s.render(w, r, http.StatusOK, "recover", recoverData{CSRF: csrf, Message: recoverySent, Done: true})
}

func (s *server) recoverCompletePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "recovercomplete", recoverData{CSRF: s.csrfToken(w, r), Token: r.URL.Query().Get("token")})
}

func (s *server) recoverCompleteSubmit(w http.ResponseWriter, r *http.Request) {
	csrf := cookie(r, csrfCookie)
	token := r.PostForm.Get("token")
	err := s.svc.CompleteRecovery(r.Context(), core.RecoveryComplete{Token: token, Password: r.PostForm.Get("password"),
		TFACode: r.PostForm.Get("tfa_code"), IP: s.clientIP(r)})
	if err != nil {
		st, msg := s.pageError(w, r, err)
		s.render(w, r, st, "recovercomplete", recoverData{CSRF: csrf, Token: token, Error: msg})
		return
	}
	s.render(w, r, http.StatusOK, "recovercomplete", recoverData{Done: true})
}

type verifyRequest struct {
	Token string `json:"token"`
}

func (s *server) apiVerifyEmail(w http.ResponseWriter, r *http.Request) {
	var in verifyRequest
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.svc.VerifyEmail(r.Context(), in.Token); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, statusResponse{Status: "The address is verified."})
}

// verifyEmailPage is the mail's link: a button, so that a mail scanner
// that opens links verifies nothing.
func (s *server) verifyEmailPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "verifyemail", recoverData{CSRF: s.csrfToken(w, r), Token: r.URL.Query().Get("token")})
}

func (s *server) verifyEmailSubmit(w http.ResponseWriter, r *http.Request) {
	token := r.PostForm.Get("token")
	if err := s.svc.VerifyEmail(r.Context(), token); err != nil {
		st, msg := s.pageError(w, r, err)
		s.render(w, r, st, "verifyemail", recoverData{CSRF: cookie(r, csrfCookie), Token: token, Error: msg})
		return
	}
	s.render(w, r, http.StatusOK, "verifyemail", recoverData{Done: true})
}

type signUpRequest struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

type signUpResponse struct {
	Status   string `json:"status"`
	Username string `json:"username"`
}

const signedUp = "The account is made: sign in with its password, and follow the link mailed to the address to verify it."

func (s *server) apiSignUp(w http.ResponseWriter, r *http.Request) {
	var in signUpRequest
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.svc.SignUp(r.Context(), core.SignUpRequest{Username: in.Username, Email: in.Email, Password: in.Password, IP: s.clientIP(r)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, signUpResponse{Status: signedUp, Username: u.Username})
}

type signUpData struct {
	CSRF, Username, Email, Error, Message string
	Done                                  bool
}

func (s *server) signUpPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signup", signUpData{CSRF: s.csrfToken(w, r)})
}

func (s *server) signUpSubmit(w http.ResponseWriter, r *http.Request) {
	csrf := cookie(r, csrfCookie)
	in := core.SignUpRequest{Username: r.PostForm.Get("username"), Email: r.PostForm.Get("email"), Password: r.PostForm.Get("password"), IP: s.clientIP(r)}
	if _, err := s.svc.SignUp(r.Context(), in); err != nil {
		st, msg := s.pageError(w, r, err)
		s.render(w, r, st, "signup", signUpData{CSRF: csrf, Username: in.Username, Email: in.Email, Error: msg})
		return
	}
	s.render(w, r, http.StatusOK, "signup", signUpData{Done: true, Message: signedUp})
}
