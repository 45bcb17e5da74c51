package linode_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/linode/linodego"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// TestWhatTerraformSends covers what the Terraform provider's
// linode_account_settings needs beyond what linodego's own calls show,
// found by running terraform apply and plan against profiled
// (docs/real-clients.md): it puts the Longview plan ("" for none) on
// every create and update, and takes the account's contact address for
// its id, so that an account without one drops out of its state. The
// Longview plan's calls are in testLongviewPlan.
func TestWhatTerraformSends(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()

			acc, err := e.client.GetAccount(ctx)
			if err != nil || acc.Email != e.admin.Email {
				t.Fatalf("the new account's email: %q, %v; want its first user's, %q", acc.Email, err, e.admin.Email)
			}
			if _, err := e.client.UpdateAccount(ctx, linodego.AccountUpdateOptions{Email: ""}); err != nil {
				t.Fatalf("an update without an email (omitempty) failed: %v", err)
			}
			if status, _, body := e.do("PUT", "/v4/account", "application/json", []byte(`{"email":""}`)); status != 400 || envelope(t, body)[0].Field != "email" {
				t.Fatalf("removing the account's email: %d %s", status, body)
			}
		})
	}
}

// testLongviewPlan is the plan linode_account_settings sets, with
// linodego's calls (TestLinodegoEndToEnd runs it, so that the answers are
// checked against the served description).
func (e *env) testLongviewPlan(t *testing.T) {
	ctx := context.Background()
	if plan, err := e.client.GetLongviewPlan(ctx); err != nil || plan.ID != "" {
		t.Fatalf("GET /longview/plan: %+v, %v; want none", plan, err)
	}
	if _, err := e.client.UpdateLongviewPlan(ctx, linodego.LongviewPlanUpdateOptions{LongviewSubscription: ""}); err != nil {
		t.Fatalf("PUT /longview/plan none: %v", err)
	}
	if status, _, body := e.do("PUT", "/v4/longview/plan", "application/json", []byte(`{"longview_subscription":null}`)); status != 200 || string(body) != "{}\n" {
		t.Fatalf("PUT /longview/plan null: %d %s", status, body)
	}
	// Side by side, every read and write of the plan answers as alone.
	var wg sync.WaitGroup
	failures := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = e.client.UpdateLongviewPlan(ctx, linodego.LongviewPlanUpdateOptions{})
			} else {
				_, err = e.client.GetLongviewPlan(ctx)
			}
			if err != nil {
				failures <- err
			}
		})
	}
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Errorf("a Longview plan request among 64 at once: %v", err)
	}
	_, err := e.client.UpdateLongviewPlan(ctx, linodego.LongviewPlanUpdateOptions{LongviewSubscription: "longview-10"})
	if le := (*linodego.Error)(nil); !errors.As(err, &le) || le.Code != 400 {
		t.Fatalf("a Longview Pro plan: %v, want 400", err)
	}

	// A restricted user needs the longview_subscription grant, and
	// every token the longview scope.
	if _, err := e.svc.CreateUser(ctx, core.UserCreate{Username: "viewer", Email: "viewer@example.com", AccountOf: "admin", Restricted: true}); err != nil {
		t.Fatal(err)
	}
	_, raw, err := e.svc.IssueToken(ctx, "viewer", "test", core.AllScopes, nil)
	if err != nil {
		t.Fatal(err)
	}
	viewer := e.clientFor(raw)
	if _, err := viewer.GetLongviewPlan(ctx); !isStatus(err, 403) {
		t.Fatalf("a restricted user without the grant: %v, want 403", err)
	}
	if err := e.svc.SetGrants(ctx, "viewer", []byte(`{"global":{"longview_subscription":true}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := viewer.UpdateLongviewPlan(ctx, linodego.LongviewPlanUpdateOptions{}); err != nil {
		t.Fatalf("a restricted user with the grant: %v", err)
	}
	_, accountOnly, err := e.svc.IssueToken(ctx, "admin", "test", "account:read_write", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.clientFor(accountOnly).GetLongviewPlan(ctx); !isStatus(err, 401) {
		t.Fatalf("a token without longview:read_only: %v, want 401", err)
	}
}

func isStatus(err error, code int) bool {
	var le *linodego.Error
	return errors.As(err, &le) && le.Code == code
}
