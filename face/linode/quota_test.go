package linode_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/linode/linodego"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/linode"
	"github.com/profiled/profiled/internal/testenv"
)

// TestQuotasWithLinodego: linodego, unmodified, gets a 400 in the Linode
// envelope, which says what to do, for an add past a quota; adds sent at
// once pass exactly up to the bound, on either engine.
func TestQuotasWithLinodego(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			svc := core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: b.Open(t), Box: testenv.TestKey(),
				SMS: &testenv.SMSInbox{}, Quotas: core.Quotas{SSHKeys: 5, PersonalTokens: 2, OAuthClients: 1, AccountUsers: 2}})
			tok, err := svc.Bootstrap(ctx) // the first of admin's two tokens
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(linode.New(svc, linode.Options{}))
			t.Cleanup(srv.Close)
			c := testenv.Linodego(&http.Client{}, srv.URL, tok)

			overQuota := func(what string, err error, want string) {
				t.Helper()
				var le *linodego.Error
				if !errors.As(err, &le) || le.Code != 400 || !strings.Contains(le.Message, want) {
					t.Fatalf("%s past the quota: %v, want a 400 saying %q", what, err, want)
				}
			}

			const adds = 20
			var wg sync.WaitGroup
			errs := make([]error, adds)
			for i := range adds {
				key := testenv.NewSSHKey(t, "")
				wg.Go(func() {
					_, errs[i] = c.CreateSSHKey(ctx, linodego.SSHKeyCreateOptions{Label: "k", SSHKey: key})
				})
			}
			wg.Wait()
			passed := 0
			for _, err := range errs {
				if err == nil {
					passed++
				} else {
					overQuota("an SSH key", err, "at most 5 SSH keys")
				}
			}
			keys, err := c.ListSSHKeys(ctx, nil)
			if passed != 5 || err != nil || len(keys) != 5 {
				t.Fatalf("%d of %d adds at once passed, %d keys listed (%v); want 5 and 5", passed, adds, len(keys), err)
			}

			_, err = c.CreateToken(ctx, linodego.TokenCreateOptions{Label: "second"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CreateToken(ctx, linodego.TokenCreateOptions{Label: "third"})
			overQuota("a token", err, "at most 2 personal access tokens")

			_, err = c.CreateOAuthClient(ctx, linodego.OAuthClientCreateOptions{Label: "one", RedirectURI: "https://app.example/cb"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CreateOAuthClient(ctx, linodego.OAuthClientCreateOptions{Label: "two", RedirectURI: "https://app.example/cb"})
			overQuota("an OAuth client", err, "at most 1 OAuth clients in an account")

			_, err = c.CreateUser(ctx, linodego.UserCreateOptions{Username: "bob", Email: "bob@example.com", Restricted: true})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CreateUser(ctx, linodego.UserCreateOptions{Username: "carol", Email: "carol@example.com", Restricted: true})
			overQuota("a user", err, "at most 2 users in an account")
		})
	}
}
