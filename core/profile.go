package core

import (
	"context"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // timezone names validate the same on every machine

	"golang.org/x/crypto/ssh"
)

// Referrals is the referral-program summary shown on a profile. profiled has
// no billing, so only the code and URL are ever non-zero.
type Referrals struct {
	Code      string
	URL       string
	Total     int
	Completed int
	Pending   int
	Credit    float64
}

// ReferralsOf derives a user's referral summary.
func ReferralsOf(u User) Referrals {
	return Referrals{Code: u.ReferralCode, URL: "https://www.linode.com/?r=" + u.ReferralCode}
}

// Profile returns the actor's own user. Any valid token may read it.
func (s *Service) Profile(ctx context.Context, a Actor) (User, error) {
	if err := anyLinodeScope(a); err != nil {
		return User{}, err
	}
	u, err := s.store.UserByID(ctx, a.User.ID)
	return u, notFound(err, "profile")
}

// Me is the actor's user as Authenticate read it, for GET /profile, which
// any token of the Linode API may read: the user was read in the same
// indexed lookup as the token, moments ago in this request, and reading it
// again doubled the database work of the most called endpoint. A token
// with only preferences scopes (the PACE User API's) may not.
func (a Actor) Profile() (User, error) {
	if err := anyLinodeScope(a); err != nil {
		return User{}, err
	}
	return a.User, nil
}

// anyLinodeScope is the check of the operations the Linode spec opens to
// any token (oauth: []): any token of the Linode API, that is.
func anyLinodeScope(a Actor) error {
	if a.Token.Scopes.AnyLinode() {
		return nil
	}
	// As require answers a missing scope (the Linode face's 401).
	return &Error{Kind: KindForbidden, Required: Scope("account", ReadOnly),
		Reason: "Your OAuth token is not authorized to use this endpoint. It has only preferences scopes; it needs a scope of the Linode API, such as account:read_only."}
}

// ProfileUpdate is a partial update of a profile: nil fields stay as they
// are. The read-only fields are here because clients (linodego) send the
// whole object back: each is accepted when it equals the current value and
// refused, naming the field, when it would change.
type ProfileUpdate struct {
	Email              *string
	Timezone           *string
	EmailNotifications *bool
	LishAuthMethod     *string
	AuthorizedKeys     *[]string // a pointer to nil clears the list
	IPWhitelistEnabled *bool

	// Read-only: sent back unchanged or refused.
	UID                 *int64
	Username            *string
	Restricted          *bool
	TwoFactorAuth       *bool
	AuthenticationType  *string
	VerifiedPhoneNumber *string // "" for null
	UserType            *string
	Referrals           *Referrals
}

// Validation limits for profile fields.
const (
	maxEmailLength = 128
	maxKeyLength   = 16 * 1024
)

// unchanged reports that an update sends back the value stored. Such a
// value is not checked again: it was taken under the rules of its day,
// which may have been looser, and real clients send whole objects back
// (linodego's Profile.GetUpdateOptions, Terraform's linode_user), so an
// update of anything else must not fail on it.
func unchanged(sent, stored string) bool { return sent == stored }

// ValidateEmail is the one email rule of every face.
func ValidateEmail(field, email string) error {
	if email == "" {
		return Invalid(field, "email is required")
	}
	if len(email) > maxEmailLength {
		return Invalid(field, "email must be at most %d characters", maxEmailLength)
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return Invalid(field, "email must be a valid address, like user@example.com")
	}
	// The real API's own shape of an address, as Cloud Manager repeats
	// it (@linode/validation's EMAIL_VALIDATION_REGEX), within what
	// net/mail parses: ASCII, a domain with a dot, no "..", neither the
	// address nor its domain beginning with '-'.
	if !emailShape.MatchString(email) || strings.HasPrefix(email, "-") || strings.Contains(email, "..") || strings.Contains(email, "@-") {
		return Invalid(field, "email must be a valid address, like user@example.com")
	}
	return nil
}

var emailShape = regexp.MustCompile(`^[a-zA-Z0-9_.+"-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9.-]*[a-zA-Z0-9]$`)

// ValidateTimezone accepts IANA zone names such as US/Eastern or Europe/Paris.
func ValidateTimezone(field, tz string) error {
	if tz == "" || tz == "Local" || len(tz) > 64 || strings.Contains(tz, "..") {
		return Invalid(field, "timezone must be an IANA time zone name, like US/Eastern or Europe/Berlin")
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return Invalid(field, "timezone must be an IANA time zone name, like US/Eastern or Europe/Berlin")
	}
	return nil
}

// UpdateProfile applies a partial update to the actor's profile.
func (s *Service) UpdateProfile(ctx context.Context, a Actor, in ProfileUpdate) (User, error) {
	if err := mustWrite(a); err != nil {
		return User{}, err
	}
	if in.Email != nil && *in.Email != a.User.Email {
		// The address receives what recovers an account.
		if err := s.stepUp(ctx, a); err != nil {
			return User{}, err
		}
	}
	var out User
	err := s.update(ctx, func(tx Tx, note func(Event)) error {
		u, err := lockUser(ctx, tx, a.User.ID)
		if err != nil {
			return err
		}
		old := u.Email
		if err := applyProfileUpdate(&u, in); err != nil {
			return err
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return notFound(err, "update user")
		}
		if u.Email != old {
			if err := s.emailChanged(ctx, tx, u, old, note); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	return out, err
}

func applyProfileUpdate(u *User, in ProfileUpdate) error {
	readOnly := func(field string, same bool) error {
		if same {
			return nil
		}
		return Invalid(field, "%s is read-only and cannot be changed", field)
	}
	if in.UID != nil {
		if err := readOnly("uid", *in.UID == u.ID); err != nil {
			return err
		}
	}
	if in.Username != nil {
		if err := readOnly("username", *in.Username == u.Username); err != nil {
			return err
		}
	}
	if in.Restricted != nil {
		if err := readOnly("restricted", *in.Restricted == u.Restricted); err != nil {
			return err
		}
	}
	if in.AuthenticationType != nil {
		if err := readOnly("authentication_type", *in.AuthenticationType == u.AuthenticationType); err != nil {
			return err
		}
	}
	if in.VerifiedPhoneNumber != nil {
		if err := readOnly("verified_phone_number", *in.VerifiedPhoneNumber == u.VerifiedPhoneNumber); err != nil {
			return err
		}
	}
	if in.UserType != nil {
		if err := readOnly("user_type", *in.UserType == "default"); err != nil {
			return err
		}
	}
	if in.Referrals != nil {
		if err := readOnly("referrals", *in.Referrals == ReferralsOf(*u)); err != nil {
			return err
		}
	}
	if in.TwoFactorAuth != nil && *in.TwoFactorAuth != u.TwoFactorAuth {
		return Invalid("two_factor_auth", "two_factor_auth cannot be set directly: turn it on with POST /profile/tfa-enable and tfa-enable-confirm, off with POST /profile/tfa-disable")
	}
	if in.IPWhitelistEnabled != nil && *in.IPWhitelistEnabled != u.IPWhitelistEnabled {
		if *in.IPWhitelistEnabled {
			return Invalid("ip_whitelist_enabled", "ip_whitelist_enabled is deprecated and cannot be enabled")
		}
		u.IPWhitelistEnabled = false
	}
	if in.Email != nil && !unchanged(*in.Email, u.Email) {
		if err := ValidateEmail("email", *in.Email); err != nil {
			return err
		}
		u.Email = *in.Email
	}
	if in.Timezone != nil {
		if err := ValidateTimezone("timezone", *in.Timezone); err != nil {
			return err
		}
		u.Timezone = *in.Timezone
	}
	if in.EmailNotifications != nil {
		u.EmailNotifications = *in.EmailNotifications
	}
	if in.LishAuthMethod != nil {
		m := *in.LishAuthMethod
		if m != LishPasswordKeys && m != LishKeysOnly && m != LishDisabled {
			return Invalid("lish_auth_method", "lish_auth_method must be one of password_keys, keys_only, disabled")
		}
		if m == LishPasswordKeys && u.AuthenticationType != "password" {
			return Invalid("lish_auth_method", "password_keys is not allowed for a user who signs in with %s; use keys_only or disabled", u.AuthenticationType)
		}
		u.LishAuthMethod = m
	}
	if in.AuthorizedKeys != nil {
		keys := *in.AuthorizedKeys
		if len(keys) > 100 {
			return Invalid("authorized_keys", "at most 100 authorized keys are allowed")
		}
		for i, k := range keys {
			if _, err := parseSSHKey(k); err != nil {
				return Invalid("authorized_keys", "authorized_keys[%d] is not a valid SSH public key", i)
			}
		}
		u.AuthorizedKeys = slices.Clone(keys)
		if u.AuthorizedKeys == nil {
			u.AuthorizedKeys = []string{}
		}
	}
	return nil
}

// allowedKeyTypes are the key types the Linode spec lists, including the
// security-key variants.
var allowedKeyTypes = map[string]bool{
	ssh.KeyAlgoDSA: true, ssh.KeyAlgoRSA: true, ssh.KeyAlgoED25519: true,
	ssh.KeyAlgoECDSA256: true, ssh.KeyAlgoECDSA384: true, ssh.KeyAlgoECDSA521: true,
	ssh.KeyAlgoSKECDSA256: true, ssh.KeyAlgoSKED25519: true,
}

// parseSSHKey parses an authorized_keys line (type, base64, optional comment).
func parseSSHKey(line string) (ssh.PublicKey, error) {
	// A key pasted from a .pub file ends in a newline: that one is forgiven.
	line = strings.TrimRight(line, "\r\n")
	if len(line) > maxKeyLength || strings.ContainsAny(line, "\r\n\x00") {
		return nil, errBadKey
	}
	pub, _, options, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil || len(options) > 0 || len(rest) > 0 {
		return nil, errBadKey
	}
	if !allowedKeyTypes[pub.Type()] {
		return nil, errBadKey
	}
	return pub, nil
}

var errBadKey = Invalid("ssh_key", "ssh_key must be a valid public key (ssh-rsa, ssh-dss, ssh-ed25519, ecdsa-sha2-nistp*, sk-ecdsa-sha2-nistp256 or sk-ssh-ed25519)")
