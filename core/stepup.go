package core

import "strings"

// A client may require a second factor (OAuthClient.RequireMFA, set by
// the operator): an admin console, a deploy tool. A user then approves
// its requests, at the consent page, at the device page, or by a consent
// known already, only from a session signed in with one: its
// AuthMethods hold mfa, as the ID token's amr then tells the client. A
// session without one (signed in on a trusted device, or by a password
// alone before the user turned TFA on) is asked to sign in again with
// it, and a trusted device does not skip it then (SignInRequest.
// SecondFactor). A user with no second factor is told to turn one on.

// Has reports whether m holds the method (an RFC 8176 amr value).
func (m AuthMethods) Has(method string) bool {
	for _, have := range strings.Fields(string(m)) {
		if have == method {
			return true
		}
	}
	return false
}

// NeedsSecondFactor reports whether the user of session a must sign in
// again with their second factor before approving a request of c. A user
// who has none cannot: that is an error of KindForbidden, saying how to
// turn one on.
func (s *Service) NeedsSecondFactor(a Actor, c OAuthClient) (bool, error) {
	if !c.RequireMFA || a.Token.AuthMethods.Has("mfa") {
		return false, nil
	}
	if !a.User.TwoFactorAuth {
		return false, &Error{Kind: KindForbidden, Field: "second_factor", Reason: c.Label + " requires two-factor authentication, " +
			"which is off for you: turn it on in your profile (an authenticator app: POST /v4/profile/tfa-enable), then come back to " + c.Label}
	}
	return true, nil
}

// checkSecondFactor refuses an approval of a request of c from a session
// that lacks the second factor c requires.
func (s *Service) checkSecondFactor(a Actor, c OAuthClient) error {
	need, err := s.NeedsSecondFactor(a, c)
	if err == nil && need {
		return &Error{Kind: KindForbidden, Field: "second_factor", Reason: c.Label + " requires a sign-in with your second factor: " +
			"sign in again, with the code of your authenticator app"}
	}
	return err
}
