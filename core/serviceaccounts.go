package core

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ServiceAccountCreate is the input of CreateServiceAccount.
type ServiceAccountCreate struct {
	Name        string // 1 to 64 characters, shown to people
	Description string // at most 500 characters
	Owner       string // the username of the person responsible for it; "" for none
	Scopes      Scopes // of its key; "" is AllScopes
}

// Service accounts are users, with a generated username and an address
// under the reserved .invalid domain (RFC 2606), so that every rule and
// face that expects a user works for them. They have no password, no
// avatar, and cannot sign in with Lish.
const (
	serviceAccountAuth     = "service_account"
	serviceAccountDomain   = "@service-account.invalid"
	serviceAccountKeyLabel = "service account key"
)

func validateServiceText(field, v string, maxLen int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if required && v == "" {
		return "", Invalid(field, "%s is required", field)
	}
	if utf8.RuneCountInString(v) > maxLen {
		return "", Invalid(field, "%s must be at most %d characters", field, maxLen)
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0 {
		return "", Invalid(field, "%s may not contain control characters", field)
	}
	return v, nil
}

// CreateServiceAccount makes a machine identity and its first key, a
// personal access token returned raw, once. It is for operators (the
// command line).
func (s *Service) CreateServiceAccount(ctx context.Context, in ServiceAccountCreate) (Me, string, error) {
	name, err := validateServiceText("name", in.Name, maxServiceName, true)
	if err != nil {
		return Me{}, "", err
	}
	desc, err := validateServiceText("description", in.Description, maxServiceDesc, false)
	if err != nil {
		return Me{}, "", err
	}
	scopes := in.Scopes
	if scopes == "" {
		scopes = AllScopes
	}
	if scopes, err = ParseScopes(string(scopes)); err != nil {
		return Me{}, "", err
	}
	suffix, err := s.newSecret(8)
	if err != nil {
		return Me{}, "", err
	}
	code, err := s.newSecret(20)
	if err != nil {
		return Me{}, "", err
	}
	raw, err := s.newSecret(tokenBytes)
	if err != nil {
		return Me{}, "", err
	}
	now := s.clock()
	username := "sa-" + suffix
	m := Me{User: User{Username: username, Email: username + serviceAccountDomain, Timezone: "UTC",
		EmailNotifications: false, LishAuthMethod: LishDisabled, AuthorizedKeys: []string{},
		AuthenticationType: serviceAccountAuth, ReferralCode: code, Created: now}}
	err = s.store.Update(ctx, func(tx Tx) error {
		var ownerID int64
		if in.Owner != "" {
			owner, err := tx.UserByUsername(ctx, in.Owner)
			if errors.Is(err, ErrNotFound) {
				return Invalid("owner", "no user is named %s", in.Owner)
			} else if err != nil {
				return err
			}
			op, err := tx.IAMProfile(ctx, owner.ID)
			if err != nil {
				return notFound(err, "load owner")
			}
			if op.Kind == UserService {
				return Invalid("owner", "%s is a service account: the owner must be a person", in.Owner)
			}
			// The owner's account; without an owner, one of its own.
			ownerID, m.User.AccountID = owner.ID, owner.AccountID
		}
		if err := tx.CreateUser(ctx, &m.User); err != nil {
			if errors.Is(err, ErrDuplicate) {
				return Conflict("name", "the generated username %s is taken: try again", username)
			}
			return err
		}
		m.Profile = IAMProfile{UserID: m.User.ID, Kind: UserService, Name: name, Description: desc, OwnerID: ownerID}
		if err := tx.PutIAMProfile(ctx, m.Profile); err != nil {
			return notFound(err, "create service account")
		}
		key := Token{UserID: m.User.ID, Kind: TokenPersonal, Label: serviceAccountKeyLabel, Scopes: scopes,
			Created: now, Prefix: raw[:TokenPrefixLength], Hash: HashToken(raw)}
		return notFound(tx.CreateToken(ctx, &key), "create key")
	})
	if err != nil {
		return Me{}, "", err
	}
	m.Profile = m.Profile.withDefaults()
	return m, raw, nil
}
