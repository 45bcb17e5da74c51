package core

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The device authorization grant (RFC 8628), for a command line or a
// device without a browser: the device asks for a device code and a user
// code (DeviceAuthorize), shows the user code and where to type it, and
// polls the token endpoint; the user, signed in on any other screen, types
// the code and approves or denies the device (DeviceRequest, DecideDevice).
//
// Only clients the operator allowed it (OAuthClient.DeviceGrant) may use
// it: anyone who knows a public client's id could otherwise start one and
// show a user that client's name (the remote phishing of RFC 8628 5.4).
// The user always sees the consent page, whatever they approved before,
// so that no code is approved without them reading which device asks.
//
// Both codes are stored as SHA-256 hashes. A user code is 8 letters of
// 20 (about 34 bits), guessable only by typing: each signed-in user may
// type DeviceCodeAttempts of them per window, counted in the database so
// that the limit holds across replicas.
const (
	DeviceCodeLifetime = 10 * time.Minute
	DevicePollInterval = 5 * time.Second
	// DeviceSlowDown is what a poll sooner than the interval adds to it
	// (RFC 8628 3.5).
	DeviceSlowDown = 5 * time.Second
	// GrantTypeDeviceCode is the grant_type of a device's poll.
	GrantTypeDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
	// DeviceCodeAttempts bound the user codes a user may type (each one
	// typed, right or wrong, approved or not) per DeviceCodeWindow.
	DeviceCodeAttempts = 20
	DeviceCodeWindow   = 15 * time.Minute
	// DeviceAuthorizations bound the device codes one address may ask for
	// per DeviceCodeWindow: each is a row until it expires.
	DeviceAuthorizations = 100

	// userCodeAlphabet has no vowels, so that no code spells a word, and
	// no digits to take for letters (RFC 8628 6.1).
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
	userCodeLength   = 8
)

// The errors of a device's poll (RFC 8628 3.5).
const (
	OAuthAuthorizationPending = "authorization_pending"
	OAuthSlowDown             = "slow_down"
	OAuthExpiredToken         = "expired_token"
)

// DeviceAuthorizeRequest is a request to the device authorization
// endpoint (RFC 8628 3.1).
type DeviceAuthorizeRequest struct {
	ClientID     string
	ClientSecret string
	// ClientAssertion and Audiences authenticate a client with keys
	// (clientkeys.go).
	ClientAssertion string
	Audiences       []string
	Scope           string // "" or "*": every scope
	Resource        string // RFC 8707 (resource.go); "" for any
	IP              string // the requester's address, for the limit
}

// DeviceAuthorization is its answer (3.2).
type DeviceAuthorization struct {
	DeviceCode string
	UserCode   string // as the user types it: XXXX-XXXX
	ExpiresIn  time.Duration
	Interval   time.Duration
}

// DeviceAuthorize starts a device authorization. Errors are *OAuthError,
// or TooManyRequests past DeviceAuthorizations.
func (s *Service) DeviceAuthorize(ctx context.Context, in DeviceAuthorizeRequest) (DeviceAuthorization, error) {
	c, err := s.authenticateClient(ctx, ClientAuth{ClientID: in.ClientID, ClientSecret: in.ClientSecret, Assertion: in.ClientAssertion,
		Audiences: in.Audiences})
	if err != nil {
		return DeviceAuthorization{}, err
	}
	if !c.DeviceGrant {
		return DeviceAuthorization{}, oauthErr(OAuthUnauthorizedClient, KindInvalid, "client_id",
			"this client may not use the device authorization grant: its operator allows it with \"profiled oauth-clients update --device-grant\"")
	}
	scopes, err := ParseScopes(in.Scope)
	if err != nil {
		return DeviceAuthorization{}, oauthErr(OAuthInvalidScope, KindInvalid, "scope",
			"scope must be \"*\" or space-separated scopes, as /oauth/authorize takes them")
	}
	if err := checkResource(in.Resource); err != nil {
		return DeviceAuthorization{}, err
	}
	if err := s.attempt(ctx, "device-authorization:"+in.IP, DeviceAuthorizations, DeviceCodeWindow); err != nil {
		return DeviceAuthorization{}, err
	}
	now := s.clock()
	d := DeviceCode{ClientID: c.ID, Scopes: scopes, Created: now, Expiry: now.Add(DeviceCodeLifetime), Interval: DevicePollInterval,
		Status: DeviceCodePending, Resource: in.Resource}
	// A taken user code (one of 20^8, among the live ones) is drawn again.
	for try := 1; ; try++ {
		device, err := s.newSecret(tokenBytes)
		if err != nil {
			return DeviceAuthorization{}, err
		}
		user, err := s.newUserCode()
		if err != nil {
			return DeviceAuthorization{}, err
		}
		d.Hash, d.UserCode = HashToken(device), HashToken(user)
		err = s.store.Update(ctx, func(tx Tx) error { return tx.CreateDeviceCode(ctx, d) })
		if errors.Is(err, ErrDuplicate) && try < 3 {
			continue
		}
		if err != nil {
			return DeviceAuthorization{}, notFound(err, "create device code")
		}
		return DeviceAuthorization{DeviceCode: device, UserCode: shownUserCode(user), ExpiresIn: DeviceCodeLifetime,
			Interval: DevicePollInterval}, nil
	}
}

// newUserCode draws userCodeLength letters of userCodeAlphabet, without
// the bias of a modulo (rejection sampling).
func (s *Service) newUserCode() (string, error) {
	const limit = 256 - 256%len(userCodeAlphabet)
	out := make([]byte, 0, userCodeLength)
	for len(out) < userCodeLength {
		buf, err := s.random(16)
		if err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < userCodeLength {
				out = append(out, userCodeAlphabet[int(b)%len(userCodeAlphabet)])
			}
		}
	}
	return string(out), nil
}

// shownUserCode is a user code as the device shows it: XXXX-XXXX.
func shownUserCode(code string) string { return code[:4] + "-" + code[4:] }

// normalUserCode is a user code as typed, in capitals without dashes or
// spaces; "" when it cannot be one.
func normalUserCode(typed string) string {
	if len(typed) > 32 {
		return ""
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == '-' || r == ' ':
		case strings.ContainsRune(userCodeAlphabet, r):
			b.WriteRune(r)
		default:
			return ""
		}
	}
	if b.Len() != userCodeLength {
		return ""
	}
	return b.String()
}

// DeviceConsent is a device's pending request, for the consent page.
type DeviceConsent struct {
	Client   OAuthClient
	Scopes   Scopes
	UserCode string // XXXX-XXXX
}

// pendingDevice finds the pending, unexpired request of the user code the
// signed-in user typed, counting the attempt, and the request as the
// consent page shows it.
func (s *Service) pendingDevice(ctx context.Context, a Actor, typed string) (DeviceCode, DeviceConsent, error) {
	if a.Token.Kind != TokenSession {
		return DeviceCode{}, DeviceConsent{}, &Error{Kind: KindForbidden, Reason: "Only a signed-in user can approve a device"}
	}
	if err := s.attempt(ctx, "device-user-code:"+strconv.FormatInt(a.User.ID, 10), DeviceCodeAttempts, DeviceCodeWindow); err != nil {
		return DeviceCode{}, DeviceConsent{}, err
	}
	unknown := Invalid("user_code", "That code is unknown, expired or used: check the code your device shows, or start again there")
	code := normalUserCode(typed)
	if code == "" {
		return DeviceCode{}, DeviceConsent{}, Invalid("user_code", "A code is 8 letters, as your device shows it (XXXX-XXXX)")
	}
	d, err := s.store.DeviceCodeByUserCode(ctx, HashToken(code))
	if errors.Is(err, ErrNotFound) || (err == nil && (d.Status != DeviceCodePending || !s.now().Before(d.Expiry))) {
		return DeviceCode{}, DeviceConsent{}, unknown
	}
	if err != nil {
		return DeviceCode{}, DeviceConsent{}, notFound(err, "device code")
	}
	c, err := s.OAuthClient(ctx, d.ClientID)
	if KindOf(err) == KindNotFound || (err == nil && !c.DeviceGrant) {
		return DeviceCode{}, DeviceConsent{}, unknown // deleted, disabled or no longer allowed since
	}
	return d, DeviceConsent{Client: c, Scopes: d.Scopes, UserCode: shownUserCode(code)}, err
}

// DeviceRequest returns the pending request of the user code the
// signed-in user typed, for them to approve or deny (DecideDevice).
func (s *Service) DeviceRequest(ctx context.Context, a Actor, userCode string) (DeviceConsent, error) {
	_, req, err := s.pendingDevice(ctx, a, userCode)
	return req, err
}

// DecideDevice records the signed-in user's decision on the device's
// request, and returns the request (for a consent page to show again when
// the grant is refused). grant, given the scopes the device asked for,
// returns those the user granted, which must be within them and within
// what the user's session holds; a nil grant denies. The device's next
// poll gets the tokens, or access_denied. The user code counts as typed
// once (DeviceCodeAttempts), however the decision goes.
func (s *Service) DecideDevice(ctx context.Context, a Actor, userCode string, grant func(asked Scopes) (Scopes, error)) (DeviceConsent, error) {
	d, req, err := s.pendingDevice(ctx, a, userCode)
	if err != nil {
		return req, err
	}
	decision := DeviceCode{UserCode: d.UserCode, Status: DeviceCodeDenied, UserID: a.User.ID}
	if grant != nil {
		if err := s.refuseWithoutSecondFactor(a, Authorization{Client: req.Client}); err != nil {
			return req, err
		}
		granted, err := grant(d.Scopes)
		if err == nil && (!granted.Within(d.Scopes) || !granted.Within(a.Token.Scopes)) {
			err = Invalid("scopes", "the granted scopes may not exceed what the device asked for (%s)", d.Scopes)
		}
		if err != nil {
			return req, err
		}
		decision.Status, decision.Granted, decision.SID = DeviceCodeApproved, granted, sessionID(a.Token)
		decision.AuthTime, decision.AuthMethods = a.Token.Created, a.Token.AuthMethods
	}
	err = s.store.Update(ctx, func(tx Tx) error { return tx.DecideDeviceCode(ctx, decision, s.now()) })
	if errors.Is(err, ErrNotFound) {
		return req, Invalid("user_code", "This device's request was decided already, or has expired")
	}
	return req, notFound(err, "decide device code")
}

// pollDevice is a device's poll of the token endpoint (RFC 8628 3.4).
func (s *Service) pollDevice(ctx context.Context, c OAuthClient, in TokenRequest) (TokenGrant, error) {
	if in.DeviceCode == "" {
		return TokenGrant{}, oauthErr(OAuthInvalidRequest, KindInvalid, "device_code", "device_code is required")
	}
	unknown := invalidGrant("device_code", "device_code is unknown")
	if len(in.DeviceCode) > 256 || !c.DeviceGrant {
		return TokenGrant{}, unknown
	}
	hash := HashToken(in.DeviceCode)
	now := s.clock()
	// The poll commits on its own: a pending answer must still count it.
	var d DeviceCode
	var soon bool
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		d, soon, err = tx.PollDeviceCode(ctx, hash, now, DeviceSlowDown)
		return err
	})
	if errors.Is(err, ErrNotFound) || (err == nil && d.ClientID != c.ID) {
		return TokenGrant{}, unknown
	}
	if err != nil {
		return TokenGrant{}, notFound(err, "poll device code")
	}
	switch {
	case !now.Before(d.Expiry):
		return TokenGrant{}, oauthErr(OAuthExpiredToken, KindInvalid, "device_code", "device_code has expired: start again")
	case d.Status == DeviceCodePending && soon:
		return TokenGrant{}, oauthErr(OAuthSlowDown, KindInvalid, "device_code",
			"polled too soon: wait %d seconds between polls", int(d.Interval/time.Second))
	case d.Status == DeviceCodePending:
		return TokenGrant{}, oauthErr(OAuthAuthorizationPending, KindInvalid, "device_code", "the user has not decided yet")
	case d.Status == DeviceCodeDenied:
		return TokenGrant{}, oauthErr(OAuthAccessDenied, KindInvalid, "device_code", "the user denied the request")
	case d.Status != DeviceCodeApproved:
		return TokenGrant{}, invalidGrant("device_code", "device_code was used already")
	}
	if err := sameResource(in.Resource, d.Resource); err != nil {
		return TokenGrant{}, err
	}
	return s.grantApp(ctx, c, approval{userID: d.UserID, scopes: d.Granted, sid: d.SID, signIn: signedIn{d.AuthTime, d.AuthMethods},
		issuer: in.Issuer, field: "device_code", device: true, resource: d.Resource},
		func(tx Tx, appID int64) error { return tx.ClaimDeviceCode(ctx, hash, appID) })
}
