package core

import (
	"context"
	"strings"
)

// A client may require a second factor (OAuthClient.RequireMFA, set by
// the operator): an admin console, a deploy tool. A user then approves
// its requests, at the consent page, at the device page, or by a consent
// known already, only from a session signed in with one: its
// AuthMethods hold mfa, as the ID token's amr and acr then tell the
// client. A session without one (signed in on a trusted device, or by a
// password alone before the user turned TFA on) types it and stays the
// same session (ConfirmSecondFactor); a browser not signed in signs in
// with it, which a trusted device does not skip then (SignInRequest.
// SecondFactor). A user with no second factor is told to turn one on. A
// relying party may also ask for it for one request (ACRMultiFactor).

// Has reports whether m holds the method (an RFC 8176 amr value).
func (m AuthMethods) Has(method string) bool {
	for _, have := range strings.Fields(string(m)) {
		if have == method {
			return true
		}
	}
	return false
}

// ACRMultiFactor is the authentication context class a relying party
// asks for in acr_values to have the user sign in with a second factor
// for this request (OpenID Provider Authentication Policy Extension 1.0,
// 5: the value Auth0 and others take for it). The ID token of a sign-in
// with a second factor says it in acr.
const ACRMultiFactor = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"

// WantsSecondFactor reports whether az asks for a second factor: its
// client requires one, or its request asked for one (acr_values).
func (az Authorization) WantsSecondFactor() bool {
	return az.Client.RequireMFA || az.ACR == ACRMultiFactor
}

// NeedsSecondFactor reports whether the user of session a must type
// their second factor before approving az: its client requires one
// (RequireMFA), or the request asked for one (acr_values), and the
// session lacks it. A user who has none cannot, for a client that
// requires it: that is an error of KindForbidden, saying how to turn one
// on. A request that asked for it of a client that does not require it
// asks a voluntary claim (Core 5.5.1.1): a user without a second factor
// signs in as they can, their ID token then without acr, for the
// relying party to judge. (A device's request is az with its client
// alone.)
func (s *Service) NeedsSecondFactor(a Actor, az Authorization) (bool, error) {
	c := az.Client
	switch {
	case !az.WantsSecondFactor() || a.Token.AuthMethods.Has("mfa"):
		return false, nil
	case a.User.TwoFactorAuth:
		return true, nil
	case c.RequireMFA:
		return false, &Error{Kind: KindForbidden, Field: "second_factor", Reason: c.Label + " requires two-factor authentication, " +
			"which is off for you: turn it on in your profile (an authenticator app: POST /v4/profile/tfa-enable), then come back to " + c.Label}
	}
	return false, nil
}

// refuseWithoutSecondFactor refuses an approval of az from a session that
// lacks the second factor it needs (NeedsSecondFactor).
func (s *Service) refuseWithoutSecondFactor(a Actor, az Authorization) error {
	need, err := s.NeedsSecondFactor(a, az)
	if err == nil && need {
		return &Error{Kind: KindForbidden, Field: "second_factor", Reason: az.Client.Label + " asks for your second factor: " +
			"type the code of your authenticator app first (/auth/signin/confirm), then approve again"}
	}
	return err
}

// ConfirmSecondFactor has the user of session a, signed in without a
// second factor, prove it with a TOTP or scratch code, as an application
// that requires one asks: the session then holds it (its AuthMethods say
// mfa) and stays the same session, so the applications signed in from it
// keep it, where signing in again would sign them out. A wrong code
// counts as a failed sign-in, under the same limits as SignInTFA's.
func (s *Service) ConfirmSecondFactor(ctx context.Context, a Actor, typed, ip string) error {
	switch {
	case a.Token.Kind != TokenSession:
		return &Error{Kind: KindForbidden, Reason: "Only a signed-in user can confirm their second factor"}
	case !a.User.TwoFactorAuth:
		return Invalid("code", "two-factor authentication is off for you: turn it on first (POST /v4/profile/tfa-enable)")
	}
	code := secondFactorCode(typed)
	if code == "" {
		return errCodeRequired()
	}
	if len(code) > 64 {
		return errCodeTooLong()
	}
	ip = clean(ip, maxIPLength)
	resv, err := s.reserveSignIn(ctx, keysFor(a.User.Username, ip))
	if err != nil {
		return err
	}
	now := s.now()
	wrong := false
	err = s.update(ctx, func(tx Tx, note func(Event)) error {
		// A wrong code commits, with the failure reserved for it.
		if ok, err := s.lockedSecondFactor(ctx, tx, a.User.ID, code, now); err != nil || !ok {
			wrong = err == nil
			return err
		}
		if err := tx.SetSessionAuthMethods(ctx, a.User.ID, a.Token.ID, AuthPasswordAndOneTime); err != nil {
			return notFound(err, "confirm second factor") // signed out meanwhile: not found
		}
		note(Event{Name: EventSignInSucceeded, UserID: a.User.ID, Username: a.User.Username, Detail: "second factor confirmed"})
		return resv.succeed(ctx, tx, now)
	})
	if err != nil {
		return err
	}
	if wrong {
		return s.wrongSecondFactor(ctx, a.User, ip)
	}
	return nil
}
