package linode_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/linode"
	"github.com/profiled/profiled/internal/testenv"
)

// jssdkDir holds the Node program that drives the face with
// @linode/api-v4, pinned by its package-lock.json.
const jssdkDir = "testdata/jssdk"

// TestJSSDK runs testdata/jssdk/profile.mjs and account.mjs, which call
// every /profile function, and every /account function profiled serves, of
// @linode/api-v4 0.158 (Cloud Manager's SDK, installed from npm
// with npm ci) with Cloud Manager's and Terraform's filters, against the
// face on each backend. Without Node the test is skipped, except under
// CI=true, where it fails: .ci/run installs Node.
func TestJSSDK(t *testing.T) {
	testenv.NodePackages(t, jssdkDir)
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			clock := testenv.NewClock(time.Now().UTC().Truncate(time.Second))
			st := b.Open(t)
			sms := &testenv.SMSInbox{}
			svc := core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: st, Box: testenv.TestKey(), SMS: sms, Now: clock.Now})
			token, err := svc.Bootstrap(ctx)
			if err != nil {
				t.Fatal(err)
			}
			admin, err := st.UserByUsername(ctx, "admin")
			if err != nil {
				t.Fatal(err)
			}
			// What the SDK lists but cannot make: an app, a trusted device, logins.
			now := clock.Now()
			err = st.Update(ctx, func(tx core.Tx) error {
				app := core.App{UserID: admin.ID, ClientID: "cloudmanager", Label: "Cloud Manager", Scopes: core.AllScopes,
					Website: "http://localhost:3000", Created: now.Add(-time.Hour)}
				if err := tx.CreateApp(ctx, &app); err != nil {
					return err
				}
				d := core.Device{UserID: admin.ID, Created: now.Add(-time.Hour), Expiry: now.Add(30 * 24 * time.Hour),
					LastAuthenticated: now.Add(-time.Minute), LastRemoteAddr: "192.0.2.1", UserAgent: "Mozilla/5.0"}
				if err := tx.CreateDevice(ctx, &d); err != nil {
					return err
				}
				for i, status := range []string{core.LoginSuccessful, core.LoginFailed} {
					l := core.Login{UserID: admin.ID, AccountID: admin.AccountID, Datetime: now.Add(-time.Duration(i+1) * time.Hour), IP: "192.0.2.1", Username: "admin", Status: status}
					if err := tx.CreateLogin(ctx, &l); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(linode.New(svc, linode.Options{}))
			t.Cleanup(srv.Close)
			helper := httptest.NewServer(jssdkHelper(t, clock, sms))
			t.Cleanup(helper.Close)

			for script, done := range map[string]string{"profile.mjs": "profile functions", "account.mjs": "account functions"} {
				cmd := exec.Command("node", script)
				cmd.Dir = jssdkDir
				cmd.Env = append(os.Environ(), "PROFILED_URL="+srv.URL, "PROFILED_TOKEN="+token,
					"PROFILED_HELPER="+helper.URL, "PROFILED_SSH_KEY="+testenv.NewSSHKey(t, "me@laptop"))
				out, err := cmd.CombinedOutput()
				t.Logf("node %s:\n%s", filepath.Join(jssdkDir, script), out)
				if err != nil {
					t.Fatalf("the SDK run of %s failed: %v", script, err)
				}
				if !strings.Contains(string(out), done+" of @linode/api-v4 passed") {
					t.Fatalf("the SDK run of %s ended without its closing line", script)
				}
			}
		})
	}
}

// jssdkHelper answers what the SDK program cannot know: the TOTP code of
// a secret at the service's clock, the last SMS code, and a way to move
// the clock to the next TOTP step.
func jssdkHelper(t *testing.T, clock *testenv.Clock, sms *testenv.SMSInbox) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /totp", func(w http.ResponseWriter, r *http.Request) {
		code, err := totp.GenerateCodeCustom(r.URL.Query().Get("secret"), clock.Now(),
			totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, code)
	})
	mux.HandleFunc("GET /advance", func(w http.ResponseWriter, r *http.Request) {
		clock.Advance(30 * time.Second)
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("GET /sms", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, sms.LastCode())
	})
	return mux
}
