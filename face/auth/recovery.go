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
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.svc.RecoveryOffered() {
			s.errorPage(w, r, http.StatusNotFound, "This server does not send recovery mail: ask its operator to set a new password for you.")
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
