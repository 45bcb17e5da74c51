package auth

import (
	"net/http"
	"time"

	"github.com/profiled/profiled/core"
)

// The JSON sign-in API. Every answer is JSON; errors use the envelope
// {"errors": [{"reason", "field"}]}.

type loginRequest struct {
	Username   string `json:"username"`
	Password   string `json:"password"`
	RememberMe bool   `json:"remember_me"`
}

type tfaRequest struct {
	Challenge string `json:"challenge"`
	Code      string `json:"code"`
}

// loginResponse is either a session (status "signed_in") or a request
// for the second factor (status "tfa_required").
type loginResponse struct {
	Status    string `json:"status"`
	Token     string `json:"token,omitempty"`
	Scopes    string `json:"scopes,omitempty"`
	Username  string `json:"username,omitempty"`
	Challenge string `json:"challenge,omitempty"`
	Expiry    string `json:"expiry"`
	// DeviceTrusted is true when remember_me trusted this device: the
	// profiled_device cookie holds its secret.
	DeviceTrusted bool `json:"device_trusted,omitempty"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *server) answerLogin(w http.ResponseWriter, r *http.Request, res core.SignInResult, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if res.TFARequired {
		writeJSON(w, http.StatusOK, loginResponse{Status: "tfa_required", Challenge: res.Challenge, Expiry: rfc3339(res.ChallengeExpiry)})
		return
	}
	s.setDevice(w, r, res)
	writeJSON(w, http.StatusOK, loginResponse{Status: "signed_in", Token: res.SessionSecret, Scopes: string(res.Session.Scopes),
		Username: res.User.Username, Expiry: rfc3339(*res.Session.Expiry), DeviceTrusted: res.DeviceSecret != ""})
}

func (s *server) apiLogin(w http.ResponseWriter, r *http.Request) {
	var in loginRequest
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.svc.SignIn(r.Context(), core.SignInRequest{Username: in.Username, Password: in.Password,
		RememberMe: in.RememberMe, DeviceSecret: cookie(r, deviceCookie), IP: s.clientIP(r), UserAgent: r.UserAgent()})
	s.answerLogin(w, r, res, err)
}

func (s *server) apiLoginTFA(w http.ResponseWriter, r *http.Request) {
	var in tfaRequest
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.svc.SignInTFA(r.Context(), core.TFASignInRequest{Challenge: in.Challenge, Code: in.Code,
		IP: s.clientIP(r), UserAgent: r.UserAgent()})
	s.answerLogin(w, r, res, err)
}

func (s *server) apiLogout(w http.ResponseWriter, r *http.Request, a core.Actor) {
	if err := s.svc.SignOut(r.Context(), a); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *server) apiScratchCodesLeft(w http.ResponseWriter, r *http.Request, a core.Actor) {
	n, err := s.svc.ScratchCodesLeft(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"remaining": n})
}

func (s *server) apiRegenerateScratchCodes(w http.ResponseWriter, r *http.Request, a core.Actor) {
	codes, err := s.svc.RegenerateScratchCodes(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]string{"scratch_codes": codes})
}
