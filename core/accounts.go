package core

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/profiled/profiled/picture"
)

// This file holds the rules of accounts (docs/accounts.md): the Linode
// /account/users family, grants, logins, the account's contact and
// settings. Every method acts on the actor's own account: another
// account's users, logins and clients are absent (NotFound), never
// forbidden.

// AccountUser is a user as the account's managers see it.
type AccountUser struct {
	User    User
	Summary UserSummary
}

// AccountUserFields are the fields /account/users may filter and order on.
var AccountUserFields = Fields{"username": FieldString, "email": FieldString, "restricted": FieldBool,
	"tfa_enabled": FieldBool, "verified_phone_number": FieldString}

// errRestrictedManager is the answer to a restricted user at any of the
// account's management endpoints, as the Linode API says it.
var errRestrictedManager = &Error{Kind: KindForbidden,
	Reason: "Unauthorized: a restricted user can never manage the account's users, logins or OAuth clients, even with read-write grants; ask an unrestricted user of the account"}

// manage checks that the actor may read (or, with write, change) what its
// account holds: an unrestricted user with the account scope.
func manage(a Actor, write bool) error {
	check := mustRead
	if write {
		check = mustWrite
	}
	if err := check(a); err != nil {
		return err
	}
	if a.User.Restricted {
		return errRestrictedManager
	}
	return nil
}

// accountUser finds a user of the actor's account by name.
func accountUser(ctx context.Context, r Reader, a Actor, username string) (User, error) {
	if username == "" || len(username) > 64 {
		return User{}, NotFound()
	}
	u, err := r.AccountUser(ctx, a.User.AccountID, username)
	return u, notFound(err, "find user")
}

func (s *Service) summarize(ctx context.Context, u User) (AccountUser, error) {
	sum, err := s.store.UserSummary(ctx, u.ID)
	return AccountUser{User: u, Summary: sum}, notFound(err, "summarize user")
}

// AccountUsers lists the users of the actor's account.
func (s *Service) AccountUsers(ctx context.Context, a Actor, q ListQuery) (Page[AccountUser], error) {
	if err := manage(a, false); err != nil {
		return Page[AccountUser]{}, err
	}
	users, n, err := s.store.ListAccountUsers(ctx, a.User.AccountID, q)
	if err != nil {
		return Page[AccountUser]{}, notFound(err, "list users")
	}
	out := make([]AccountUser, len(users))
	for i, u := range users {
		if out[i], err = s.summarize(ctx, u); err != nil {
			return Page[AccountUser]{}, err
		}
	}
	return Page[AccountUser]{Data: out, Page: q.Page, PageSize: q.PageSize, Results: n}, nil
}

// AccountUser returns one user of the actor's account.
func (s *Service) AccountUser(ctx context.Context, a Actor, username string) (AccountUser, error) {
	if err := manage(a, false); err != nil {
		return AccountUser{}, err
	}
	u, err := accountUser(ctx, s.store, a, username)
	if err != nil {
		return AccountUser{}, err
	}
	return s.summarize(ctx, u)
}

// CreateAccountUser adds a user to the actor's account. The new user has
// no password: with mail on, they are mailed an invitation whose link (7
// days) sets one; otherwise an operator or a recovery mail does.
func (s *Service) CreateAccountUser(ctx context.Context, a Actor, in UserCreate) (AccountUser, error) {
	if err := manage(a, true); err != nil {
		return AccountUser{}, err
	}
	in.AccountID, in.InvitedBy = a.User.AccountID, a.User.Username
	u, err := s.createUser(ctx, in, true)
	if err != nil {
		return AccountUser{}, s.overQuota(ctx, err, QuotaAccountUsers, a)
	}
	return s.summarize(ctx, u)
}

// AccountUserUpdate is a partial update of a user: nil fields stay.
type AccountUserUpdate struct {
	Username   *string
	Email      *string
	Restricted *bool
}

// UpdateAccountUser renames a user, changes their email or whether they
// are restricted. The user's tokens keep working under the new name. The
// last unrestricted user of the account cannot be restricted.
func (s *Service) UpdateAccountUser(ctx context.Context, a Actor, username string, in AccountUserUpdate) (AccountUser, error) {
	if err := manage(a, true); err != nil {
		return AccountUser{}, err
	}
	var u User
	err := s.update(ctx, func(tx Tx, note func(Event)) error {
		if err := tx.LockAccount(ctx, a.User.AccountID); err != nil {
			return notFound(err, "lock account")
		}
		var err error
		if u, err = accountUser(ctx, tx, a, username); err != nil {
			return err
		}
		if in.Restricted != nil && *in.Restricted && !u.Restricted {
			if err := lastOwner(ctx, tx, u, "restricted", "restricted"); err != nil {
				return err
			}
		}
		// A value sent back unchanged is not checked again (see
		// unchanged).
		if in.Username != nil && !unchanged(*in.Username, u.Username) {
			if err := ValidateUsername("username", *in.Username); err != nil {
				return err
			}
			u.Username = *in.Username
		}
		if in.Email != nil && !unchanged(*in.Email, u.Email) {
			if err := ValidateEmail("email", *in.Email); err != nil {
				return err
			}
			u.Email = *in.Email
		}
		if in.Restricted != nil {
			u.Restricted = *in.Restricted
		}
		err = tx.UpdateUser(ctx, u)
		if errors.Is(err, ErrDuplicate) {
			return Invalid("username", "username %s is taken", u.Username)
		}
		return notFound(err, "update user")
	})
	if err != nil {
		return AccountUser{}, err
	}
	return s.summarize(ctx, u)
}

// lastOwner refuses to take u, an unrestricted user, out of the account's
// owners when u is the last of them.
func lastOwner(ctx context.Context, tx Tx, u User, field, what string) error {
	n, err := tx.CountOwners(ctx, u.AccountID)
	if err != nil {
		return fmt.Errorf("count owners: %w", err)
	}
	if n <= 1 {
		return Invalid(field, "%s is the last unrestricted user of the account and cannot be %s: make another user unrestricted first", u.Username, what)
	}
	return nil
}

// DeleteAccountUser deletes a user of the actor's account and everything
// they own; their tokens are refused from the next request. The last
// unrestricted user cannot be deleted.
func (s *Service) DeleteAccountUser(ctx context.Context, a Actor, username string) error {
	if err := manage(a, true); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		if err := tx.LockAccount(ctx, a.User.AccountID); err != nil {
			return notFound(err, "lock account")
		}
		u, err := accountUser(ctx, tx, a, username)
		if err != nil {
			return err
		}
		if !u.Restricted {
			if err := lastOwner(ctx, tx, u, "username", "deleted"); err != nil {
				return err
			}
		}
		if err := s.deleteUser(ctx, tx, u.ID); err != nil {
			return notFound(err, "delete user")
		}
		note(Event{Name: EventUserDeleted, UserID: u.ID, Username: u.Username, Detail: "by " + a.User.Username, AccountID: u.AccountID})
		return nil
	})
}

// AccountUserGrants returns a user's grants, or nil for an unrestricted
// user, who has access to everything.
func (s *Service) AccountUserGrants(ctx context.Context, a Actor, username string) (Grants, error) {
	if err := manage(a, false); err != nil {
		return nil, err
	}
	u, err := accountUser(ctx, s.store, a, username)
	if err != nil || !u.Restricted {
		return nil, err
	}
	return s.grantsOf(ctx, s.store, u.ID)
}

// grantsOf returns a restricted user's grants, the empty document if none
// were stored.
func (s *Service) grantsOf(ctx context.Context, r Reader, userID int64) (Grants, error) {
	g, err := r.Grants(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return emptyGrants(), nil
	}
	return g, notFound(err, "get grants")
}

// SetAccountUserGrants updates a restricted user's grants with patch, a
// GrantsResponse of which only the parts given change (MergeGrants), and
// returns them: what the user's GET /profile/grants answers from then on.
func (s *Service) SetAccountUserGrants(ctx context.Context, a Actor, username string, patch []byte) (Grants, error) {
	if err := manage(a, true); err != nil {
		return nil, err
	}
	if _, err := parseGrants(patch, true); err != nil {
		return nil, err
	}
	var out Grants
	err := s.update(ctx, func(tx Tx, note func(Event)) error {
		u, err := accountUser(ctx, tx, a, username)
		if err != nil {
			return err
		}
		if !u.Restricted {
			return Invalid("username", "%s is unrestricted and has every grant: restrict the user first (PUT /account/users/%s with restricted: true)", u.Username, u.Username)
		}
		if _, err := tx.LockUser(ctx, u.ID); err != nil {
			return notFound(err, "lock user")
		}
		current, err := s.grantsOf(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if out, err = MergeGrants(current, patch); err != nil {
			return err
		}
		return notFound(tx.SetGrants(ctx, u.ID, out), "set grants")
	})
	return out, err
}

// AccountLogins lists the logins of every user of the actor's account.
func (s *Service) AccountLogins(ctx context.Context, a Actor, q ListQuery) (Page[Login], error) {
	if err := manage(a, false); err != nil {
		return Page[Login]{}, err
	}
	data, n, err := s.store.ListAccountLogins(ctx, a.User.AccountID, s.recentOnly(q, "datetime"))
	return Page[Login]{Data: data, Page: q.Page, PageSize: q.PageSize, Results: n}, notFound(err, "list logins")
}

// AccountLogin returns one login of a user of the actor's account.
func (s *Service) AccountLogin(ctx context.Context, a Actor, id int64) (Login, error) {
	if err := manage(a, false); err != nil {
		return Login{}, err
	}
	return s.recentLogin(s.store.AccountLogin(ctx, a.User.AccountID, id))
}

// Account returns the actor's account. Any user of the account may read
// it, restricted or not.
func (s *Service) Account(ctx context.Context, a Actor) (Account, error) {
	if err := mustRead(a); err != nil {
		return Account{}, err
	}
	acc, err := s.store.Account(ctx, a.User.AccountID)
	return acc, notFound(err, "get account")
}

// createUser adds u; without an account, it makes u's account too, whose
// contact address is u's: an account of the Linode API always has one,
// and the Terraform provider's linode_account_settings takes it for its
// id (an account without one drops out of its state at every plan).
func createUser(ctx context.Context, tx Tx, u *User) error {
	newAccount := u.AccountID == 0
	if err := tx.CreateUser(ctx, u); err != nil || !newAccount || u.Email == "" {
		return err
	}
	acc, err := tx.Account(ctx, u.AccountID)
	if err != nil {
		return fmt.Errorf("read the new account: %w", err)
	}
	acc.Contact.Email = u.Email
	return tx.UpdateAccount(ctx, acc)
}

// contactLimits bound the contact fields of an account, in characters:
// the real API's, as its description states them (maxLength) and Cloud
// Manager checks them before it sends an update (@linode/validation's
// updateAccountSchema); where the two differ (tax_id, zip), the
// description's stricter rule.
// country is an ISO 3166 code of two letters, or empty.
var contactLimits = map[string]int{"first_name": 50, "last_name": 50, "email": 128, "company": 128,
	"address_1": 64, "address_2": 64, "city": 24, "state": 24, "zip": 16, "country": 2, "tax_id": 25, "phone": 32}

// IsContactField reports whether name is a field of the account's
// contact, as the Linode API spells it.
func IsContactField(name string) bool { _, ok := contactLimits[name]; return ok }

// contactNames are the fields that may not hold < > ( ) " or =, and
// zipShape is a zip code: ASCII letters, digits and dashes, at most nine
// of them letters or digits (the description's rules).
var (
	contactNames = map[string]bool{"first_name": true, "last_name": true, "company": true}
	zipShape     = regexp.MustCompile(`^[A-Za-z0-9-]*$`)
)

// AccountUpdate is a partial update of an account: nil contact fields and
// settings stay as they are.
type AccountUpdate struct {
	Contact  map[string]*string // by the Linode field name: first_name, ...
	Settings *AccountSettingsUpdate
}

// AccountSettingsUpdate is a partial update of the account's settings.
type AccountSettingsUpdate struct {
	BackupsEnabled          *bool
	NetworkHelper           *bool
	InterfacesForNewLinodes *string
	MaintenancePolicy       *string
}

// interfacesForNewLinodes and maintenancePolicies are the values the
// Linode API accepts.
var (
	interfacesForNewLinodes = map[string]bool{"legacy_config_only": true, "legacy_config_default_but_linode_allowed": true,
		"linode_default_but_legacy_config_allowed": true, "linode_only": true}
	maintenancePolicies = map[string]bool{"linode/migrate": true, "linode/power_off_on": true}
)

// UpdateAccount changes the actor's account: an unrestricted user's.
func (s *Service) UpdateAccount(ctx context.Context, a Actor, in AccountUpdate) (Account, error) {
	if err := mustWrite(a); err != nil {
		return Account{}, err
	}
	if a.User.Restricted {
		return Account{}, &Error{Kind: KindForbidden, Reason: "Unauthorized: only an unrestricted user may change the account"}
	}
	var acc Account
	err := s.update(ctx, func(tx Tx, note func(Event)) error {
		if err := tx.LockAccount(ctx, a.User.AccountID); err != nil {
			return notFound(err, "lock account")
		}
		var err error
		if acc, err = tx.Account(ctx, a.User.AccountID); err != nil {
			return notFound(err, "get account")
		}
		if err := applyContact(&acc.Contact, in.Contact); err != nil {
			return err
		}
		if in.Settings != nil {
			if err := applySettings(&acc.Settings, *in.Settings); err != nil {
				return err
			}
		}
		return notFound(tx.UpdateAccount(ctx, acc), "update account")
	})
	return acc, err
}

func applyContact(c *AccountContact, in map[string]*string) error {
	fields := map[string]*string{"first_name": &c.FirstName, "last_name": &c.LastName, "email": &c.Email,
		"company": &c.Company, "address_1": &c.Address1, "address_2": &c.Address2, "city": &c.City,
		"state": &c.State, "zip": &c.Zip, "country": &c.Country, "tax_id": &c.TaxID, "phone": &c.Phone}
	for name, v := range in {
		dst, ok := fields[name]
		if !ok {
			return Invalid(name, "%s is not a contact field of the account", name)
		}
		if v == nil {
			continue
		}
		if unchanged(*v, *dst) {
			continue // see unchanged
		}
		n := utf8.RuneCountInString(*v)
		if name == "country" && n != 0 && n != 2 {
			return Invalid(name, "country must be a two-letter country code, like US")
		}
		if n > contactLimits[name] {
			return Invalid(name, "%s must be at most %d characters", name, contactLimits[name])
		}
		if err := checkText(name, *v); err != nil {
			return err
		}
		if contactNames[name] && strings.ContainsAny(*v, `<>()"=`) {
			return Invalid(name, `%s may not contain any of < > ( ) " =`, name)
		}
		if name == "zip" && (!zipShape.MatchString(*v) || len(*v)-strings.Count(*v, "-") > 9) {
			return Invalid(name, "zip may only contain ASCII letters, digits and dashes, at most nine letters or digits")
		}
		if name == "email" {
			if *v == "" {
				return Invalid(name, "email is required: the account's contact address cannot be removed, only changed")
			}
			if err := ValidateEmail(name, *v); err != nil {
				return err
			}
		}
		*dst = *v
	}
	return nil
}

func applySettings(st *AccountSettings, in AccountSettingsUpdate) error {
	if in.InterfacesForNewLinodes != nil && !interfacesForNewLinodes[*in.InterfacesForNewLinodes] {
		return Invalid("interfaces_for_new_linodes", "interfaces_for_new_linodes must be one of legacy_config_only, legacy_config_default_but_linode_allowed, linode_default_but_legacy_config_allowed, linode_only")
	}
	if in.MaintenancePolicy != nil && !maintenancePolicies[*in.MaintenancePolicy] {
		return Invalid("maintenance_policy", "maintenance_policy must be linode/migrate or linode/power_off_on")
	}
	if in.BackupsEnabled != nil {
		st.BackupsEnabled = *in.BackupsEnabled
	}
	if in.NetworkHelper != nil {
		st.NetworkHelper = *in.NetworkHelper
	}
	if in.InterfacesForNewLinodes != nil {
		st.InterfacesForNewLinodes = *in.InterfacesForNewLinodes
	}
	if in.MaintenancePolicy != nil {
		st.MaintenancePolicy = *in.MaintenancePolicy
	}
	return nil
}

// Thumbnail limits: a PNG of at most 1 MiB and 2048 pixels a side.
var thumbnailLimits = picture.Limits{MaxBytes: 1 << 20, MaxSide: 2048}

// checkThumbnail refuses anything but a PNG within thumbnailLimits,
// checked as avatars are, without decoding it.
func checkThumbnail(data []byte) error {
	f, _, err := picture.Check(data, thumbnailLimits)
	if err == nil && f.Name != "PNG" {
		return Invalid("file", "the thumbnail must be a PNG image, not %s", f.Name)
	}
	var pe *picture.Error
	if errors.As(err, &pe) {
		if pe.Problem == picture.TooLarge {
			return &Error{Kind: KindTooLarge, Field: "file", Reason: fmt.Sprintf("the thumbnail must be at most %d bytes", thumbnailLimits.MaxBytes)}
		}
		return Invalid("file", "%s", pe.Reason)
	}
	return err
}
