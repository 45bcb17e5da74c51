package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/profiled/profiled/core"
)

// The operator's commands on users and tokens (docs/accounts.md): they act
// on every account and need no token.

// userJSON is a user as the operator's commands print them with --json.
type userJSON struct {
	ID              int64      `json:"id"`
	Username        string     `json:"username"`
	Email           string     `json:"email"`
	AccountID       int64      `json:"account_id"`
	Restricted      bool       `json:"restricted"`
	Disabled        bool       `json:"disabled"`
	TFAEnabled      bool       `json:"tfa_enabled"`
	Created         time.Time  `json:"created"`
	SSHKeys         []string   `json:"ssh_keys,omitempty"`
	LastLogin       *time.Time `json:"last_login,omitempty"`
	LastLoginStatus string     `json:"last_login_status,omitempty"`
	PasswordCreated *time.Time `json:"password_created,omitempty"`
}

func toUserJSON(u core.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Email: u.Email, AccountID: u.AccountID, Restricted: u.Restricted,
		Disabled: u.Disabled, TFAEnabled: u.TwoFactorAuth, Created: u.Created}
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

var usersListCommand = listCommand("users list", "list every user of every account",
	"List every user of every account, in id order: id, username, account, email and state.",
	func(svc *core.Service, ctx context.Context, after int64) ([]core.User, error) {
		return svc.Users(ctx, after, core.MaxPageSize)
	},
	func(u core.User) int64 { return u.ID }, toUserJSON)

func (u userJSON) columns() (string, string, []any) {
	return "ID\tUSERNAME\tACCOUNT\tEMAIL\tRESTRICTED\tDISABLED\tTFA", "%d\t%s\t%d\t%s\t%t\t%t\t%t\n",
		[]any{u.ID, u.Username, u.AccountID, u.Email, u.Restricted, u.Disabled, u.TFAEnabled}
}

var usersShowCommand = command{
	name:    "users show",
	short:   "show one user",
	args:    "--username U [--json] [--db DSN]",
	summary: "Show one user: their account, state, SSH keys, last login and when their password was set.",
	setup: func(fs *flagSet) func(context.Context, *env) error {
		db, key := dbFlags(fs), keyFlags(fs)
		var username string
		fs.StringVar(&username, "username", "", "the user's `NAME` (required)")
		asJSON := fs.Bool("json", false, "print JSON instead of text")
		return func(ctx context.Context, e *env) error {
			if err := required("users show", "username", username); err != nil {
				return err
			}
			svc, done, err := openService(ctx, e, key, db)
			if err != nil {
				return err
			}
			defer done()
			au, err := svc.UserByName(ctx, username)
			if err != nil {
				return cliError("users show", userNotFound(err, username))
			}
			u := toUserJSON(au.User)
			u.SSHKeys, u.PasswordCreated = au.Summary.SSHKeyLabels, au.Summary.PasswordCreated
			if l := au.Summary.LastLogin; l != nil {
				u.LastLogin, u.LastLoginStatus = &l.Datetime, l.Status
			}
			if *asJSON {
				return printJSON(e.stdout, u)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			for _, row := range [][2]string{{"id", strconv.FormatInt(u.ID, 10)}, {"username", u.Username}, {"email", u.Email},
				{"account", strconv.FormatInt(u.AccountID, 10)}, {"restricted", strconv.FormatBool(u.Restricted)},
				{"disabled", strconv.FormatBool(u.Disabled)}, {"tfa", strconv.FormatBool(u.TFAEnabled)},
				{"created", u.Created.Format(time.RFC3339)}, {"ssh keys", fmt.Sprint(len(u.SSHKeys))},
				{"last login", timeOrNever(u.LastLogin) + " " + u.LastLoginStatus}, {"password set", timeOrNever(u.PasswordCreated)}} {
				fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
			}
			return tw.Flush()
		}
	},
}

func timeOrNever(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.RFC3339)
}

// userAction is a command that does one thing to one user and says so;
// act is a method of the service, in the order of a method expression.
func userAction(name, short, summary, done string, act func(svc *core.Service, ctx context.Context, username string) error) command {
	return command{
		name:    name,
		short:   short,
		args:    "--username U [--db DSN]",
		summary: summary,
		setup: func(fs *flagSet) func(context.Context, *env) error {
			db, key := dbFlags(fs), keyFlags(fs)
			var username string
			fs.StringVar(&username, "username", "", "the user's `NAME` (required)")
			return func(ctx context.Context, e *env) error {
				if err := required(name, "username", username); err != nil {
					return err
				}
				svc, closeSvc, err := openService(ctx, e, key, db)
				if err != nil {
					return err
				}
				defer closeSvc()
				if err := act(svc, ctx, username); err != nil {
					return cliError(name, userNotFound(err, username), "username")
				}
				fmt.Fprintf(e.stdout, "%s %s\n", username, done)
				return nil
			}
		},
	}
}

var (
	usersDeleteCommand = userAction("users delete", "delete a user and everything they own",
		"Delete a user, their keys, tokens, sessions and preferences; their tokens are refused at once.\nThe last unrestricted user of an account that has other users is kept: make another user unrestricted first.",
		"deleted", (*core.Service).DeleteUser)
	usersDisableCommand = userAction("users disable", "stop a user from signing in",
		"Disable a user: they cannot sign in, and their tokens are refused, until \"profiled users enable\".",
		"disabled", func(svc *core.Service, ctx context.Context, username string) error {
			return svc.SetDisabled(ctx, username, true)
		})
	usersEnableCommand = userAction("users enable", "let a disabled user sign in again",
		"Enable a disabled user: they sign in again, and the tokens they had work again.",
		"enabled", func(svc *core.Service, ctx context.Context, username string) error {
			return svc.SetDisabled(ctx, username, false)
		})
	tfaResetCommand = userAction("tfa reset", "turn off a user's two-factor authentication",
		"Turn off the two-factor authentication of a user who lost their device: the secret and scratch codes are\nforgotten and every session and trusted device of the user ends. They sign in with their password, then turn it on again.",
		"has two-factor authentication off", (*core.Service).ResetTFA)
)

// tokenJSON is a token as "tokens list --json" prints it: never the secret.
type tokenJSON struct {
	ID      int64      `json:"id"`
	Kind    string     `json:"kind"`
	Label   string     `json:"label"`
	Scopes  string     `json:"scopes"`
	Prefix  string     `json:"prefix"`
	Created time.Time  `json:"created"`
	Expiry  *time.Time `json:"expiry"`
}

var tokensListCommand = command{
	name:    "tokens list",
	short:   "list a user's tokens",
	args:    "--username U [--json] [--db DSN]",
	summary: "List a user's tokens of every kind (personal, session, OAuth): id, kind, label, scopes and the prefix they are shown by.\nThe tokens themselves are not stored, only their SHA-256.",
	setup: func(fs *flagSet) func(context.Context, *env) error {
		db, key := dbFlags(fs), keyFlags(fs)
		var username string
		fs.StringVar(&username, "username", "", "the user's `NAME` (required)")
		asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
		return func(ctx context.Context, e *env) error {
			if err := required("tokens list", "username", username); err != nil {
				return err
			}
			svc, done, err := openService(ctx, e, key, db)
			if err != nil {
				return err
			}
			defer done()
			out := []tokenJSON{}
			for page := 1; ; page++ {
				p, err := svc.UserTokens(ctx, username, core.ListQuery{Page: page, PageSize: core.MaxPageSize})
				if err != nil {
					return cliError("tokens list", userNotFound(err, username))
				}
				for _, t := range p.Data {
					out = append(out, tokenJSON{ID: t.ID, Kind: string(t.Kind), Label: t.Label, Scopes: string(t.Scopes), Prefix: t.Prefix, Created: t.Created, Expiry: t.Expiry})
				}
				if page >= p.Pages() {
					break
				}
			}
			if *asJSON {
				return printJSON(e.stdout, out)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tLABEL\tSCOPES\tPREFIX\tEXPIRY")
			for _, t := range out {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Kind, t.Label, t.Scopes, t.Prefix, timeOrNever(t.Expiry))
			}
			return tw.Flush()
		}
	},
}

var tokensRevokeCommand = command{
	name:    "tokens revoke",
	short:   "revoke one of a user's tokens",
	args:    "--username U --id ID [--db DSN]",
	summary: "Revoke one of a user's tokens, by the id \"profiled tokens list\" shows: it is refused from the next request on,\nby every replica.",
	setup: func(fs *flagSet) func(context.Context, *env) error {
		db, key := dbFlags(fs), keyFlags(fs)
		var username string
		var id int64
		fs.StringVar(&username, "username", "", "the user's `NAME` (required)")
		fs.Int64Var(&id, "id", 0, "the token's `ID` (required)")
		return func(ctx context.Context, e *env) error {
			if err := required("tokens revoke", "username", username); err != nil {
				return err
			}
			if id <= 0 {
				return usagef("tokens revoke: --id is required: the token's id, as \"profiled tokens list --username %s\" shows it", username)
			}
			svc, done, err := openService(ctx, e, key, db)
			if err != nil {
				return err
			}
			defer done()
			if err := svc.RevokeUserToken(ctx, username, id); err != nil {
				if core.KindOf(err) == core.KindNotFound {
					return fmt.Errorf("tokens revoke: no user %q with a token %d: see \"profiled tokens list --username %s\"", username, id, username)
				}
				return cliError("tokens revoke", err)
			}
			fmt.Fprintf(e.stdout, "token %d of %s revoked\n", id, username)
			return nil
		}
	},
}
