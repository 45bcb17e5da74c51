package core

import (
	"context"
	"time"
)

// Account holds users. Its unrestricted users manage the account and its
// users; nothing of one account is visible to another.
type Account struct {
	ID       int64
	EUUID    string // the account's public identifier, a UUID
	Created  time.Time
	Contact  AccountContact
	Settings AccountSettings
}

// AccountContact is what the owner sets of the Linode Account object.
// The stores keep it as JSON under these names.
type AccountContact struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Company   string `json:"company"`
	Address1  string `json:"address_1"`
	Address2  string `json:"address_2"`
	City      string `json:"city"`
	State     string `json:"state"`
	Zip       string `json:"zip"`
	Country   string `json:"country"`
	TaxID     string `json:"tax_id"`
	Phone     string `json:"phone"`
}

// AccountSettings are the account-wide defaults of the Linode
// AccountSettings object that the owner sets, kept as JSON.
type AccountSettings struct {
	BackupsEnabled          bool   `json:"backups_enabled"`
	NetworkHelper           bool   `json:"network_helper"`
	InterfacesForNewLinodes string `json:"interfaces_for_new_linodes"`
	MaintenancePolicy       string `json:"maintenance_policy"`
}

// UserSummary is what the Linode User object shows of a user beyond the
// users row: their SSH keys' labels, last login and password's time.
type UserSummary struct {
	SSHKeyLabels    []string
	LastLogin       *Login     // nil: never signed in
	PasswordCreated *time.Time // nil: no password
}

// AccountReader holds the queries of accounts; every one is scoped by the
// account, so another account's rows are absent.
type AccountReader interface {
	AccountEventReader
	MailTokenReader
	Account(ctx context.Context, id int64) (Account, error)
	ListAccountUsers(ctx context.Context, accountID int64, q ListQuery) ([]User, int, error)
	// AccountUser finds a user of the account by name, regardless of case.
	AccountUser(ctx context.Context, accountID int64, username string) (User, error)
	// CountOwners counts the account's unrestricted users.
	CountOwners(ctx context.Context, accountID int64) (int, error)
	UserSummary(ctx context.Context, userID int64) (UserSummary, error)
	ListAccountLogins(ctx context.Context, accountID int64, q ListQuery) ([]Login, int, error)
	AccountLogin(ctx context.Context, accountID, id int64) (Login, error)
	ListOAuthClients(ctx context.Context, accountID int64, q ListQuery) ([]OAuthClient, int, error)
	// UsersAfter returns up to limit users of every account with ids
	// after afterID, in id order (the operator's list).
	UsersAfter(ctx context.Context, afterID int64, limit int) ([]User, error)
	// OAuthClientsAfter returns up to limit OAuth clients, the operator's
	// and every account's, with ids after afterID, in id order.
	OAuthClientsAfter(ctx context.Context, afterID string, limit int) ([]OAuthClient, error)
	// AccountQuotas returns the account's own quotas (SetAccountQuota),
	// none for an account without any or a missing one.
	AccountQuotas(ctx context.Context, accountID int64) (map[Quota]int, error)
	// OAuthClientThumbnail is the client's PNG; ErrNotFound if it has none.
	OAuthClientThumbnail(ctx context.Context, clientID string) ([]byte, error)
}

// AccountWriter holds the writes of accounts.
type AccountWriter interface {
	AccountEventWriter
	MailTokenWriter
	UpdateAccount(ctx context.Context, a Account) error
	// LockAccount takes the account's row lock until the transaction
	// ends, so that the rules over all its users (the last owner) take
	// turns. ErrNotFound if it is gone.
	LockAccount(ctx context.Context, id int64) error
	// UpdateOAuthClient writes every field of the client but its id,
	// created, account and thumbnail.
	UpdateOAuthClient(ctx context.Context, c OAuthClient) error
	DeleteOAuthClient(ctx context.Context, clientID string) error
	// SetOAuthClientThumbnail stores the client's PNG; nil removes it.
	SetOAuthClientThumbnail(ctx context.Context, clientID string, png []byte) error
}

// AccountEvent is an event of the Linode Events API: what happened to a
// user of the account, with the Linode action name.
type AccountEvent struct {
	ID          int64
	AccountID   int64
	UserID      int64 // the user it is about
	Username    string
	Action      string // token_create, user_delete, ...
	EntityType  string // token, user, profile
	EntityID    int64
	EntityLabel string
	Created     time.Time
	Seen        bool
	Read        bool
}

// AccountEventFields are the fields /account/events may filter and order
// on; user_id is the core's, for restricted users.
var AccountEventFields = Fields{"id": FieldInt, "action": FieldString, "created": FieldTime, "username": FieldString,
	"seen": FieldBool, "read": FieldBool}

// AccountEventReader holds the queries of the Events API.
type AccountEventReader interface {
	ListAccountEvents(ctx context.Context, accountID int64, q ListQuery) ([]AccountEvent, int, error)
	AccountEvent(ctx context.Context, accountID, id int64) (AccountEvent, error)
}

// AccountEventWriter holds its writes.
type AccountEventWriter interface {
	// CreateAccountEvent records e (its ID is the store's to choose). The
	// store may send it with the transaction's next statement or its
	// commit, which then fail if it does.
	CreateAccountEvent(ctx context.Context, e AccountEvent) error
	// MarkAccountEventsSeen marks the account's events up to id seen.
	MarkAccountEventsSeen(ctx context.Context, accountID, id int64) error
	// MarkAccountEventRead marks one event read; ErrNotFound if absent.
	MarkAccountEventRead(ctx context.Context, accountID, id int64) error
}

// MailToken is a one-use token sent by mail; only its SHA-256 is stored.
type MailToken struct {
	Hash    []byte
	UserID  int64
	Purpose string // MailTokenRecovery, MailTokenInvite
	Created time.Time
	Expiry  time.Time
	Used    bool
}

// Mail token purposes.
const (
	MailTokenRecovery = "recovery"
	MailTokenInvite   = "invite" // a user created through /account/users sets a first password
	MailTokenVerify   = "verify" // a new email address is confirmed
)

// MailTokenReader holds the queries of mail tokens.
type MailTokenReader interface {
	MailToken(ctx context.Context, hash []byte) (MailToken, error)
	// UsersByEmail returns up to limit users with this email, regardless
	// of case, in id order.
	UsersByEmail(ctx context.Context, email string, limit int) ([]User, error)
}

// MailTokenWriter holds their writes.
type MailTokenWriter interface {
	// CreateMailToken stores t, and forgets the user's other tokens of
	// its purpose: only the newest works.
	CreateMailToken(ctx context.Context, t MailToken) error
	// UseMailToken marks an unused token used; ErrNotFound if it is
	// unknown or used already.
	UseMailToken(ctx context.Context, hash []byte) error
	// DeleteMailTokens forgets the user's tokens of purpose.
	DeleteMailTokens(ctx context.Context, userID int64, purpose string) error
}
