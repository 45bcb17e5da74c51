package core_test

import (
	"testing"

	"github.com/profiled/profiled/core"
)

// TestOperatorUpdatesAnAccountsClient: the operator changes only the
// fields given, of any account's client, by the rules of registration;
// a disabled client is unknown to OAuth until enabled again.
func TestOperatorUpdatesAnAccountsClient(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", false)
	label, uri := "Alice's app", "https://alice.example/cb"
	c, _, err := e.svc.CreateAccountOAuthClient(e.ctx, alice, core.AccountClientInput{Label: &label, RedirectURI: &uri})
	noErr(t, err)

	for field, in := range map[string]core.OAuthClientUpdate{
		"label":                  {Label: ptr("")},
		"website":                {Website: ptr("ftp://alice.example")},
		"redirect_uri":           {RedirectURIs: []string{}},
		"backchannel_logout_uri": {BackchannelLogoutURI: ptr("https://alice.example/bcl#frag")},
	} {
		_, err := e.svc.UpdateOAuthClient(e.ctx, c.ID, in)
		wantErr(t, err, core.KindInvalid, field)
	}
	_, err = e.svc.UpdateOAuthClient(e.ctx, "nope", core.OAuthClientUpdate{Label: ptr("x")})
	wantErr(t, err, core.KindNotFound, "")

	got, err := e.svc.UpdateOAuthClient(e.ctx, c.ID, core.OAuthClientUpdate{BackchannelLogoutURI: ptr("https://alice.example/bcl"),
		Disabled: ptr(true)})
	noErr(t, err)
	if got.Label != label || got.AccountID != alice.User.AccountID || len(got.RedirectURIs) != 1 || got.Status != core.OAuthClientDisabled ||
		got.BackchannelLogoutURI != "https://alice.example/bcl" {
		t.Fatalf("after the update: %+v", got)
	}
	_, err = e.svc.OAuthClient(e.ctx, c.ID)
	wantErr(t, err, core.KindNotFound, "")
	// The account still sees it, disabled.
	mine, err := e.svc.AccountOAuthClient(e.ctx, alice, c.ID)
	noErr(t, err)
	if mine.Status != core.OAuthClientDisabled {
		t.Fatalf("the account's view: %+v", mine)
	}
	_, err = e.svc.UpdateOAuthClient(e.ctx, c.ID, core.OAuthClientUpdate{Disabled: ptr(false)})
	noErr(t, err)
	if _, err := e.svc.OAuthClient(e.ctx, c.ID); err != nil {
		t.Fatalf("the client after enabling it: %v", err)
	}
}
