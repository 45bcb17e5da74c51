package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/profiled/profiled/core"
)

// The operator's OAuth clients: register, list, show, change, reset the
// secret of and delete any client, the operator's own and the accounts'
// (/account/oauth-clients).

// clientFields are the core's names of a client's fields that a flag of
// these commands sets (cliError reads redirect_uri as --redirect-uri).
var clientFields = []string{"label", "redirect_uri", "website", "thumbnail_url", "backchannel_logout_uri", "jwks_uri"}

// clientError words an error of a command on a client, naming its flag.
func clientError(cmd string, err error) error {
	if ce := core.AsError(err); ce != nil && ce.Field == "jwks" {
		return fmt.Errorf("%s: --jwks-file: %s", cmd, ce.Reason)
	}
	return cliError(cmd, err, clientFields...)
}

// stringsFlag is a repeatable flag.
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, " ") }
func (s *stringsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

var oauthClientsCreateCommand = command{
	name:    "oauth-clients create",
	short:   "register an OAuth client (a third-party application)",
	args:    "--label L --redirect-uri URI [--redirect-uri URI ...] --website URL [--public] [--first-party] [--thumbnail-url URL] [--backchannel-logout-uri URI] [--device-grant] [--require-par] [--require-mfa] [--jwks-file FILE | --jwks-uri URL] [--db DSN]",
	summary: "Register an OAuth 2.0 client and print client_id=... and, for a confidential client, client_secret=...\nThe secret is shown only this once: only its SHA-256 is stored. A --public client (a browser or\nnative app that cannot keep a secret) gets no secret and must use PKCE (S256). A --first-party client is the\nplatform's own console: its tokens may make personal access tokens of any lifetime and change TFA, the password\nand the email, which third-party applications' tokens may not, whatever their scopes.",
	setup: func(fs *flagSet) func(context.Context, *env) error {
		db := dbFlags(fs)
		key := keyFlags(fs)
		var label, website, thumb, logoutURI, jwksURI string
		var redirects stringsFlag
		var jwks keySetFlag
		var public, firstParty, deviceGrant, requirePushed, requireMFA bool
		fs.StringVar(&label, "label", "", "the application's `NAME`, shown on the consent page and in /v4/profile/apps: 1 to 100 characters (required)")
		fs.Var(&redirects, "redirect-uri", "a redirect `URI` the application may use: https, or http on loopback; repeat for several (required)")
		fs.StringVar(&website, "website", "", "the application's website `URL` (required)")
		fs.StringVar(&thumb, "thumbnail-url", "", "the `URL` of the application's logo (optional)")
		fs.BoolVar(&public, "public", false, "a public client: no secret, PKCE required")
		fs.BoolVar(&firstParty, "first-party", false, "the platform's own application (its console), trusted as a sign-in session is")
		fs.StringVar(&logoutURI, "backchannel-logout-uri", "",
			"the `URI` where the relying party takes OpenID Connect back-channel logout tokens, told of each sign-out of a session it signed in from: https, or http on loopback (optional)")
		fs.BoolVar(&deviceGrant, "device-grant", false, deviceGrantUsage)
		fs.BoolVar(&requirePushed, "require-par", false, requirePushedUsage)
		fs.BoolVar(&requireMFA, "require-mfa", false, requireMFAUsage)
		fs.Var(&jwks, "jwks-file", jwksUsage+" (optional): the client then gets no secret")
		fs.StringVar(&jwksURI, "jwks-uri", "", jwksURIUsage+" (optional): the client then gets no secret")
		return func(ctx context.Context, e *env) error {
			const cmd = "oauth-clients create"
			for _, f := range [][2]string{{"label", label}, {"redirect-uri", redirects.String()}, {"website", website}} {
				if err := required(cmd, f[0], f[1]); err != nil {
					return err
				}
			}
			svc, done, err := openService(ctx, e, key, db)
			if err != nil {
				return err
			}
			defer done()
			c, secret, err := svc.CreateOAuthClient(ctx, core.OAuthClientCreate{Label: label, Website: website, JWKS: jwks.jwks, JWKSURI: jwksURI,
				ThumbnailURL: thumb, RedirectURIs: redirects, Public: public, FirstParty: firstParty, BackchannelLogoutURI: logoutURI,
				DeviceGrant: deviceGrant, RequirePushed: requirePushed, RequireMFA: requireMFA})
			if err != nil {
				return clientError(cmd, err)
			}
			fmt.Fprintf(e.stdout, "client_id=%s\n", c.ID)
			if secret != "" {
				fmt.Fprintf(e.stdout, "client_secret=%s\n", secret)
			}
			return nil
		}
	},
}

// deviceGrantUsage words --device-grant for create and update.
const deviceGrantUsage = "whether the client may use the device authorization grant (RFC 8628), as a command line " +
	"on a machine without a browser does: it shows a code the user types at /oauth/device"

// jwksUsage words --jwks-file for create and update.
const jwksUsage = "a `FILE` holding the JWK Set of the public keys the client authenticates with, signing a client_assertion " +
	"(private_key_jwt, RFC 7523) at each request instead of sending a secret"

// jwksURIUsage words --jwks-uri for create and update.
const jwksURIUsage = "the `URL` where the client publishes that JWK Set instead (https, or http on loopback), so that it " +
	"rotates its keys itself: each server reads it, keeps it up to its max-age (1 minute to 1 hour, else 5 minutes), and " +
	"reads it again for a key it does not know"

// keySetFlag is --jwks-file: it reads the file as the flag is parsed,
// so that a missing one is told before the database opens; "" is none.
type keySetFlag struct{ path, jwks string }

func (k *keySetFlag) String() string { return k.path }
func (k *keySetFlag) Set(path string) error {
	k.path, k.jwks = path, ""
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(b) > 64<<10 {
		return fmt.Errorf("%s is over 64 KiB: give a JWK Set of public keys", path)
	}
	k.jwks = strings.TrimSpace(string(b))
	return nil
}

// requirePushedUsage words --require-par for create and update.
const requirePushedUsage = "whether the client's authorization requests must be pushed to /oauth/par first (RFC 9126): " +
	"/oauth/authorize then refuses any that the browser carries whole, whose parameters anyone could have written"

// requireMFAUsage words --require-mfa for create and update.
const requireMFAUsage = "whether users approve the client's requests only from a sign-in with their second factor (the ID token's amr " +
	"then holds mfa): a session without it is asked for the code, in the same session, even on a trusted device, and a user without TFA is told to turn it on"

// oauthClientJSON is a client as the commands print it.
type oauthClientJSON struct {
	ID                   string   `json:"id"`
	Label                string   `json:"label"`
	AccountID            int64    `json:"account_id,omitempty"` // 0: the operator's
	Website              string   `json:"website"`
	ThumbnailURL         string   `json:"thumbnail_url,omitempty"`
	RedirectURIs         []string `json:"redirect_uris"`
	Public               bool     `json:"public"`
	FirstParty           bool     `json:"first_party"`
	Status               string   `json:"status"`
	BackchannelLogoutURI string   `json:"backchannel_logout_uri,omitempty"`
	DeviceGrant          bool     `json:"device_grant"`
	RequirePushed        bool     `json:"require_pushed_authorization_requests"`
	RequireMFA           bool     `json:"require_mfa"`
	Registered           bool     `json:"registered"` // it registered itself (RFC 7591)
	// JWKS is the client's key set (private_key_jwt), as registered.
	JWKS    json.RawMessage `json:"jwks,omitempty"`
	JWKSURI string          `json:"jwks_uri,omitempty"`
	Created time.Time       `json:"created"`
}

func toClientJSON(c core.OAuthClient) oauthClientJSON {
	out := oauthClientJSON{ID: c.ID, Label: c.Label, AccountID: c.AccountID, Website: c.Website, ThumbnailURL: c.ThumbnailURL,
		RedirectURIs: c.RedirectURIs, Public: c.Public, FirstParty: c.FirstParty, Status: c.Status,
		BackchannelLogoutURI: c.BackchannelLogoutURI, DeviceGrant: c.DeviceGrant,
		RequirePushed: c.RequirePushed, RequireMFA: c.RequireMFA, Registered: c.Registered, JWKSURI: c.JWKSURI, Created: c.Created}
	if c.JWKS != "" {
		out.JWKS = json.RawMessage(c.JWKS)
	}
	return out
}

// authMethod is how the client authenticates, for show.
func (c oauthClientJSON) authMethod() string {
	switch {
	case c.Public:
		return "its id alone (public)"
	case c.JWKS != nil:
		return "a key of its key set (private_key_jwt)"
	case c.JWKSURI != "":
		return "a key of the key set at " + c.JWKSURI + " (private_key_jwt)"
	}
	return "its secret"
}

// owner is who registered a client, for the table.
func (c oauthClientJSON) owner() string {
	switch {
	case c.Registered:
		return "itself"
	case c.AccountID == 0:
		return "operator"
	}
	return "account " + strconv.FormatInt(c.AccountID, 10)
}

var oauthClientsListCommand = listCommand("oauth-clients list", "list every OAuth client",
	"List every OAuth client, the operator's and the accounts', in id order.",
	func(svc *core.Service, ctx context.Context, after string) ([]core.OAuthClient, error) {
		return svc.OAuthClients(ctx, after, 0)
	},
	func(c core.OAuthClient) string { return c.ID }, toClientJSON)

func (c oauthClientJSON) columns() (string, string, []any) {
	return "ID\tLABEL\tOWNER\tPUBLIC\tFIRST-PARTY\tSTATUS\tBACKCHANNEL-LOGOUT\tDEVICE-GRANT\tREQUIRE-PAR\tREQUIRE-MFA",
		"%s\t%s\t%s\t%t\t%t\t%s\t%t\t%t\t%t\t%t\n",
		[]any{c.ID, c.Label, c.owner(), c.Public, c.FirstParty, c.Status, c.BackchannelLogoutURI != "", c.DeviceGrant, c.RequirePushed, c.RequireMFA}
}

// clientNotFound says where to find a client when --id names none.
func clientNotFound(cmd, id string, err error) error {
	if core.KindOf(err) == core.KindNotFound {
		return fmt.Errorf("%s: no OAuth client %q: see \"profiled oauth-clients list\"", cmd, id)
	}
	return clientError(cmd, err)
}

// printClient writes c as show prints it.
func printClient(e *env, c oauthClientJSON, asJSON bool) error {
	if asJSON {
		return printJSON(e.stdout, c)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, row := range [][2]string{{"id", c.ID}, {"label", c.Label}, {"owner", c.owner()}, {"website", c.Website},
		{"thumbnail url", c.ThumbnailURL}, {"redirect uris", strings.Join(c.RedirectURIs, " ")}, {"public", strconv.FormatBool(c.Public)},
		{"first party", strconv.FormatBool(c.FirstParty)}, {"status", c.Status}, {"backchannel logout uri", c.BackchannelLogoutURI},
		{"device grant", strconv.FormatBool(c.DeviceGrant)}, {"require par", strconv.FormatBool(c.RequirePushed)},
		{"require mfa", strconv.FormatBool(c.RequireMFA)},
		{"authenticates with", c.authMethod()},
		{"created", c.Created.Format(time.RFC3339)}} {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

// clientCommand is a command on the client --id names: setup adds its
// flags and returns what it does, given the service to open once the
// flags are checked.
func clientCommand(name, short, args, summary string,
	setup func(fs *flagSet) func(ctx context.Context, e *env, open func() (*core.Service, error), id string) error) command {
	return command{name: name, short: short, args: "--id ID " + args + "[--db DSN]", summary: summary,
		setup: func(fs *flagSet) func(context.Context, *env) error {
			db, key := dbFlags(fs), keyFlags(fs)
			var id string
			fs.StringVar(&id, "id", "", "the client's `ID` (required)")
			act := setup(fs)
			return func(ctx context.Context, e *env) error {
				if err := required(name, "id", id); err != nil {
					return err
				}
				var closeSvc func()
				defer func() {
					if closeSvc != nil {
						closeSvc()
					}
				}()
				open := func() (*core.Service, error) {
					svc, done, err := openService(ctx, e, key, db)
					closeSvc = done
					return svc, err
				}
				if err := act(ctx, e, open, id); err != nil {
					return clientNotFound(name, id, err)
				}
				return nil
			}
		}}
}

var oauthClientsShowCommand = clientCommand("oauth-clients show", "show one OAuth client", "[--json] ",
	"Show one OAuth client, the operator's or an account's, disabled or not.",
	func(fs *flagSet) func(context.Context, *env, func() (*core.Service, error), string) error {
		asJSON := fs.Bool("json", false, "print JSON instead of text")
		return func(ctx context.Context, e *env, open func() (*core.Service, error), id string) error {
			svc, err := open()
			if err != nil {
				return err
			}
			c, err := svc.OperatorOAuthClient(ctx, id)
			if err != nil {
				return err
			}
			return printClient(e, toClientJSON(c), *asJSON)
		}
	})

var oauthClientsUpdateCommand = clientCommand("oauth-clients update", "change an OAuth client",
	"[--label L] [--website URL] [--thumbnail-url URL] [--redirect-uri URI ...] [--first-party=BOOL]\n"+
		"    [--backchannel-logout-uri URI] [--device-grant=BOOL] [--require-par=BOOL] [--require-mfa=BOOL]\n"+
		"    [--jwks-file FILE | --jwks-uri URL] [--disable | --enable] ",
	"Change an OAuth client, the operator's or an account's, and print it as show does. Only the flags given change:\n"+
		"--redirect-uri, repeated, replaces the whole list; --thumbnail-url \"\" and --backchannel-logout-uri \"\" remove them.\n"+
		"--disable refuses the client at /oauth/authorize and /oauth/token until --enable. A client stays public or\n"+
		"confidential as it was registered.",
	func(fs *flagSet) func(context.Context, *env, func() (*core.Service, error), string) error {
		var label, website, thumb, logoutURI, jwksURI string
		var redirects stringsFlag
		var jwks keySetFlag
		var firstParty, deviceGrant, requirePushed, requireMFA, disable, enable bool
		fs.StringVar(&label, "label", "", "the application's new `NAME`: 1 to 100 characters")
		fs.StringVar(&website, "website", "", "the application's website `URL`")
		fs.StringVar(&thumb, "thumbnail-url", "", "the `URL` of the application's logo; \"\" removes it")
		fs.Var(&redirects, "redirect-uri", "a redirect `URI`: https, or http on loopback; repeat for several; the list given replaces the one stored")
		fs.BoolVar(&firstParty, "first-party", false, "whether it is the platform's own application (its console), trusted as a sign-in session is")
		fs.StringVar(&logoutURI, "backchannel-logout-uri", "", "where the relying party takes back-channel logout tokens; \"\" stops them")
		fs.BoolVar(&deviceGrant, "device-grant", false, deviceGrantUsage)
		fs.BoolVar(&requirePushed, "require-par", false, requirePushedUsage)
		fs.BoolVar(&requireMFA, "require-mfa", false, requireMFAUsage)
		fs.Var(&jwks, "jwks-file", jwksUsage+"; the set given replaces the one stored, and \"\" removes it")
		fs.StringVar(&jwksURI, "jwks-uri", "", jwksURIUsage+"; it replaces the one stored, or the key set, and \"\" removes it")
		fs.BoolVar(&disable, "disable", false, "refuse the client at /oauth/authorize and /oauth/token")
		fs.BoolVar(&enable, "enable", false, "accept a disabled client again")
		return func(ctx context.Context, e *env, open func() (*core.Service, error), id string) error {
			var in core.OAuthClientUpdate
			given := 0
			fs.Visit(func(f *flag.Flag) {
				switch f.Name {
				case "label":
					in.Label = &label
				case "website":
					in.Website = &website
				case "thumbnail-url":
					in.ThumbnailURL = &thumb
				case "redirect-uri":
					in.RedirectURIs = redirects
				case "first-party":
					in.FirstParty = &firstParty
				case "backchannel-logout-uri":
					in.BackchannelLogoutURI = &logoutURI
				case "device-grant":
					in.DeviceGrant = &deviceGrant
				case "require-par":
					in.RequirePushed = &requirePushed
				case "require-mfa":
					in.RequireMFA = &requireMFA
				case "jwks-file":
					in.JWKS = &jwks.jwks
				case "jwks-uri":
					in.JWKSURI = &jwksURI
				case "disable", "enable":
				default:
					return
				}
				given++
			})
			switch {
			case disable && enable:
				return usagef("give --disable or --enable, not both")
			case disable || enable:
				in.Disabled = &disable
			case given == 0:
				return usagef("nothing to change: give a flag of what changes (run \"profiled oauth-clients update -h\" for them)")
			}

			svc, err := open()
			if err != nil {
				return err
			}
			c, err := svc.UpdateOAuthClient(ctx, id, in)
			if err != nil {
				return err
			}
			return printClient(e, toClientJSON(c), false)
		}
	})

var oauthClientsResetSecretCommand = clientCommand("oauth-clients reset-secret", "give a confidential OAuth client a new secret", "",
	"Give a confidential OAuth client a new secret and print client_secret=... It is shown only this once, and the\nold secret stops working at once, on every replica: give the new one to the application first.",
	func(*flagSet) func(context.Context, *env, func() (*core.Service, error), string) error {
		return func(ctx context.Context, e *env, open func() (*core.Service, error), id string) error {
			svc, err := open()
			if err != nil {
				return err
			}
			_, secret, err := svc.ResetOAuthClientSecret(ctx, id)
			if err == nil {
				fmt.Fprintf(e.stdout, "client_secret=%s\n", secret)
			}
			return err
		}
	})

var oauthClientsDeleteCommand = clientCommand("oauth-clients delete", "delete an OAuth client and its authorizations", "",
	"Delete an OAuth client, the operator's or an account's, with every authorization users gave it and their tokens:\nthe application's tokens are refused from the next request on.",
	func(*flagSet) func(context.Context, *env, func() (*core.Service, error), string) error {
		return func(ctx context.Context, e *env, open func() (*core.Service, error), id string) error {
			svc, err := open()
			if err != nil {
				return err
			}
			err = svc.DeleteOAuthClient(ctx, id)
			if err == nil {
				fmt.Fprintf(e.stdout, "oauth client %s deleted, with its authorizations\n", id)
			}
			return err
		}
	})
