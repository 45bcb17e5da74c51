package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Sign-in: a password, then, for a user with two-factor authentication
// whose device is not trusted, a TOTP code or a scratch code. Success
// gives a session token (a core.Token of kind session, stored as SHA-256
// like every token) and records a Login; every failure records a failed
// Login for a known user and counts against the account and the client
// address in the database, so every replica enforces the same limits.
const (
	SessionLifetime        = 12 * time.Hour
	LoginChallengeLifetime = 5 * time.Minute
	TrustedDeviceLifetime  = 30 * 24 * time.Hour
	ScratchCodeCount       = 10

	// A failure beyond the free ones locks the account (or address) for
	// firstLockout, doubling with each further failure up to maxLockout.
	// Failures count in a window that starts at the first and lasts
	// failureWindow. Locks end by themselves.
	accountFreeFailures = 5
	addressFreeFailures = 20
	failureWindow       = time.Hour
	firstLockout        = 30 * time.Second
	maxLockout          = 15 * time.Minute

	maxUsernameInput = 128
	maxPasswordBytes = 4 * MaxPasswordLength
	maxIPLength      = 64
	maxUserAgent     = 512
	sessionLabel     = "sign-in"
)

// SignInRequest is a username and password from a client.
type SignInRequest struct {
	Username     string
	Password     string
	RememberMe   bool   // trust this device for TrustedDeviceLifetime
	DeviceSecret string // the trusted-device cookie, "" if none
	IP           string // the client address, for limits and the login record
	UserAgent    string
	// SecondFactor asks a user with TFA for it even on a trusted
	// device: an application requires it (stepup.go).
	SecondFactor bool
}

// TFASignInRequest answers a login challenge with a second factor.
type TFASignInRequest struct {
	Challenge string
	Code      string // a 6-digit TOTP code or a scratch code
	IP        string
	UserAgent string
}

// SignInResult is either a session or a request for the second factor.
type SignInResult struct {
	User          User
	Session       Token  // the new session token (Kind session, scopes *)
	SessionSecret string // the raw session token, shown once
	// DeviceSecret is set when this sign-in trusted the device: the value
	// of the device cookie, valid until DeviceExpiry.
	DeviceSecret string
	DeviceExpiry time.Time

	TFARequired     bool
	Challenge       string // the login challenge to answer with POST /auth/login/tfa
	ChallengeExpiry time.Time
}

// errBadCredentials is the one answer to a wrong username or password:
// it never says which.
func errBadCredentials() error {
	return &Error{Kind: KindUnauthorized, Reason: "Invalid username or password"}
}

func errBadCode() error {
	return &Error{Kind: KindUnauthorized, Field: "code",
		Reason: "Invalid code: enter the current 6-digit code from your authenticator app, or an unused scratch code"}
}

func errBadChallenge() error {
	return &Error{Kind: KindUnauthorized, Field: "challenge",
		Reason: "The sign-in challenge is unknown, used or expired: sign in with your password again"}
}

// clean makes client-supplied text storable and bounded: valid UTF-8,
// no NUL, at most n bytes.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// limitKeys are the rate-limit counters of one sign-in: by the typed
// username, lowercased (whether or not it exists, so limits say nothing
// about existence), and by client address.
type limitKeys struct{ accountFail, accountLock, addressFail, addressLock string }

func keysFor(username, ip string) limitKeys {
	name := clean(strings.ToLower(username), maxUsernameInput)
	k := limitKeys{accountFail: "signin-fail:user:" + name, accountLock: "signin-lock:user:" + name}
	if ip != "" {
		k.addressFail, k.addressLock = "signin-fail:ip:"+ip, "signin-lock:ip:"+ip
	}
	return k
}

// limitCounters are the failure counter and the lockout of the account
// and of the address, with the failures each may have for free.
func (k limitKeys) counters() []struct {
	fail, lock string
	free       int
} {
	out := []struct {
		fail, lock string
		free       int
	}{{k.accountFail, k.accountLock, accountFreeFailures}}
	if k.addressFail != "" {
		out = append(out, struct {
			fail, lock string
			free       int
		}{k.addressFail, k.addressLock, addressFreeFailures})
	}
	return out
}

// reservation is an attempt counted as a failure before it is judged.
type reservation struct {
	keys limitKeys
	// lockedAccount, lockedAddress: this attempt was the one that locked
	// the account or the address, so if it does not fail, the lock goes
	// with the failure it was counted as.
	lockedAccount, lockedAddress bool
}

// reserveSignIn counts the attempt as a failure of the account and of the
// address before anything is judged, in one transaction, and refuses it
// (counting nothing) while either is locked out. The failure that goes
// past the free ones locks, and is still judged; so N guesses sent at once
// are judged no more often than N sent one after another: the free ones
// and the one that locks. The counters are rows: HitLimit's upsert takes
// the row's lock, so concurrent attempts on any replica queue on it, and
// the lockout read after it sees what the attempt before committed.
// succeed gives the reservation back.
func (s *Service) reserveSignIn(ctx context.Context, k limitKeys) (reservation, error) {
	now := s.now()
	res := reservation{keys: k}
	var wait time.Duration
	err := s.store.Update(ctx, func(tx Tx) error {
		res.lockedAccount, res.lockedAddress = false, false
		wait = 0
		for _, c := range k.counters() {
			n, _, err := tx.HitLimit(ctx, c.fail, failureWindow, now)
			if err != nil {
				return err
			}
			locked, until, err := tx.PeekLimit(ctx, c.lock, now)
			if err != nil {
				return err
			}
			if locked > 0 {
				wait = max(wait, until.Sub(now))
				continue
			}
			if n > c.free {
				if err := tx.ResetLimit(ctx, c.lock); err != nil {
					return err
				}
				if _, _, err := tx.HitLimit(ctx, c.lock, lockout(n-c.free), now); err != nil {
					return err
				}
				res.lockedAccount = res.lockedAccount || c.lock == k.accountLock
				res.lockedAddress = res.lockedAddress || c.lock == k.addressLock
			}
		}
		if wait > 0 {
			return errLockedOut(wait) // and nothing of this attempt is kept
		}
		return nil
	})
	if err != nil && AsError(err) == nil {
		return res, fmt.Errorf("rate limit: %w", err)
	}
	return res, err
}

func errLockedOut(wait time.Duration) *Error {
	e := TooManyRequests(max(wait, time.Second))
	e.Reason = "Too many failed sign-in attempts: try again later"
	return e
}

// lockout is how long the n-th failure beyond the free ones locks.
func lockout(n int) time.Duration {
	d := firstLockout
	for i := 1; i < n && d < maxLockout; i++ {
		d *= 2
	}
	return min(d, maxLockout)
}

// failSignIn records the failed Login of a known user (u.ID != 0); the
// failure itself was counted by reserveSignIn.
func (s *Service) failSignIn(ctx context.Context, u User, ip string, e Event) error {
	if u.ID == 0 && !s.outbox {
		// No such user and nothing to queue: no transaction to pay for.
		s.emit(ctx, e)
		return nil
	}
	l := Login{UserID: u.ID, AccountID: u.AccountID, Datetime: s.clock(), IP: ip, Username: u.Username, Status: LoginFailed, Restricted: u.Restricted}
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		note(e)
		if u.ID == 0 {
			return nil // no such user: no login to record, but the event
		}
		return notFound(tx.CreateLogin(ctx, &l), "record login")
	})
}

// succeed gives back, inside tx, what reserveSignIn counted for an attempt
// that signed in: the account's failures are forgotten, and the address's
// reserved failure is refunded, with the lock it may have set. The
// address's other failures age out on their own: one good account behind
// an address must not clear the count of guesses made from it against
// others.
func (r reservation) succeed(ctx context.Context, tx Tx, now time.Time) error {
	if err := tx.ResetLimit(ctx, r.keys.accountFail); err != nil {
		return err
	}
	if err := tx.ResetLimit(ctx, r.keys.accountLock); err != nil {
		return err
	}
	return r.refundAddress(ctx, tx, now)
}

// refund gives back, inside tx, the failure reserveSignIn counted for an
// attempt that did not fail but did not sign in either (a right password
// that a second factor must follow): the account's earlier failures stay,
// so that guesses of the second factor keep adding up.
func (r reservation) refund(ctx context.Context, tx Tx, now time.Time) error {
	if err := tx.RefundLimit(ctx, r.keys.accountFail, now); err != nil {
		return err
	}
	if r.lockedAccount {
		if err := tx.ResetLimit(ctx, r.keys.accountLock); err != nil {
			return err
		}
	}
	return r.refundAddress(ctx, tx, now)
}

func (r reservation) refundAddress(ctx context.Context, tx Tx, now time.Time) error {
	if r.keys.addressFail == "" {
		return nil
	}
	if err := tx.RefundLimit(ctx, r.keys.addressFail, now); err != nil {
		return err
	}
	if r.lockedAddress {
		return tx.ResetLimit(ctx, r.keys.addressLock)
	}
	return nil
}

// SignIn checks a username and password. It answers a session, or, for a
// user with two-factor authentication on a device that is not trusted, a
// login challenge to answer with SignInTFA. A wrong username and a wrong
// password get the same answer in about the same time.
func (s *Service) SignIn(ctx context.Context, in SignInRequest) (SignInResult, error) {
	if in.Username == "" {
		return SignInResult{}, Invalid("username", "username is required")
	}
	if len(in.Username) > maxUsernameInput {
		return SignInResult{}, Invalid("username", "username must be at most %d characters", maxUsernameInput)
	}
	if in.Password == "" {
		return SignInResult{}, Invalid("password", "password is required")
	}
	if len(in.Password) > maxPasswordBytes {
		return SignInResult{}, Invalid("password", "password must be at most %d characters", MaxPasswordLength)
	}
	in.IP, in.UserAgent = clean(in.IP, maxIPLength), clean(in.UserAgent, maxUserAgent)
	resv, err := s.reserveSignIn(ctx, keysFor(in.Username, in.IP))
	if err != nil {
		if KindOf(err) == KindTooManyRequests {
			// Logged, not queued: a refusal writes nothing, so that
			// guesses at a locked account cost the database nothing (the
			// failures that set the lock were queued, and are bounded by it).
			s.emit(ctx, Event{Name: EventSignInLocked, Username: in.Username})
		}
		return SignInResult{}, err
	}
	u, err := s.store.UserByUsername(ctx, in.Username)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return SignInResult{}, fmt.Errorf("sign in: %w", err)
	}
	// For an unknown user u.ID is 0, which has no password: VerifyPassword
	// then compares with a dummy hash, taking the same time.
	ok, err := s.VerifyPassword(ctx, u.ID, in.Password)
	if err != nil {
		// Not judged (the server was busy, the client went away): the
		// attempt is given back, even if the request's context is over.
		rctx := context.WithoutCancel(ctx)
		if rerr := s.store.Update(rctx, func(tx Tx) error { return resv.refund(rctx, tx, s.now()) }); rerr != nil {
			return SignInResult{}, errors.Join(err, rerr)
		}
		return SignInResult{}, err
	}
	if !ok {
		name := u.Username
		if u.ID == 0 {
			name = in.Username // who was tried: there is no such user
		}
		if err := s.failSignIn(ctx, u, in.IP, Event{Name: EventSignInFailed, UserID: u.ID, Username: name, Detail: "password"}); err != nil {
			return SignInResult{}, err
		}
		return SignInResult{}, errBadCredentials()
	}
	if u.Disabled {
		// The right password, for a user the operator disabled.
		if err := s.store.Update(ctx, func(tx Tx) error { return resv.refund(ctx, tx, s.now()) }); err != nil {
			return SignInResult{}, err
		}
		return SignInResult{}, errDisabled
	}
	var trusted Device
	if u.TwoFactorAuth && in.DeviceSecret != "" && len(in.DeviceSecret) <= 128 && !in.SecondFactor {
		d, err := s.store.DeviceBySecret(ctx, u.ID, HashToken(in.DeviceSecret))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return SignInResult{}, fmt.Errorf("sign in: trusted device: %w", err)
		}
		if err == nil && s.now().Before(d.Expiry) {
			trusted = d
		}
	}
	if u.TwoFactorAuth && trusted.ID == 0 {
		// The password was right: the second factor is judged apart.
		if err := s.store.Update(ctx, func(tx Tx) error { return resv.refund(ctx, tx, s.now()) }); err != nil {
			return SignInResult{}, err
		}
		return s.newChallenge(ctx, u, in)
	}
	return s.completeSignIn(ctx, u, resv, AuthPassword, in.RememberMe && trusted.ID == 0, trusted, in.IP, in.UserAgent)
}

// errDisabled is the answer to a disabled user's sign-in.
var errDisabled = &Error{Kind: KindForbidden, Reason: "This user is disabled: ask the operator of profiled to enable it (profiled users enable)"}

func (s *Service) newChallenge(ctx context.Context, u User, in SignInRequest) (SignInResult, error) {
	raw, err := s.newSecret(tokenBytes)
	if err != nil {
		return SignInResult{}, err
	}
	now := s.clock()
	c := LoginChallenge{Hash: HashToken(raw), UserID: u.ID, Remember: in.RememberMe, Created: now,
		Expiry: now.Add(LoginChallengeLifetime), IP: in.IP, UserAgent: in.UserAgent}
	err = s.store.Update(ctx, func(tx Tx) error {
		return notFound(tx.CreateLoginChallenge(ctx, c), "create login challenge")
	})
	if err != nil {
		return SignInResult{}, err
	}
	return SignInResult{User: u, TFARequired: true, Challenge: raw, ChallengeExpiry: c.Expiry}, nil
}

// SignInTFA answers a login challenge with a TOTP code (each time step is
// accepted once) or a scratch code (each works once).
func (s *Service) SignInTFA(ctx context.Context, in TFASignInRequest) (SignInResult, error) {
	if in.Challenge == "" {
		return SignInResult{}, Invalid("challenge", "challenge is required: it is what POST /auth/login answered")
	}
	code := secondFactorCode(in.Code)
	if code == "" {
		return SignInResult{}, errCodeRequired()
	}
	if len(in.Challenge) > 128 {
		return SignInResult{}, errBadChallenge()
	}
	if len(code) > 64 {
		return SignInResult{}, errCodeTooLong()
	}
	in.IP, in.UserAgent = clean(in.IP, maxIPLength), clean(in.UserAgent, maxUserAgent)
	hash := HashToken(in.Challenge)
	c, err := s.store.LoginChallenge(ctx, hash)
	if errors.Is(err, ErrNotFound) || (err == nil && !s.now().Before(c.Expiry)) {
		return SignInResult{}, errBadChallenge()
	}
	if err != nil {
		return SignInResult{}, fmt.Errorf("login challenge: %w", err)
	}
	u, err := s.store.UserByID(ctx, c.UserID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return SignInResult{}, errBadChallenge()
		}
		return SignInResult{}, fmt.Errorf("login challenge: %w", err)
	}
	resv, err := s.reserveSignIn(ctx, keysFor(u.Username, in.IP))
	if err != nil {
		if KindOf(err) == KindTooManyRequests {
			// Logged, not queued: a refusal writes nothing, so that
			// guesses at a locked account cost the database nothing (the
			// failures that set the lock were queued, and are bounded by it).
			s.emit(ctx, Event{Name: EventSignInLocked, UserID: u.ID, Username: u.Username})
		}
		return SignInResult{}, err
	}
	now := s.now()
	var wrong bool
	err = s.store.Update(ctx, func(tx Tx) error {
		// A wrong code commits, with the failure reserved for it.
		if ok, err := s.lockedSecondFactor(ctx, tx, u.ID, code, now); err != nil || !ok {
			wrong = err == nil
			return err
		}
		if err := tx.DeleteLoginChallenge(ctx, hash); err != nil {
			if errors.Is(err, ErrNotFound) {
				return errBadChallenge() // used concurrently
			}
			return err
		}
		return nil
	})
	if err != nil {
		return SignInResult{}, err
	}
	if wrong {
		return SignInResult{}, s.wrongSecondFactor(ctx, u, in.IP)
	}
	return s.completeSignIn(ctx, u, resv, AuthPasswordAndOneTime, c.Remember, Device{}, in.IP, in.UserAgent)
}

// errCodeRequired and errCodeTooLong refuse a second factor typed
// empty, or longer than any code.
func errCodeRequired() error {
	return Invalid("code", "code is required: a 6-digit code from your authenticator app, or a scratch code")
}

func errCodeTooLong() error {
	return Invalid("code", "code must be a 6-digit code or a 16-character scratch code")
}

// wrongSecondFactor records the failed Login of a wrong second factor
// of u (its failure was reserved and committed) and answers it.
func (s *Service) wrongSecondFactor(ctx context.Context, u User, ip string) error {
	if err := s.failSignIn(ctx, u, ip, Event{Name: EventSignInFailed, UserID: u.ID, Username: u.Username, Detail: "second factor"}); err != nil {
		return err
	}
	return errBadCode()
}

// codeSeparators are what people type inside a code ("123 456",
// "ABCD-EFGH"); a Replacer is safe for concurrent use.
var codeSeparators = strings.NewReplacer(" ", "", "-", "")

// secondFactorCode is a TOTP or scratch code as typed, without its
// separators, in upper case as scratch codes are made.
func secondFactorCode(typed string) string {
	return strings.ToUpper(codeSeparators.Replace(typed))
}

// lockedSecondFactor takes the user's row lock for the rest of tx, so
// that two guesses of one code take turns, then checks the code
// (useSecondFactor).
func (s *Service) lockedSecondFactor(ctx context.Context, tx Tx, userID int64, code string, now time.Time) (bool, error) {
	if _, err := tx.LockUser(ctx, userID); err != nil {
		return false, notFound(err, "lock user")
	}
	return s.useSecondFactor(ctx, tx, userID, code, now)
}

// useSecondFactor checks code as a TOTP code (recording its step) or a
// scratch code (using it up), inside tx.
func (s *Service) useSecondFactor(ctx context.Context, tx Tx, userID int64, code string, now time.Time) (bool, error) {
	if len(code) == 6 && strings.Trim(code, "0123456789") == "" {
		st, err := tx.TFA(ctx, userID)
		if err != nil {
			return false, notFound(err, "tfa state")
		}
		if st.SecretEnc == nil {
			return false, nil
		}
		secret, err := s.box.Open(st.SecretEnc, tfaAD(userID, "tfa"))
		if err != nil {
			return false, err
		}
		step, ok := matchTOTP(string(secret), code, now, st.LastStep)
		if !ok {
			return false, nil
		}
		st.LastStep = step
		return true, tx.SetTFA(ctx, userID, st)
	}
	err := tx.UseScratchCode(ctx, userID, HashToken(code))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// signedInFrom reports whether the user ever signed in from ip: a sign-in
// from a new address (not through a trusted device) tells the user by mail.
func (s *Service) signedInFrom(ctx context.Context, tx Tx, userID int64, ip string) (bool, error) {
	f := AllOf(ptrTo(Match("ip", OpEq, ip)), ptrTo(Match("status", OpEq, LoginSuccessful)))
	_, n, err := tx.ListLogins(ctx, userID, ListQuery{Page: 1, PageSize: 1, Filter: f})
	if err != nil {
		return false, notFound(err, "earlier sign-ins")
	}
	return n > 0, nil
}

func ptrTo[T any](v T) *T { return &v }

// completeSignIn issues the session, signed in by methods, records the
// Login, trusts or touches the device, and forgets the account's failures.
func (s *Service) completeSignIn(ctx context.Context, u User, resv reservation, methods AuthMethods, remember bool, trusted Device, ip, ua string) (SignInResult, error) {
	raw, err := s.newSecret(tokenBytes)
	if err != nil {
		return SignInResult{}, err
	}
	now := s.clock()
	exp := now.Add(SessionLifetime)
	res := SignInResult{User: u, SessionSecret: raw}
	res.Session = Token{UserID: u.ID, Kind: TokenSession, Label: sessionLabel, Scopes: AllScopes, Created: now,
		Expiry: &exp, Prefix: raw[:TokenPrefixLength], Hash: HashToken(raw), AuthMethods: methods}
	var device Device
	if remember {
		if res.DeviceSecret, err = s.newSecret(tokenBytes); err != nil {
			return SignInResult{}, err
		}
		device = Device{UserID: u.ID, Created: now, Expiry: now.Add(TrustedDeviceLifetime), LastAuthenticated: now,
			LastRemoteAddr: ip, UserAgent: ua}
		res.DeviceExpiry = device.Expiry
	}
	detail := ""
	if trusted.ID != 0 {
		detail = "trusted device" // the second factor was skipped
	}
	err = s.update(ctx, func(tx Tx, note func(Event)) error {
		if err := tx.CreateToken(ctx, &res.Session); err != nil {
			return notFound(err, "create session")
		}
		note(Event{Name: EventSignInSucceeded, UserID: u.ID, Username: u.Username, Detail: detail})
		if trusted.ID == 0 && ip != "" {
			seen, err := s.signedInFrom(ctx, tx, u.ID, ip)
			if err != nil {
				return err
			}
			if !seen {
				note(Event{Name: EventSignInNewAddress, UserID: u.ID, Username: u.Username, Detail: ip, AccountID: u.AccountID})
			}
		}
		l := Login{UserID: u.ID, AccountID: u.AccountID, Datetime: now, IP: ip, Username: u.Username, Status: LoginSuccessful, Restricted: u.Restricted}
		if err := tx.CreateLogin(ctx, &l); err != nil {
			return notFound(err, "record login")
		}
		switch {
		case trusted.ID != 0:
			if err := tx.TouchDevice(ctx, u.ID, trusted.ID, now, ip, ua); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		case remember:
			if err := tx.CreateTrustedDevice(ctx, &device, HashToken(res.DeviceSecret)); err != nil {
				return notFound(err, "trust device")
			}
		}
		return resv.succeed(ctx, tx, s.now())
	})
	if err != nil {
		return SignInResult{}, err
	}
	return res, nil
}

// SignOut ends the session the actor signed in with, and tells the
// relying parties it signed in to (logout.go).
func (s *Service) SignOut(ctx context.Context, a Actor) error {
	if a.Token.Kind != TokenSession {
		return Invalid("", "Only a sign-in session can sign out; revoke personal access tokens with DELETE /v4/profile/tokens/{tokenId}")
	}
	return s.store.Update(ctx, func(tx Tx) error {
		return notFound(s.endSession(ctx, tx, a.Token), "sign out")
	})
}

// ScratchCodesLeft is how many unused scratch codes the actor has.
func (s *Service) ScratchCodesLeft(ctx context.Context, a Actor) (int, error) {
	if err := mustRead(a); err != nil {
		return 0, err
	}
	if err := s.stepUp(ctx, a); err != nil {
		return 0, err
	}
	codes, err := s.store.ScratchCodes(ctx, a.User.ID)
	if err != nil {
		return 0, notFound(err, "scratch codes")
	}
	return len(codes), nil
}

// RegenerateScratchCodes replaces the actor's scratch codes with
// ScratchCodeCount new ones, returned once and stored only as hashes.
func (s *Service) RegenerateScratchCodes(ctx context.Context, a Actor) ([]string, error) {
	if err := mustWrite(a); err != nil {
		return nil, err
	}
	if err := s.stepUp(ctx, a); err != nil {
		return nil, err
	}
	codes := make([]string, ScratchCodeCount)
	hashes := make([][]byte, ScratchCodeCount)
	for i := range codes {
		b, err := s.random(scratchBytes)
		if err != nil {
			return nil, err
		}
		codes[i] = b32.EncodeToString(b)
		hashes[i] = HashToken(codes[i])
	}
	err := s.update(ctx, func(tx Tx, note func(Event)) error {
		u, err := lockUser(ctx, tx, a.User.ID)
		if err != nil {
			return err
		}
		if !u.TwoFactorAuth {
			return Conflict("", "Two-factor authentication is not enabled: scratch codes come with it")
		}
		note(eventOf(EventScratchCodes, a, ""))
		return tx.SetScratchCodes(ctx, a.User.ID, hashes)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}
