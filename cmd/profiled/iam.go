package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/iam"
	"github.com/profiled/profiled/oidc"
)

// iamConfig is the configuration of the IAM face and of the external
// OpenID Connect provider it trusts.
type iamConfig struct {
	publicURL string
	issuer    string
	audience  string
	name      string
	claims    string
	scopes    string
}

// iamFlags registers serve's flags for the IAM face.
func iamFlags(fs *flagSet) *iamConfig {
	c := &iamConfig{}
	fs.envString(&c.publicURL, "public-url", "PROFILED_PUBLIC_URL", "",
		"the `URL` clients reach profiled at (scheme and host, e.g. https://id.example.com), for the absolute avatar_url of the IAM face; unset: avatar_url is a path")
	fs.envString(&c.issuer, "oidc-issuer", "PROFILED_OIDC_ISSUER", "",
		"the issuer `URL` of an OpenID Connect provider whose JWT access tokens the IAM face accepts as bearer tokens; unset: none")
	fs.envString(&c.audience, "oidc-audience", "PROFILED_OIDC_AUDIENCE", "",
		"the `AUDIENCE` the provider's access tokens must carry in aud: profiled's API identifier at the provider (required with --oidc-issuer)")
	fs.envString(&c.name, "oidc-name", "PROFILED_OIDC_NAME", "oidc",
		"the provider's `NAME`, the authentication_type of the users it brings: lower-case letters, digits, '.', '_', '-'")
	fs.envString(&c.claims, "oidc-claims", "PROFILED_OIDC_CLAIMS", "",
		"the claim `MAP` as key=claim,...: keys username, email, email_verified, first_name, last_name, picture, scopes (default: preferred_username, email, email_verified, given_name, family_name, picture, scope)")
	fs.envString(&c.scopes, "oidc-scopes", "PROFILED_OIDC_SCOPES", "account:read_write",
		"the `SCOPES` of a provider token whose scope claim names no profiled scope; profiled scopes in the claim replace them")
	return c
}

// provider builds the external identity provider, nil if none is configured.
func (c *iamConfig) provider() (*oidc.Provider, error) {
	if c.issuer == "" {
		if c.audience != "" {
			return nil, usagef("--oidc-audience (PROFILED_OIDC_AUDIENCE) needs --oidc-issuer (PROFILED_OIDC_ISSUER)")
		}
		return nil, nil
	}
	if c.audience == "" {
		return nil, usagef("--oidc-issuer needs --oidc-audience (PROFILED_OIDC_AUDIENCE): the aud its access tokens carry for profiled")
	}
	claims, err := oidc.ParseClaimMap(c.claims)
	if err != nil {
		return nil, usagef("--oidc-claims (PROFILED_OIDC_CLAIMS): %v", err)
	}
	scopes, err := core.ParseScopes(c.scopes)
	if err != nil {
		return nil, usagef("--oidc-scopes (PROFILED_OIDC_SCOPES): %v", err)
	}
	p, err := oidc.New(oidc.Config{Name: c.name, Issuer: c.issuer, Audience: c.audience, Claims: claims, DefaultScopes: scopes})
	if err != nil {
		return nil, usagef("--oidc-*: %v", err)
	}
	return p, nil
}

func (c *iamConfig) validate() error {
	if c.publicURL == "" {
		return nil
	}
	u, err := url.Parse(c.publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return usagef("--public-url (PROFILED_PUBLIC_URL) must be a scheme and host, like https://id.example.com")
	}
	return nil
}

// iamOptions are the face's options from the configuration.
func (c *iamConfig) iamOptions(logger *slog.Logger) iam.Options {
	return iam.Options{Logger: logger, MaxBodyBytes: iam.DefaultMaxBodyBytes, PublicURL: strings.TrimRight(c.publicURL, "/")}
}

// discover asks the provider for its discovery document once at start, so
// that a wrong issuer shows in the log at once. It does not stop the
// server: the provider may come up later, and profiled's own tokens work
// meanwhile.
func discover(ctx context.Context, p *oidc.Provider, issuer string, logger *slog.Logger) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Discover(dctx); err != nil {
		logger.Warn("the OpenID Connect provider does not answer yet: its tokens fail until it does",
			slog.String("issuer", issuer), slog.String("error", err.Error()))
		return
	}
	logger.Info("trusting an OpenID Connect provider", slog.String("issuer", issuer), slog.String("name", p.Name()))
}

var serviceAccountsCreateCommand = command{
	name:  "service-accounts create",
	short: "create a service account and print its key",
	args:  "--name N [--description D] [--owner USERNAME] [--scopes S] [--db DSN]",
	summary: "Create a service account, a machine identity, and print its first key (a token), alone, on stdout.\n" +
		"The key is shown only this once. Use it in X-API-Key or as a bearer token; GET /iam/v1/users/me/ shows the account.",
	setup: func(fs *flagSet) func(context.Context, *env) error {
		db := dbFlags(fs)
		key := keyFlags(fs)
		var name, description, owner, scopes string
		fs.StringVar(&name, "name", "", "the account's `NAME`, 1 to 64 characters, shown to people (required)")
		fs.StringVar(&description, "description", "", "the account's `DESCRIPTION`: what it is for, at most 500 characters")
		fs.StringVar(&owner, "owner", "", "the `USERNAME` of the person responsible for it")
		fs.StringVar(&scopes, "scopes", "*", "its key's OAuth `SCOPES`: \"*\" for all, or space-separated <category>:read_only|read_write")
		return func(ctx context.Context, e *env) error {
			if err := required("service-accounts create", "name", name); err != nil {
				return err
			}
			sc, err := core.ParseScopes(scopes)
			if err != nil {
				return usagef("service-accounts create: --scopes: %v", err)
			}
			svc, done, err := openService(ctx, e, key, db)
			if err != nil {
				return err
			}
			defer done()
			_, raw, err := svc.CreateServiceAccount(ctx, core.ServiceAccountCreate{Name: name, Description: description, Owner: owner, Scopes: sc})
			if err != nil {
				return cliError("service-accounts create", err, "name", "description", "owner", "scopes")
			}
			fmt.Fprintln(e.stdout, raw)
			return nil
		}
	},
}
