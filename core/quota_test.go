package core_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// overQuota checks the answer to an add past a quota: a conflict that
// names the bound and what to do, and one event for the refused add,
// quota.exceeded with the quota's name, and no other.
func overQuota(t *testing.T, e *env, err error, want, quota string) {
	t.Helper()
	ce := wantErr(t, err, core.KindConflict, "")
	if ce.Code != core.CodeQuotaExceeded || !strings.Contains(ce.Reason, want) || !strings.Contains(ce.Reason, "delete one") {
		t.Fatalf("over quota: code %q, reason %q; want quota-exceeded and %q", ce.Code, ce.Reason, want)
	}
	if got := e.events.take(); len(got) != 1 || got[0].Name != core.EventQuotaExceeded || got[0].Detail != quota || got[0].UserID == 0 {
		t.Fatalf("a refused add reported events %+v; want one %s of %s", got, core.EventQuotaExceeded, quota)
	}
}

func TestQuotaSSHKeys(t *testing.T) {
	e := newEnv(t)
	e.quotas = core.Quotas{SSHKeys: 2}
	e.reopen()
	a, b := e.user("alice", false), e.user("bob", false)
	add := func(a core.Actor) (core.SSHKey, error) {
		return e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: "k", Key: testenv.NewSSHKey(t, "")})
	}
	first, err := add(a)
	noErr(t, err)
	_, err = add(a)
	noErr(t, err)
	e.events.take()
	_, err = add(a)
	overQuota(t, e, err, "at most 2 SSH keys", "ssh_keys")
	page, err := e.svc.SSHKeys(e.ctx, a, core.ListQuery{Page: 1, PageSize: 100})
	noErr(t, err)
	if page.Results != 2 {
		t.Fatalf("alice has %d keys after the refused add, want 2", page.Results)
	}
	_, err = add(b) // bob's quota is his own
	noErr(t, err)
	noErr(t, e.svc.DeleteSSHKey(e.ctx, a, first.ID))
	_, err = add(a)
	noErr(t, err)
}

func TestQuotaPersonalTokens(t *testing.T) {
	e := newEnv(t)
	e.quotas = core.Quotas{PersonalTokens: 3}
	e.reopen()
	a := e.user("alice", false) // its token is the first of three
	soon := e.clock.Now().Add(time.Hour)
	short, _, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "short", Expiry: &soon})
	noErr(t, err)
	_, _, err = e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "third"})
	noErr(t, err)
	e.events.take()
	_, _, err = e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "fourth"})
	overQuota(t, e, err, "at most 3 personal access tokens", "personal_tokens")

	// An expired token no longer counts, even before the purge deletes it.
	e.clock.Advance(time.Hour + time.Second)
	_, _, err = e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "after short"})
	noErr(t, err)
	if _, err := e.svc.Token(e.ctx, a, short.ID); err == nil {
		t.Fatal("the expired token is still listed")
	}

	// An operator (the command line) may pass the quota; what they issue
	// counts toward it.
	_, _, err = e.svc.IssueToken(e.ctx, "alice", "cli", core.AllScopes, nil)
	noErr(t, err)
	e.events.take()
	_, _, err = e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "fifth"})
	overQuota(t, e, err, "at most 3 personal access tokens", "personal_tokens")
}

func TestQuotaOAuthClients(t *testing.T) {
	e := newEnv(t)
	e.quotas = core.Quotas{OAuthClients: 2}
	e.reopen()
	a := e.user("alice", false)
	add := func(i int) error {
		label, uri := fmt.Sprint("app ", i), "https://app.example/cb"
		_, _, err := e.svc.CreateAccountOAuthClient(e.ctx, a, core.AccountClientInput{Label: &label, RedirectURI: &uri})
		return err
	}
	noErr(t, add(1))
	noErr(t, add(2))
	e.events.take()
	overQuota(t, e, add(3), "at most 2 OAuth clients in an account", "oauth_clients")
	page, err := e.svc.AccountOAuthClients(e.ctx, a, core.ListQuery{Page: 1, PageSize: 100})
	noErr(t, err)
	if page.Results != 2 {
		t.Fatalf("the account has %d clients after the refused add, want 2", page.Results)
	}
}

// TestQuotaAccountUsers: an owner adds users up to the quota (themself
// included), then gets a conflict and no invitation; the operator's
// command line may pass it.
func TestQuotaAccountUsers(t *testing.T) {
	e := newEnv(t)
	e.quotas = core.Quotas{AccountUsers: 2}
	e.reopen()
	a := e.user("alice", false)
	add := func(name string) error {
		_, err := e.svc.CreateAccountUser(e.ctx, a, core.UserCreate{Username: name, Email: name + "@example.com", Restricted: true})
		return err
	}
	noErr(t, add("bob"))
	e.events.take()
	overQuota(t, e, add("carol"), "at most 2 users in an account", "account_users")
	if _, err := e.store.UserByUsername(e.ctx, "carol"); err == nil {
		t.Fatal("the refused user was stored")
	}
	_, err := e.svc.CreateUser(e.ctx, core.UserCreate{Username: "dave", Email: "dave@example.com", AccountOf: "alice", Restricted: true})
	noErr(t, err)
}

// TestQuotaDefaults: a Service without quotas takes DefaultQuotas.
func TestQuotaDefaults(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	limit := core.DefaultQuotas.SSHKeys
	if limit < 100 {
		t.Fatalf("DefaultQuotas.SSHKeys is %d: it should be far above what a person keeps", limit)
	}
	line := testenv.NewSSHKey(t, "")
	noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error {
		for range limit - 1 {
			if err := tx.CreateSSHKey(e.ctx, &core.SSHKey{UserID: a.User.ID, Key: line, Fingerprint: "f", Created: e.clock.Now()}); err != nil {
				return err
			}
		}
		return nil
	}))
	add := func() error {
		_, err := e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: "k", Key: line})
		return err
	}
	noErr(t, add())
	e.events.take()
	overQuota(t, e, add(), fmt.Sprintf("at most %d SSH keys", limit), "ssh_keys")
}

// TestAccountQuota: an account's own quota replaces the server's for its
// users, the answer names it, 0 gives the server's back, and the bound is
// checked as the flags are.
func TestAccountQuota(t *testing.T) {
	e := newEnv(t)
	e.quotas = core.Quotas{SSHKeys: 2}
	e.reopen()
	a, b := e.user("alice", false), e.user("bob", false)
	add := func(a core.Actor) error {
		_, err := e.svc.AddSSHKey(e.ctx, a, core.SSHKeyCreate{Label: "k", Key: testenv.NewSSHKey(t, "")})
		return err
	}
	noErr(t, e.svc.SetAccountQuotas(e.ctx, a.User.AccountID, map[core.Quota]int{core.QuotaSSHKeys: 3}))
	for range 3 {
		noErr(t, add(a))
	}
	e.events.take()
	overQuota(t, e, add(a), "at most 3 SSH keys", "ssh_keys")
	noErr(t, add(b))
	noErr(t, add(b))
	e.events.take()
	overQuota(t, e, add(b), "at most 2 SSH keys", "ssh_keys") // the server's

	own, err := e.svc.AccountQuotas(e.ctx, a.User.AccountID)
	noErr(t, err)
	if len(own) != 1 || own[core.QuotaSSHKeys] != 3 {
		t.Fatalf("AccountQuotas = %v", own)
	}
	noErr(t, e.svc.SetAccountQuotas(e.ctx, a.User.AccountID, map[core.Quota]int{core.QuotaSSHKeys: 0}))
	if got := e.events.take(); len(got) != 1 || got[0].Name != core.EventQuotaSet || got[0].Detail != "account 1: ssh_keys=0" {
		t.Fatalf("setting a quota reported %+v", got)
	}
	overQuota(t, e, add(a), "at most 2 SSH keys", "ssh_keys")

	set := func(account int64, bounds map[core.Quota]int) error {
		return e.svc.SetAccountQuotas(e.ctx, account, bounds)
	}
	wantErr(t, set(a.User.AccountID, map[core.Quota]int{core.QuotaSSHKeys: -1}), core.KindInvalid, "ssh_keys")
	wantErr(t, set(a.User.AccountID, map[core.Quota]int{core.QuotaPreferenceBytes: 1 << 41}), core.KindInvalid, "preference_bytes")
	wantErr(t, set(1<<40, map[core.Quota]int{core.QuotaSSHKeys: 5}), core.KindNotFound, "")
	wantErr(t, set(a.User.AccountID, nil), core.KindInvalid, "quota")
	// One bound out of range sets none of the others.
	wantErr(t, set(a.User.AccountID, map[core.Quota]int{core.QuotaSSHKeys: 7, core.QuotaPersonalTokens: -1}), core.KindInvalid, "personal_tokens")
	if own, err = e.svc.AccountQuotas(e.ctx, a.User.AccountID); err != nil || len(own) != 0 {
		t.Fatalf("a refused set left %v, %v", own, err)
	}
	// Several at once, in one transaction, an event each.
	noErr(t, set(a.User.AccountID, map[core.Quota]int{core.QuotaSSHKeys: 4, core.QuotaPersonalTokens: 9}))
	if got := e.events.take(); len(got) != 2 {
		t.Fatalf("setting two quotas reported %+v", got)
	}
	own, err = e.svc.AccountQuotas(e.ctx, a.User.AccountID)
	noErr(t, err)
	if len(own) != 2 || own[core.QuotaSSHKeys] != 4 || own[core.QuotaPersonalTokens] != 9 {
		t.Fatalf("AccountQuotas after setting two = %v", own)
	}
	_, err = e.svc.AccountQuotas(e.ctx, 1<<40)
	wantErr(t, err, core.KindNotFound, "")
}
