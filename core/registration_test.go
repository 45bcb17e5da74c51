package core_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// TestRegisterClient: with registration open, an application registers
// itself: confidential by default (a secret, shown once), public with
// token_endpoint_auth_method none; its name and website default to its
// redirect URI's; it is marked as registered, with none of the
// operator's settings, and runs the code flow. Bad metadata is
// invalid_redirect_uri or invalid_client_metadata, naming the member; 20
// registrations from one address per hour, even sent at once; closed,
// registration is not found.
func TestRegisterClient(t *testing.T) {
	e := newEnv(t)
	_, _, err := e.svc.RegisterClient(e.ctx, core.ClientRegistration{RedirectURIs: []string{"https://app.example/cb"}})
	wantErr(t, err, core.KindNotFound, "")
	e.registration = true
	e.reopen()
	if !e.svc.TakesRegistrations() {
		t.Fatal("registration stays closed")
	}

	c, secret, err := e.svc.RegisterClient(e.ctx, core.ClientRegistration{RedirectURIs: []string{"https://rp.example/cb"}, IP: "192.0.2.1"})
	noErr(t, err)
	if secret == "" || c.Public || !c.Registered || c.FirstParty || c.DeviceGrant || c.RequireMFA || c.AccountID != 0 ||
		c.Label != "rp.example" || c.Website != "https://rp.example" {
		t.Fatalf("a registration with redirect_uris alone: %+v, secret %q", c, secret)
	}
	withPassword(t, e, "alice")
	alice := session(t, e)
	g := signInTo(t, e, alice, c, secret) // a sign-in: its authorization ends with the session
	if g.AccessToken == "" {
		t.Fatal("the registered client got no token")
	}
	kept, keptSecret, err := e.svc.RegisterClient(e.ctx, core.ClientRegistration{RedirectURIs: []string{"https://rp.example/cb"}, IP: "192.0.2.1"})
	noErr(t, err)
	_, err = authorizeIn(t, e, alice, kept, keptSecret, "account:read_only") // API access, for 30 days
	noErr(t, err)
	pub, secret, err := e.svc.RegisterClient(e.ctx, core.ClientRegistration{RedirectURIs: []string{"http://127.0.0.1:33418/callback"},
		ClientName: "Claude Code", ClientURI: "https://claude.example", LogoURI: "https://claude.example/logo.png",
		TokenEndpointAuthMethod: "none", GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"}, IP: "192.0.2.1"})
	noErr(t, err)
	if secret != "" || !pub.Public || pub.Label != "Claude Code" || pub.ThumbnailURL != "https://claude.example/logo.png" {
		t.Fatalf("a public registration: %+v, secret %q", pub, secret)
	}
	var registered []core.Event
	for _, ev := range e.events.take() {
		if ev.Name == core.EventClientRegistered {
			registered = append(registered, ev)
		}
	}
	if len(registered) != 3 || registered[2].UserID != 0 || !strings.Contains(registered[2].Detail, pub.ID) ||
		!strings.Contains(registered[2].Detail, "192.0.2.1") {
		t.Fatalf("the registrations' events: %+v", registered)
	}
	stored, err := e.svc.OperatorOAuthClient(e.ctx, pub.ID)
	noErr(t, err)
	if !stored.Registered {
		t.Fatal("the stored client is not marked as registered")
	}

	for _, tc := range []struct {
		in          core.ClientRegistration
		code, field string
	}{
		{core.ClientRegistration{}, core.OAuthInvalidRedirectURI, "redirect_uris"},
		{core.ClientRegistration{RedirectURIs: []string{"http://evil.example/cb"}}, core.OAuthInvalidRedirectURI, "redirect_uris"},
		{core.ClientRegistration{RedirectURIs: []string{"https://a.example/cb#x"}}, core.OAuthInvalidRedirectURI, "redirect_uris"},
		{core.ClientRegistration{RedirectURIs: slices.Repeat([]string{"https://a.example/cb"}, 11)}, core.OAuthInvalidRedirectURI, "redirect_uris"},
		{core.ClientRegistration{RedirectURIs: []string{"https://a.example/cb"}, TokenEndpointAuthMethod: "private_key_jwt"}, core.OAuthInvalidClientMetadata, "token_endpoint_auth_method"},
		{core.ClientRegistration{RedirectURIs: []string{"https://a.example/cb"}, GrantTypes: []string{"client_credentials"}}, core.OAuthInvalidClientMetadata, "grant_types"},
		{core.ClientRegistration{RedirectURIs: []string{"https://a.example/cb"}, GrantTypes: []string{"refresh_token"}}, core.OAuthInvalidClientMetadata, "grant_types"},
		{core.ClientRegistration{RedirectURIs: []string{"https://a.example/cb"}, ResponseTypes: []string{"token"}}, core.OAuthInvalidClientMetadata, "response_types"},
		{core.ClientRegistration{RedirectURIs: []string{"https://a.example/cb"}, ClientName: strings.Repeat("n", 101)}, core.OAuthInvalidClientMetadata, "client_name"},
		{core.ClientRegistration{RedirectURIs: []string{"https://a.example/cb"}, ClientURI: "javascript:alert(1)"}, core.OAuthInvalidClientMetadata, "client_uri"},
		{core.ClientRegistration{RedirectURIs: []string{"https://a.example/cb"}, LogoURI: "ftp://a.example/l.png"}, core.OAuthInvalidClientMetadata, "logo_uri"},
	} {
		_, _, err := e.svc.RegisterClient(e.ctx, tc.in)
		oe := core.AsOAuthError(err)
		if oe == nil || oe.Code != tc.code || oe.Err.Field != tc.field {
			t.Errorf("%+v: %v, want %s naming %s", tc.in, err, tc.code, tc.field)
		}
	}

	// The limit holds for registrations sent at once.
	errs := make([]error, core.RegistrationsPerAddress+5)
	fns := make([]func(), len(errs))
	for i := range fns {
		fns[i] = func() {
			_, _, errs[i] = e.svc.RegisterClient(e.ctx, core.ClientRegistration{RedirectURIs: []string{"https://many.example/cb"}, IP: "192.0.2.99"})
		}
	}
	together(fns...)
	made, limited := 0, 0
	for _, err := range errs {
		switch core.KindOf(err) {
		case core.KindTooManyRequests:
			limited++
		default:
			noErr(t, err)
			made++
		}
	}
	if made != core.RegistrationsPerAddress || limited != 5 {
		t.Fatalf("%d registrations at once from one address: %d made, %d refused", len(errs), made, limited)
	}
	// And for all addresses together: 1,000 an hour.
	left := core.RegistrationsPerWindow - 3 - core.RegistrationsPerAddress // made above
	for i := range left {
		_, _, err := e.svc.RegisterClient(e.ctx, core.ClientRegistration{RedirectURIs: []string{"https://many.example/cb"},
			IP: fmt.Sprintf("198.51.100.%d", i%250)})
		noErr(t, err)
	}
	_, _, err = e.svc.RegisterClient(e.ctx, core.ClientRegistration{RedirectURIs: []string{"https://many.example/cb"}, IP: "203.0.113.1"})
	wantErr(t, err, core.KindTooManyRequests, "")

	// A day on, the registrations without an authorization are gone: the
	// unused ones, and the sign-in's, whose authorization ended with its
	// session; the one with API access stays.
	e.clock.Advance(core.UnusedRegistrationLifetime + time.Minute)
	_, err = e.svc.PurgeExpired(e.ctx)
	noErr(t, err)
	for id, want := range map[string]bool{c.ID: false, pub.ID: false, kept.ID: true} {
		_, err := e.svc.OperatorOAuthClient(e.ctx, id)
		if (err == nil) != want {
			t.Errorf("client %s after a day: %v, want it kept %v", id, err, want)
		}
	}
	all, err := e.svc.OAuthClients(e.ctx, "", 0)
	noErr(t, err)
	if len(all) != 1 || all[0].ID != kept.ID {
		t.Errorf("%d clients after the purge, want the authorized one", len(all))
	}
	_, _, err = e.svc.RegisterClient(e.ctx, core.ClientRegistration{RedirectURIs: []string{"https://many.example/cb"}, IP: "203.0.113.1"})
	noErr(t, err) // the hour is over
}
