package auth

import (
	"net/http"
	"net/url"

	"github.com/profiled/profiled/core"
)

// The device authorization grant (RFC 8628, core/device.go): the device
// asks at POST /oauth/device_authorization and polls POST /oauth/token;
// the user types its code at /oauth/device, signed in, and approves it on
// the consent page, which posts back there.

// devicePath is the verification URI, under a prefix the face is mounted on.
const devicePath = "/oauth/device"

// deviceAuthorizationResponse is RFC 8628 3.2.
type deviceAuthorizationResponse struct {
	// DeviceCode is the device's secret, polled with.
	DeviceCode string `json:"device_code"`
	// UserCode is what the user types: 8 letters, XXXX-XXXX.
	UserCode string `json:"user_code"`
	// VerificationURI is where they type it, and VerificationURIComplete
	// the same with the code, for a link or a QR code.
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"` // seconds
	Interval                int    `json:"interval"`   // seconds between polls
}

// deviceAuthorization is POST /oauth/device_authorization.
func (s *server) deviceAuthorization(r *http.Request, f url.Values, auth core.ClientAuth) (int, any, error) {
	da, err := s.svc.DeviceAuthorize(r.Context(), core.DeviceAuthorizeRequest{ClientID: auth.ClientID, ClientSecret: auth.ClientSecret,
		ClientAssertion: auth.Assertion, Audiences: auth.Audiences,
		Scope: f.Get("scope"), Resource: resourceParam(f), IP: s.clientIP(r)})
	if err != nil {
		return 0, nil, err
	}
	uri := s.issuer(r) + devicePath
	return http.StatusOK, deviceAuthorizationResponse{DeviceCode: da.DeviceCode, UserCode: da.UserCode,
		VerificationURI: uri, VerificationURIComplete: uri + "?user_code=" + url.QueryEscape(da.UserCode),
		ExpiresIn: int(da.ExpiresIn.Seconds()), Interval: int(da.Interval.Seconds())}, nil
}

type deviceData struct {
	CSRF, Username, UserCode, Error string
}

// devicePage is GET /oauth/device: sign in first, then the form for the
// code, filled in from verification_uri_complete's user_code. The code
// is looked at only once the user sends the form: a link alone, which
// anyone may send them, approves nothing and shows no consent page.
func (s *server) devicePage(w http.ResponseWriter, r *http.Request) {
	a, ok := s.session(r)
	if !ok {
		signInFirst(w, r, r.URL.RequestURI())
		return
	}
	code := r.URL.Query().Get("user_code")
	if len(code) > 32 {
		code = ""
	}
	s.render(w, r, http.StatusOK, "device", deviceData{CSRF: s.csrfToken(w, r), Username: a.User.Username, UserCode: code})
}

// deviceSubmit is the code's form, then the consent form: without a
// decision it shows the device's request for consent; with one it
// approves, with the scopes the user left, or denies.
func (s *server) deviceSubmit(w http.ResponseWriter, r *http.Request) {
	a, ok := s.session(r)
	if !ok {
		signInFirst(w, r, devicePath)
		return
	}
	code := r.PostForm.Get("user_code")
	again := func(err error) {
		st, msg := s.pageError(w, r, err)
		s.render(w, r, st, "device", deviceData{CSRF: s.csrfToken(w, r), Username: a.User.Username, Error: msg})
	}
	decision := r.PostForm.Get("decision")
	var grant func(core.Scopes) (core.Scopes, error) // nil: deny
	switch decision {
	case "deny":
	case "approve":
		grant = func(asked core.Scopes) (core.Scopes, error) {
			return core.GrantConsent(asked, func(key string) string { return r.PostForm.Get("scope_" + key) })
		}
	default: // the code's form, or a consent form without a decision
		req, err := s.svc.DeviceRequest(r.Context(), a, code)
		if err == nil {
			var stepUp bool
			if stepUp, err = s.svc.NeedsSecondFactor(a, core.Authorization{Client: req.Client}); stepUp {
				// Back to the code's form, filled in, once the user typed
				// the second factor the client requires.
				confirmFirst(w, r, devicePath+"?"+url.Values{"user_code": {req.UserCode}}.Encode())
				return
			}
		}
		switch {
		case err != nil:
			again(err)
		case decision == "":
			s.deviceConsent(w, r, http.StatusOK, a, req, "")
		default:
			s.deviceConsent(w, r, http.StatusBadRequest, a, req, "Choose Authorize or Deny.")
		}
		return
	}
	req, err := s.svc.DecideDevice(r.Context(), a, code, grant)
	switch {
	case core.KindOf(err) == core.KindInvalid && core.AsError(err).Field == "scopes":
		st, msg := s.pageError(w, r, err)
		s.deviceConsent(w, r, st, a, req, msg)
	case err != nil:
		again(err)
	default:
		s.render(w, r, http.StatusOK, "devicedone", grant != nil)
	}
}

// deviceConsent is the consent page of a device's request, posting back
// to the device form with its user code.
func (s *server) deviceConsent(w http.ResponseWriter, r *http.Request, status int, a core.Actor, req core.DeviceConsent, msg string) {
	az := core.Authorization{Client: req.Client, Scopes: req.Scopes}
	s.consentPage(w, r, status, a, az, devicePath, map[string]string{"user_code": req.UserCode}, msg)
}
