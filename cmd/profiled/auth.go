package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/profiled/profiled/core"
)

// stdin is where --password-stdin reads; tests replace it.
var stdin io.Reader = os.Stdin

// readPassword reads the first line of stdin, without its line ending.
func readPassword(cmd string) (string, error) {
	line, err := bufio.NewReaderSize(stdin, 4096).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("%s: read the password from stdin: %w", cmd, err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", usagef("%s: --password-stdin: stdin has no password (send it on the first line, e.g. from a password manager)", cmd)
	}
	return pw, nil
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
	args:    "--label L --redirect-uri URI [--redirect-uri URI ...] --website URL [--public] [--first-party] [--thumbnail-url URL] [--backchannel-logout-uri URI] [--db DSN]",
	summary: "Register an OAuth 2.0 client and print client_id=... and, for a confidential client, client_secret=...\nThe secret is shown only this once: only its SHA-256 is stored. A --public client (a browser or\nnative app that cannot keep a secret) gets no secret and must use PKCE (S256). A --first-party client is the\nplatform's own console: its tokens may make personal access tokens of any lifetime and change TFA, the password\nand the email, which third-party applications' tokens may not, whatever their scopes.",
	setup: func(fs *flagSet) func(context.Context, *env) error {
		db := dbFlags(fs)
		key := keyFlags(fs)
		var label, website, thumb, logoutURI string
		var redirects stringsFlag
		var public, firstParty bool
		fs.StringVar(&label, "label", "", "the application's `NAME`, shown on the consent page and in /v4/profile/apps: 1 to 100 characters (required)")
		fs.Var(&redirects, "redirect-uri", "a redirect `URI` the application may use: https, or http on loopback; repeat for several (required)")
		fs.StringVar(&website, "website", "", "the application's website `URL` (required)")
		fs.StringVar(&thumb, "thumbnail-url", "", "the `URL` of the application's logo (optional)")
		fs.BoolVar(&public, "public", false, "a public client: no secret, PKCE required")
		fs.BoolVar(&firstParty, "first-party", false, "the platform's own application (its console), trusted as a sign-in session is")
		fs.StringVar(&logoutURI, "backchannel-logout-uri", "",
			"the `URI` where the relying party takes OpenID Connect back-channel logout tokens, told of each sign-out of a session it signed in from: https, or http on loopback (optional)")
		return func(ctx context.Context, e *env) error {
			const cmd = "oauth-clients create"
			if err := required(cmd, "label", label); err != nil {
				return err
			}
			if len(redirects) == 0 {
				return usagef("%s: --redirect-uri is required (run \"profiled %s -h\" for its flags)", cmd, cmd)
			}
			if err := required(cmd, "website", website); err != nil {
				return err
			}
			svc, done, err := openService(ctx, e, key, db)
			if err != nil {
				return err
			}
			defer done()
			c, secret, err := svc.CreateOAuthClient(ctx, core.OAuthClientCreate{Label: label, Website: website,
				ThumbnailURL: thumb, RedirectURIs: redirects, Public: public, FirstParty: firstParty, BackchannelLogoutURI: logoutURI})
			if ce := core.AsError(err); ce != nil {
				// The core names fields redirect_uri, thumbnail_url; the flags have dashes.
				c := *ce
				c.Field = strings.ReplaceAll(c.Field, "_", "-")
				err = &c
			}
			if err != nil {
				return cliError(cmd, err, "label", "redirect-uri", "website", "thumbnail-url", "backchannel-logout-uri")
			}
			fmt.Fprintf(e.stdout, "client_id=%s\n", c.ID)
			if secret != "" {
				fmt.Fprintf(e.stdout, "client_secret=%s\n", secret)
			}
			return nil
		}
	},
}

var signingKeysRotateCommand = command{
	name:    "signing-keys rotate",
	short:   "make a new key to sign OpenID Connect ID tokens",
	args:    "[--db DSN]",
	summary: "Make a new key to sign ID tokens and print key_id=... It is published in /oauth/jwks at once and signs once\nrelying parties' copies of the key set have it (five minutes); the key signing until then stays published\nwhile ID tokens it signed are good. Keys no good ID token needs any more are retired, and printed as retired=...\nEvery replica on the database uses the new key. The first key is made by itself, when the first ID token is.",
	setup: func(fs *flagSet) func(context.Context, *env) error {
		db := dbFlags(fs)
		key := keyFlags(fs)
		return func(ctx context.Context, e *env) error {
			svc, done, err := openService(ctx, e, key, db)
			if err != nil {
				return err
			}
			defer done()
			k, retired, err := svc.RotateSigningKey(ctx)
			if err != nil {
				return cliError("signing-keys rotate", err)
			}
			fmt.Fprintf(e.stdout, "key_id=%s\n", k.ID)
			for _, r := range retired {
				fmt.Fprintf(e.stdout, "retired=%s\n", r.ID)
			}
			return nil
		}
	},
}
