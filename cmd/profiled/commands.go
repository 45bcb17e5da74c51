package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/clientjwt"
	"github.com/profiled/profiled/reqlog"
)

// commands lists every subcommand but version and help, in the order the
// help shows them.
var commands = []command{serveCommand, migrateCommand, usersCreateCommand, usersListCommand, usersShowCommand, usersSetPasswordCommand,
	usersDisableCommand, usersEnableCommand, usersDeleteCommand, tfaResetCommand, tokensCreateCommand, tokensListCommand,
	tokensRevokeCommand, grantsSetCommand, quotasShowCommand, quotasSetCommand, oauthClientsCreateCommand, oauthClientsListCommand,
	oauthClientsShowCommand, oauthClientsUpdateCommand, oauthClientsResetSecretCommand, oauthClientsDeleteCommand, signingKeysRotateCommand, serviceAccountsCreateCommand}

var migrateCommand = command{
	name:    "migrate",
	short:   "apply database migrations and print the schema version",
	args:    "[--db DSN]",
	summary: "Apply the database migrations this profiled has and the database lacks, then print the schema version.\n(\"profiled serve\" migrates too; run this to migrate ahead of a rollout.)",
	setup: func(fs *flagSet) func(context.Context, *env) error {
		db := dbFlags(fs)
		return func(ctx context.Context, e *env) error {
			st, err := openDB(ctx, db, applyMigrations)
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := st.SchemaVersion(ctx)
			if err != nil {
				return fmt.Errorf("read the schema version: %w", err)
			}
			fmt.Fprintf(e.stdout, "schema version %d\n", v)
			return nil
		}
	},
}

var usersCreateCommand = command{
	name:    "users create",
	short:   "create a user",
	args:    "--username U --email E [--account-of USER [--restricted]] [--password-stdin] [--db DSN]",
	summary: "Create a user and print its id and username. Without --account-of the user owns a new account of their own;\nwith it they join the account of that user. A restricted user has only the grants that \"profiled grants set\" gives it.\nWith --password-stdin the first line of stdin is the user's password, for signing in (/auth/signin, POST /auth/login).",
	setup: func(fs *flagSet) func(context.Context, *env) error {
		db := dbFlags(fs)
		key := keyFlags(fs)
		var username, email string
		var restricted, passwordStdin bool
		var accountOf string
		fs.StringVar(&username, "username", "", "the new user's `NAME`: 3 to 32 letters, digits, '-' or '_', beginning and ending with a letter or digit, without \"--\" or \"__\" (required)")
		fs.StringVar(&email, "email", "", "the new user's `EMAIL` address (required)")
		fs.BoolVar(&restricted, "restricted", false, "make a restricted user (with --account-of)")
		fs.StringVar(&accountOf, "account-of", "", "add the user to the account of the user `USER` (default: a new account)")
		fs.BoolVar(&passwordStdin, "password-stdin", false, "read the user's password from the first line of stdin: 12 to 256 characters, not a common one, not the username or email")
		return func(ctx context.Context, e *env) error {
			if err := required("users create", "username", username); err != nil {
				return err
			}
			if err := required("users create", "email", email); err != nil {
				return err
			}
			var password string
			if passwordStdin {
				var err error
				if password, err = readPassword("users create"); err != nil {
					return err
				}
				// Checked before the user exists, so a refused password leaves nothing behind.
				if err := core.ValidatePassword("password", password, core.User{Username: username, Email: email}); err != nil {
					return cliError("users create", err)
				}
			}
			svc, done, err := openService(ctx, e, key, db)
			if err != nil {
				return err
			}
			defer done()
			u, err := svc.CreateUser(ctx, core.UserCreate{Username: username, Email: email, Restricted: restricted, AccountOf: accountOf})
			if err != nil {
				return cliError("users create", err, "username", "email", "restricted", "account_of")
			}
			if passwordStdin {
				if err := svc.SetPassword(ctx, u.ID, password); err != nil {
					return cliError("users create", err)
				}
			}
			fmt.Fprintf(e.stdout, "id=%d username=%s\n", u.ID, u.Username)
			return nil
		}
	},
}

var usersSetPasswordCommand = command{
	name:    "users set-password",
	short:   "set a user's password, ending their sessions",
	args:    "--username U --password-stdin [--db DSN]",
	summary: "Set the password of a user who forgot theirs (the sign-in page's \"forgot password\" link says to ask you),\nfrom the first line of stdin. Every sign-in session of the user ends; their tokens keep working.",
	setup: func(fs *flagSet) func(context.Context, *env) error {
		db := dbFlags(fs)
		key := keyFlags(fs)
		var username string
		var passwordStdin bool
		fs.StringVar(&username, "username", "", "the user's `NAME` (required)")
		fs.BoolVar(&passwordStdin, "password-stdin", false, "read the new password from the first line of stdin (required): 12 to 256 characters, not a common one, not the username or email")
		return func(ctx context.Context, e *env) error {
			if err := required("users set-password", "username", username); err != nil {
				return err
			}
			if !passwordStdin {
				return usagef("users set-password: --password-stdin is required: the password is read from stdin, never from the command line")
			}
			password, err := readPassword("users set-password")
			if err != nil {
				return err
			}
			svc, done, err := openService(ctx, e, key, db)
			if err != nil {
				return err
			}
			defer done()
			if err := svc.ResetPassword(ctx, username, password); err != nil {
				return cliError("users set-password", userNotFound(err, username))
			}
			fmt.Fprintf(e.stdout, "password set for %s; their sign-in sessions have ended\n", username)
			return nil
		}
	},
}

var tokensCreateCommand = command{
	name:    "tokens create",
	short:   "create a personal access token and print it",
	args:    "--username U [--scopes S] [--label L] [--expiry RFC3339] [--db DSN]",
	summary: "Create a personal access token for a user and print the token, alone, on stdout.\nIt is shown only this once: only its SHA-256 is stored.",
	setup: func(fs *flagSet) func(context.Context, *env) error {
		db := dbFlags(fs)
		key := keyFlags(fs)
		var username, scopes, label, expiry string
		fs.StringVar(&username, "username", "", "the user (`NAME`) the token acts as (required)")
		fs.StringVar(&scopes, "scopes", "*", "the token's OAuth `SCOPES`: \"*\" for all, or space-separated <category>:read_only|read_write, e.g. \"account:read_only\"")
		fs.StringVar(&label, "label", "cli", "the token's `LABEL`, 1 to 100 characters")
		fs.StringVar(&expiry, "expiry", "", "the `TIME` the token stops working, in RFC 3339, e.g. 2030-01-02T15:04:05Z (default: never)")
		return func(ctx context.Context, e *env) error {
			if err := required("tokens create", "username", username); err != nil {
				return err
			}
			sc, err := core.ParseScopes(scopes)
			if err != nil {
				return usagef("tokens create: --scopes: %v", err)
			}
			var exp *time.Time
			if expiry != "" {
				t, err := time.Parse(time.RFC3339, expiry)
				if err != nil {
					return usagef("tokens create: --expiry %q is not an RFC 3339 time such as 2030-01-02T15:04:05Z", expiry)
				}
				exp = &t
			}
			svc, done, err := openService(ctx, e, key, db)
			if err != nil {
				return err
			}
			defer done()
			_, raw, err := svc.IssueToken(ctx, username, label, sc, exp)
			if err != nil {
				return cliError("tokens create", userNotFound(err, username), "label", "expiry", "scopes")
			}
			fmt.Fprintln(e.stdout, raw)
			return nil
		}
	},
}

var grantsSetCommand = command{
	name:    "grants set",
	short:   "store the grants of a restricted user",
	args:    "--username U --file grants.json [--db DSN]",
	summary: "Store the grants of a restricted user: a GrantsResponse JSON document of the Linode API,\nwhich GET /v4/profile/grants then returns to that user.",
	setup: func(fs *flagSet) func(context.Context, *env) error {
		db := dbFlags(fs)
		key := keyFlags(fs)
		var username, file string
		fs.StringVar(&username, "username", "", "the restricted user's `NAME` (required)")
		fs.StringVar(&file, "file", "", "the JSON `FILE` with the grants (required)")
		return func(ctx context.Context, e *env) error {
			if err := required("grants set", "username", username); err != nil {
				return err
			}
			if err := required("grants set", "file", file); err != nil {
				return err
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("grants set: %w", err)
			}
			svc, done, err := openService(ctx, e, key, db)
			if err != nil {
				return err
			}
			defer done()
			if err := svc.SetGrants(ctx, username, data); err != nil {
				return cliError("grants set", userNotFound(err, username))
			}
			fmt.Fprintf(e.stdout, "grants set for %s\n", username)
			return nil
		}
	},
}

// openService builds the core over the database for one operator command.
// The commands do not migrate PostgreSQL: they refuse a schema that is
// not the binary's own.
func openService(ctx context.Context, e *env, k *keyConfig, c *dbConfig) (*core.Service, func(), error) {
	st, box, created, err := openWithKey(ctx, e, k, c, requireCurrent)
	if err != nil {
		return nil, nil, err
	}
	if created != "" {
		fmt.Fprintln(e.stderr, "profiled: "+keyCreatedNotice(created))
	}
	// An operator's change to an account (a password reset) is a security
	// event like a user's own: it goes to stderr, for the operator's record.
	events := reqlog.SecurityEvents{Log: slog.New(slog.NewTextHandler(e.stderr, nil))}
	svc := core.New(core.Config{Store: st, Box: box, SMS: noSMS{}, Events: events, ClientKeys: clientjwt.New(nil, nil)})
	return svc, func() { st.Close() }, nil
}

// noSMS is the SMS sender of the operator's commands, which send none.
type noSMS struct{}

func (noSMS) SendSMS(context.Context, string, string) error {
	return fmt.Errorf("the command line sends no text messages")
}

// userNotFound turns the core's NotFound, which an API client sees for
// "not yours" and "absent" alike, into an operator's message.
func userNotFound(err error, username string) error {
	if core.KindOf(err) == core.KindNotFound {
		return fmt.Errorf("no user named %q: create it with \"profiled users create --username %s --email ...\"", username, username)
	}
	return err
}

// cliError prefixes an error with the command. A rule the core found
// broken names a field; when a flag of the command has that name, the
// message names the flag.
func cliError(cmd string, err error, flags ...string) error {
	if ce := core.AsError(err); ce != nil && ce.Field != "" {
		if slices.Contains(flags, ce.Field) {
			return fmt.Errorf("%s: --%s: %s", cmd, strings.ReplaceAll(ce.Field, "_", "-"), ce.Reason)
		}
		return fmt.Errorf("%s: %s: %s", cmd, ce.Field, ce.Reason)
	}
	return fmt.Errorf("%s: %w", cmd, err)
}

// tableRow is a row of a list command's table: its columns' header and
// format, and its values.
type tableRow interface {
	columns() (header, format string, values []any)
}

// listCommand is a command that prints every row of a kind, asked for in
// pages of core.MaxPageSize each after the key of the last row before: a
// table, or with --json a JSON array of toJSON's.
func listCommand[T any, J tableRow, K any](name, short, summary string, list func(svc *core.Service, ctx context.Context, after K) ([]T, error),
	key func(T) K, toJSON func(T) J) command {
	return command{name: name, short: short, args: "[--json] [--db DSN]", summary: summary,
		setup: func(fs *flagSet) func(context.Context, *env) error {
			db, secretKey := dbFlags(fs), keyFlags(fs)
			asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
			return func(ctx context.Context, e *env) error {
				svc, done, err := openService(ctx, e, secretKey, db)
				if err != nil {
					return err
				}
				defer done()
				out := []J{}
				var after K
				for {
					page, err := list(svc, ctx, after)
					if err != nil {
						return cliError(name, err)
					}
					for _, v := range page {
						out = append(out, toJSON(v))
					}
					if len(page) < core.MaxPageSize {
						break
					}
					after = key(page[len(page)-1])
				}
				if *asJSON {
					return printJSON(e.stdout, out)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				var zero J
				header, _, _ := zero.columns()
				fmt.Fprintln(tw, header)
				for _, v := range out {
					_, format, values := v.columns()
					fmt.Fprintf(tw, format, values...)
				}
				return tw.Flush()
			}
		}}
}
