package linode_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linode/linodego"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// wantAPIError checks that err is the Linode API's error of status code,
// naming field when field is set.
func wantAPIError(t *testing.T, what string, err error, code int, field string) {
	t.Helper()
	var le *linodego.Error
	if !errors.As(err, &le) || le.Code != code || (field != "" && !strings.Contains(le.Error(), field)) {
		t.Errorf("%s: %v, want %d naming %q", what, err, code, field)
	}
}

// testAccount builds a team through the API alone, as an owner would:
// the account and its settings, users and their grants, logins and OAuth
// clients, with linodego; and checks that another account sees none of it.
func (e *env) testAccount(t *testing.T) {
	ctx := context.Background()
	c := e.client

	acc, err := c.GetAccount(ctx)
	if err != nil || acc.EUUID == "" || acc.ActiveSince == nil || len(acc.Capabilities) == 0 {
		t.Fatalf("GetAccount: %+v, %v", acc, err)
	}
	acc, err = c.UpdateAccount(ctx, linodego.AccountUpdateOptions{Company: "Wonder Ltd", Email: "billing@example.com", Country: "GB"})
	if err != nil || acc.Company != "Wonder Ltd" || acc.Email != "billing@example.com" || acc.Country != "GB" {
		t.Fatalf("UpdateAccount: %+v, %v", acc, err)
	}
	_, err = c.UpdateAccount(ctx, linodego.AccountUpdateOptions{Email: "not-an-email"})
	wantAPIError(t, "an account email that is not one", err, 400, "email")
	settings, err := c.GetAccountSettings(ctx)
	if err != nil || settings.NetworkHelper {
		t.Fatalf("GetAccountSettings: %+v, %v", settings, err)
	}
	settings, err = c.UpdateAccountSettings(ctx, linodego.AccountSettingsUpdateOptions{NetworkHelper: linodego.Pointer(true)})
	if err != nil || !settings.NetworkHelper {
		t.Fatalf("UpdateAccountSettings: %+v, %v", settings, err)
	}
	if n, err := c.ListNotifications(ctx, nil); err != nil || len(n) != 0 {
		t.Fatalf("ListNotifications: %v, %v", n, err)
	}
	if m, err := c.ListMaintenances(ctx, nil); err != nil || len(m) != 0 {
		t.Fatalf("ListMaintenances: %v, %v", m, err)
	}

	// A restricted user, made, renamed and granted through the API.
	u, err := c.CreateUser(ctx, linodego.UserCreateOptions{Username: "rita", Email: "rita@example.com", Restricted: true})
	if err != nil || u.Username != "rita" || !u.Restricted || u.LastLogin != nil || u.UserType != linodego.UserTypeDefault {
		t.Fatalf("CreateUser: %+v, %v", u, err)
	}
	_, err = c.CreateUser(ctx, linodego.UserCreateOptions{Username: "RITA", Email: "r2@example.com"})
	wantAPIError(t, "a taken username", err, 400, "username")
	_, err = c.CreateUser(ctx, linodego.UserCreateOptions{Username: "r", Email: "r2@example.com"})
	wantAPIError(t, "a short username", err, 400, "username")
	_, raw, err := e.svc.IssueToken(ctx, "rita", "t", core.AllScopes, nil)
	if err != nil {
		t.Fatal(err)
	}
	rita := e.clientFor(raw)
	u, err = c.UpdateUser(ctx, "rita", linodego.UserUpdateOptions{Username: "rita2", Restricted: linodego.Pointer(true)})
	if err != nil || u.Username != "rita2" {
		t.Fatalf("UpdateUser rename: %+v, %v", u, err)
	}
	if p, err := rita.GetProfile(ctx); err != nil || p.Username != "rita2" {
		t.Fatalf("the renamed user's token: %+v, %v", p, err)
	}
	if _, err := c.GetUser(ctx, "rita"); !isNotFound(err) {
		t.Errorf("the old name after the rename: %v, want 404", err)
	}
	users, err := c.ListUsers(ctx, nil)
	if err != nil || len(users) < 2 || users[0].Username != "admin" || users[len(users)-1].Username != "rita2" {
		t.Fatalf("ListUsers: %+v, %v", users, err)
	}
	filtered, err := c.ListUsers(ctx, linodego.NewListOptions(0, `{"restricted": true, "+order_by": "username", "+order": "desc"}`))
	if err != nil || len(filtered) == 0 || filtered[0].Username != "rita2" {
		t.Errorf("ListUsers restricted: %+v, %v", filtered, err)
	}

	g, err := c.UpdateUserGrants(ctx, "rita2", linodego.UserGrantsUpdateOptions{
		Global: linodego.GlobalUserGrants{AddLinodes: true, AccountAccess: linodego.Pointer(linodego.AccessLevelReadOnly)},
		Linode: []linodego.EntityUserGrant{{ID: 7, Permissions: linodego.Pointer(linodego.AccessLevelReadWrite)}},
	})
	if err != nil || !g.Global.AddLinodes || len(g.Linode) != 1 || g.Linode[0].ID != 7 {
		t.Fatalf("UpdateUserGrants: %+v, %v", g, err)
	}
	got, err := c.GetUserGrants(ctx, "rita2")
	if err != nil || len(got.Linode) != 1 || got.Linode[0].Permissions != linodego.AccessLevelReadWrite {
		t.Fatalf("GetUserGrants: %+v, %v", got, err)
	}
	mine, err := rita.GrantsList(ctx)
	if err != nil || len(mine.Linode) != 1 || !mine.Global.AddLinodes {
		t.Fatalf("the user's own /profile/grants: %+v, %v", mine, err)
	}
	if _, err := c.GetUserGrants(ctx, "admin"); err != nil {
		t.Errorf("an unrestricted user's grants (204): %v", err)
	}
	_, err = c.UpdateUserGrants(ctx, "admin", linodego.UserGrantsUpdateOptions{})
	wantAPIError(t, "grants for an unrestricted user", err, 400, "username")

	// The restricted user manages nothing, whatever the token's scopes.
	_, err = rita.ListUsers(ctx, nil)
	wantAPIError(t, "a restricted user lists users", err, 403, "")
	_, err = rita.CreateUser(ctx, linodego.UserCreateOptions{Username: "mallory", Email: "m@example.com"})
	wantAPIError(t, "a restricted user creates a user", err, 403, "")
	if a, err := rita.GetAccount(ctx); err != nil || a.Company != "Wonder Ltd" {
		t.Errorf("a restricted user reads the account: %+v, %v", a, err)
	}

	// The last unrestricted user can be neither restricted nor deleted.
	_, err = c.UpdateUser(ctx, "admin", linodego.UserUpdateOptions{Restricted: linodego.Pointer(true)})
	wantAPIError(t, "restricting the last owner", err, 400, "restricted")
	wantAPIError(t, "deleting the last owner", c.DeleteUser(ctx, "admin"), 400, "username")

	// Logins of every user of the account.
	login := core.Login{UserID: e.admin.ID, AccountID: e.admin.AccountID, Datetime: time.Now().UTC().Truncate(time.Second),
		IP: "192.0.2.9", Username: "admin", Status: core.LoginSuccessful}
	if err := e.store.Update(ctx, func(tx core.Tx) error { return tx.CreateLogin(ctx, &login) }); err != nil {
		t.Fatal(err)
	}
	logins, err := c.ListLogins(ctx, nil)
	if err != nil || len(logins) == 0 {
		t.Fatalf("ListLogins: %+v, %v", logins, err)
	}
	if l, err := c.GetLogin(ctx, int(login.ID)); err != nil || l.IP != "192.0.2.9" {
		t.Fatalf("GetLogin: %+v, %v", l, err)
	}

	// OAuth clients: the secret shown at creation and reset only.
	oc, err := c.CreateOAuthClient(ctx, linodego.OAuthClientCreateOptions{Label: "Team app", RedirectURI: "https://app.example/cb"})
	if err != nil || len(oc.ID) != 20 || len(oc.Secret) != 64 || oc.Status != linodego.OAuthClientActive || oc.ThumbnailURL != nil {
		t.Fatalf("CreateOAuthClient: %+v, %v", oc, err)
	}
	if _, err := e.svc.CheckAuthorize(ctx, core.AuthorizeRequest{ClientID: oc.ID, ResponseType: "code", RedirectURI: "https://app.example/cb"}); err != nil {
		t.Errorf("the new client at /oauth/authorize: %v", err)
	}
	_, err = c.CreateOAuthClient(ctx, linodego.OAuthClientCreateOptions{Label: "Bad", RedirectURI: "http://evil.example/cb"})
	wantAPIError(t, "an http redirect URI", err, 400, "redirect_uri")
	read, err := c.GetOAuthClient(ctx, oc.ID)
	if err != nil || read.Secret != "<REDACTED>" || read.Label != "Team app" {
		t.Fatalf("GetOAuthClient: %+v, %v", read, err)
	}
	up, err := c.UpdateOAuthClient(ctx, oc.ID, linodego.OAuthClientUpdateOptions{Label: "Team app 2", RedirectURI: "https://app.example/cb2"})
	if err != nil || up.Label != "Team app 2" || up.RedirectURI != "https://app.example/cb2" || up.Secret != "<REDACTED>" {
		t.Fatalf("UpdateOAuthClient: %+v, %v", up, err)
	}
	reset, err := c.ResetOAuthClientSecret(ctx, oc.ID)
	if err != nil || len(reset.Secret) != 64 || reset.Secret == oc.Secret {
		t.Fatalf("ResetOAuthClientSecret: %+v, %v", reset, err)
	}
	// Cloud Manager's OAuth Apps page orders them by status.
	clients, err := c.ListOAuthClients(ctx, linodego.NewListOptions(0, `{"+order":"desc","+order_by":"status"}`))
	if err != nil || len(clients) != 1 {
		t.Fatalf("ListOAuthClients: %+v, %v", clients, err)
	}
	e.testThumbnail(t, oc.ID)
	if read, err := c.GetOAuthClient(ctx, oc.ID); err != nil || read.ThumbnailURL == nil || !strings.HasSuffix(*read.ThumbnailURL, "/v4/account/oauth-clients/"+oc.ID+"/thumbnail") {
		t.Errorf("a client with a thumbnail: %+v, %v", read, err)
	}

	// Another account sees none of it: 404, not 403.
	zed, err := e.svc.CreateUser(ctx, core.UserCreate{Username: "zed", Email: "zed@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	_, zraw, err := e.svc.IssueToken(ctx, zed.Username, "t", core.AllScopes, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := e.clientFor(zraw)
	if list, err := other.ListUsers(ctx, nil); err != nil || len(list) != 1 || list[0].Username != "zed" {
		t.Errorf("the other account's users: %+v, %v", list, err)
	}
	for what, err := range map[string]error{
		"GetUser":        second(other.GetUser(ctx, "rita2")),
		"UpdateUser":     second(other.UpdateUser(ctx, "rita2", linodego.UserUpdateOptions{Email: "x@example.com"})),
		"DeleteUser":     other.DeleteUser(ctx, "rita2"),
		"GetUserGrants":  second(other.GetUserGrants(ctx, "rita2")),
		"GetLogin":       second(other.GetLogin(ctx, int(login.ID))),
		"GetOAuthClient": second(other.GetOAuthClient(ctx, oc.ID)),
		"DeleteClient":   other.DeleteOAuthClient(ctx, oc.ID),
		"ResetSecret":    second(other.ResetOAuthClientSecret(ctx, oc.ID)),
	} {
		if !isNotFound(err) {
			t.Errorf("%s of another account: %v, want 404", what, err)
		}
	}
	if a, err := other.GetAccount(ctx); err != nil || a.EUUID == acc.EUUID || a.Company != "" {
		t.Errorf("the other account: %+v, %v", a, err)
	}

	// Deleting a user refuses their token at once.
	if err := c.DeleteUser(ctx, "rita2"); err != nil {
		t.Fatal(err)
	}
	_, err = rita.GetProfile(ctx)
	wantAPIError(t, "a deleted user's token", err, 401, "")
	if err := c.DeleteOAuthClient(ctx, oc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetOAuthClient(ctx, oc.ID); !isNotFound(err) {
		t.Errorf("a deleted client: %v, want 404", err)
	}
}

func second[T any](_ T, err error) error { return err }

func isNotFound(err error) bool {
	var le *linodego.Error
	return errors.As(err, &le) && le.Code == 404
}

// testThumbnail puts and gets a client's thumbnail, which linodego does
// not: a PNG as the body, as the Linode API takes it.
func (e *env) testThumbnail(t *testing.T, clientID string) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	url := e.srv.URL + "/v4/account/oauth-clients/" + clientID + "/thumbnail"
	do := func(method, contentType string, body []byte) (int, []byte) {
		req, _ := http.NewRequest(method, url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.token)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := (&http.Client{Transport: e.rec}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if status, _ := do("GET", "", nil); status != 404 {
		t.Errorf("a thumbnail before any: %d, want 404", status)
	}
	if status, body := do("PUT", "image/png", []byte("GIF89a not a png")); status != 400 {
		t.Errorf("a thumbnail that is not a PNG: %d %s, want 400", status, body)
	}
	if status, body := do("PUT", "image/png", buf.Bytes()); status != 200 || string(body) != "{}\n" {
		t.Fatalf("PUT thumbnail: %d %s", status, body)
	}
	if status, body := do("GET", "", nil); status != 200 || !bytes.Equal(body, buf.Bytes()) {
		t.Errorf("GET thumbnail: %d, %d bytes, want the PNG put", status, len(body))
	}
}

// testEvents reads the Events API after testAccount: the account's
// security events with their Linode actions, Cloud Manager's poll filter,
// seen and read, and nothing of another account's.
func (e *env) testEvents(t *testing.T) {
	ctx := context.Background()
	c := e.client
	events, err := c.ListEvents(ctx, nil)
	if err != nil || len(events) == 0 {
		t.Fatalf("ListEvents: %+v, %v", events, err)
	}
	actions := map[linodego.EventAction]int{}
	for i, ev := range events {
		actions[ev.Action]++
		if i > 0 && ev.ID > events[i-1].ID {
			t.Errorf("events not newest first: %d after %d", ev.ID, events[i-1].ID)
		}
		if ev.Status != linodego.EventNotification || ev.Seen || ev.Read || ev.Entity == nil {
			t.Errorf("a new event: %+v", ev)
		}
	}
	for _, want := range []linodego.EventAction{linodego.ActionTokenCreate, linodego.ActionUserCreate, linodego.ActionUserDelete,
		linodego.ActionUserSSHKeyAdd, linodego.ActionUserSSHKeyDelete, linodego.ActionOAuthClientCreate,
		linodego.ActionOAuthClientSecretReset, linodego.ActionOAuthClientDelete} {
		if actions[want] == 0 {
			t.Errorf("no %s event among %v", want, actions)
		}
	}
	// Cloud Manager polls with this filter.
	since := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04:05")
	polled, err := c.ListEvents(ctx, linodego.NewListOptions(0, `{"action":{"+neq":"profile_update"},"+order":"desc","+order_by":"id","created":{"+gt":"`+since+`"}}`))
	if err != nil || len(polled) != len(events) {
		t.Errorf("Cloud Manager's poll: %d events, %v; want %d", len(polled), err, len(events))
	}
	deleted, err := c.ListEvents(ctx, linodego.NewListOptions(0, `{"action":"user_delete"}`))
	if err != nil || len(deleted) != 1 || deleted[0].Entity.Label != "rita2" || deleted[0].Username != "rita2" {
		t.Errorf("user_delete events: %+v, %v", deleted, err)
	}
	one, err := c.GetEvent(ctx, events[0].ID)
	if err != nil || one.ID != events[0].ID || one.Action != events[0].Action {
		t.Fatalf("GetEvent: %+v, %v", one, err)
	}
	if err := c.MarkEventsSeen(ctx, &events[1]); err != nil {
		t.Fatal(err)
	}
	if err := c.MarkEventRead(ctx, &events[0]); err != nil {
		t.Fatal(err)
	}
	after, err := c.ListEvents(ctx, nil)
	if err != nil || after[0].Seen || !after[0].Read || !after[1].Seen || !after[len(after)-1].Seen {
		t.Errorf("after seen up to %d and read %d: %+v, %v", events[1].ID, events[0].ID, after[:2], err)
	}
	// Another account: none of these, 404 for each.
	other := e.clientFor(e.otherToken(t))
	if mine, err := other.ListEvents(ctx, nil); err != nil || slices.ContainsFunc(mine, func(ev linodego.Event) bool { return ev.ID == events[0].ID }) {
		t.Errorf("the other account's events: %+v, %v", mine, err)
	}
	if _, err := other.GetEvent(ctx, events[0].ID); !isNotFound(err) {
		t.Errorf("another account's event: %v, want 404", err)
	}
	if err := other.MarkEventRead(ctx, &events[1]); !isNotFound(err) {
		t.Errorf("marking another account's event: %v, want 404", err)
	}
}

// otherToken is a token of zed, the owner of another account (testAccount
// made him).
func (e *env) otherToken(t *testing.T) string {
	_, raw, err := e.svc.IssueToken(context.Background(), "zed", "events", core.AllScopes, nil)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestOldValuesThroughLinodego: a user whose username and email an earlier,
// looser profiled took (alice_, jürgen@example.com; written here through
// the store, as an old database holds them) is still updated by linodego,
// whose GetUpdateOptions send both back unchanged, on the profile and as an
// account user; a new value that breaks the rules is refused.
func TestOldValuesThroughLinodego(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			old := e.admin
			old.Username, old.Email = "admin_", "jürgen@example.com"
			if err := e.store.Update(ctx, func(tx core.Tx) error { return tx.UpdateUser(ctx, old) }); err != nil {
				t.Fatal(err)
			}
			p, err := e.client.GetProfile(ctx)
			if err != nil || p.Username != "admin_" {
				t.Fatalf("GetProfile: %+v, %v", p, err)
			}
			opts := p.GetUpdateOptions()
			opts.Timezone = "Europe/Berlin"
			if p, err = e.client.UpdateProfile(ctx, opts); err != nil || p.Timezone != "Europe/Berlin" || p.Email != old.Email {
				t.Fatalf("UpdateProfile with the old email sent back: %+v, %v", p, err)
			}
			u, err := e.client.GetUser(ctx, "admin_")
			if err != nil {
				t.Fatal(err)
			}
			if u, err = e.client.UpdateUser(ctx, "admin_", u.GetUpdateOptions()); err != nil || u.Username != "admin_" {
				t.Fatalf("UpdateUser with the old username and email sent back: %+v, %v", u, err)
			}
			_, err = e.client.UpdateUser(ctx, "admin_", linodego.UserUpdateOptions{Username: "admin__"})
			wantAPIError(t, "a new username with two underscores", err, 400, "username")
			opts.Email = "josé@example.com"
			_, err = e.client.UpdateProfile(ctx, opts)
			wantAPIError(t, "a new email that is not ASCII", err, 400, "email")
		})
	}
}
