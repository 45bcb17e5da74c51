package linode_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// clientRequest is one entry of testdata/real-clients.json.
type clientRequest struct {
	Client    string          `json:"client"`
	Source    string          `json:"source"`
	Method    string          `json:"method"`
	Path      string          `json:"path"`
	Filter    json.RawMessage `json:"filter"`
	Body      json.RawMessage `json:"body"`
	Anonymous bool            `json:"anonymous"`
	Token     string          `json:"token"`
	Status    int             `json:"status"`
	Save      string          `json:"save"`
	Results   *int            `json:"results"`
	Reason    string          `json:"reason"`
	JSON      map[string]any  `json:"json"`
	Each      *struct {
		List, Key string
		Value     any
	} `json:"each"`
}

var placeholder = regexp.MustCompile(`\{[a-z_0-9]+\}`)

// TestRealClientCorpus replays testdata/real-clients.json, the requests
// the Terraform provider, Cloud Manager, linode.cloud and linodego send,
// in order, on each store, and requires the status the real API answers
// them with (and the results count or fields noted). Every /profile
// answer is also checked against the OpenAPI description.
func TestRealClientCorpus(t *testing.T) {
	raw, err := os.ReadFile("testdata/real-clients.json")
	if err != nil {
		t.Fatal(err)
	}
	var corpus struct {
		Requests []clientRequest `json:"requests"`
	}
	if err := json.Unmarshal(raw, &corpus); err != nil {
		t.Fatal(err)
	}
	if len(corpus.Requests) < 30 {
		t.Fatalf("the corpus has only %d requests", len(corpus.Requests))
	}
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			e.seedSessions(t)
			vars := map[string]string{
				"{ssh_key}": testenv.NewSSHKey(t, "me@laptop"),
				"{future}":  time.Now().UTC().Add(30 * 24 * time.Hour).Format("2006-01-02T15:04:05"),
			}
			fill := func(s string) string {
				return placeholder.ReplaceAllStringFunc(s, func(p string) string {
					v, ok := vars[p]
					if !ok {
						t.Fatalf("the corpus names %s before saving it", p)
					}
					return v
				})
			}
			for i, rq := range corpus.Requests {
				name := fmt.Sprintf("#%d %s %s (%s)", i, rq.Method, rq.Path, rq.Client)
				var body io.Reader
				if len(rq.Body) > 0 {
					body = strings.NewReader(fill(string(rq.Body)))
				}
				req, err := http.NewRequest(rq.Method, e.srv.URL+fill(rq.Path), body)
				if err != nil {
					t.Fatal(err)
				}
				// As linodego sends them: JSON both ways, even without a body.
				req.Header.Set("Accept", "application/json")
				req.Header.Set("Content-Type", "application/json")
				switch {
				case rq.Token != "":
					req.Header.Set("Authorization", "Bearer "+rq.Token)
				case !rq.Anonymous:
					req.Header.Set("Authorization", "Bearer "+e.token)
				}
				if len(rq.Filter) > 0 {
					req.Header.Set("X-Filter", fill(string(rq.Filter)))
				}
				client := http.DefaultClient
				if strings.Contains(rq.Path, "/profile") {
					client = &http.Client{Transport: e.rec}
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != rq.Status {
					t.Errorf("%s: status %d, the real API answers %d (%s)\n%s", name, resp.StatusCode, rq.Status, rq.Source, got)
					continue
				}
				if resp.StatusCode == http.StatusNoContent {
					continue
				}
				var out map[string]any
				dec := json.NewDecoder(bytes.NewReader(got))
				dec.UseNumber()
				if err := dec.Decode(&out); err != nil {
					t.Errorf("%s: the body is not a JSON object: %v\n%s", name, err, got)
					continue
				}
				if rq.Save != "" {
					vars["{"+rq.Save+"}"] = fmt.Sprint(out["id"])
				}
				if rq.Results != nil && fmt.Sprint(out["results"]) != fmt.Sprint(*rq.Results) {
					t.Errorf("%s: %v results, want %d (%s)", name, out["results"], *rq.Results, rq.Source)
				}
				if rq.Reason != "" && !strings.Contains(string(got), `"reason":"`+rq.Reason) {
					t.Errorf("%s: %s, want the reason %q", name, got, rq.Reason)
				}
				for k, want := range rq.JSON {
					if g := out[k]; fmt.Sprint(g) != fmt.Sprint(want) || (want == nil) != (g == nil) {
						t.Errorf("%s: %s is %#v, want %#v (%s)", name, k, g, want, rq.Source)
					}
				}
				if rq.Each != nil {
					list, _ := out[rq.Each.List].([]any)
					if len(list) == 0 {
						t.Errorf("%s: no %s", name, rq.Each.List)
					}
					for _, el := range list {
						m, _ := el.(map[string]any)
						if v, ok := m[rq.Each.Key]; !ok || !reflect.DeepEqual(v, rq.Each.Value) {
							t.Errorf("%s: an element of %s has %s %#v (present %v), want %#v", name, rq.Each.List, rq.Each.Key, v, ok, rq.Each.Value)
							break
						}
					}
				}
			}
			validateSomeAgainstSpec(t, e.srv.URL, e.rec.Take())
		})
	}
}

// seedSessions gives the admin what the clients list but cannot make
// through /profile: an authorized app, a trusted device and two logins.
func (e *env) seedSessions(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	err := e.store.Update(ctx, func(tx core.Tx) error {
		app := core.App{UserID: e.admin.ID, ClientID: "cloudmanager", Label: "Cloud Manager", Scopes: core.AllScopes,
			Website: "http://localhost:3000", Created: now.Add(-time.Hour)}
		if err := tx.CreateApp(ctx, &app); err != nil {
			return err
		}
		d := core.Device{UserID: e.admin.ID, Created: now.Add(-time.Hour), Expiry: now.Add(30 * 24 * time.Hour),
			LastAuthenticated: now.Add(-time.Minute), LastRemoteAddr: "192.0.2.1", UserAgent: "Mozilla/5.0"}
		if err := tx.CreateDevice(ctx, &d); err != nil {
			return err
		}
		for i, status := range []string{core.LoginSuccessful, core.LoginFailed} {
			l := core.Login{UserID: e.admin.ID, Datetime: now.Add(-time.Duration(i+1) * time.Hour), IP: "192.0.2.1", Username: "admin", Status: status}
			if err := tx.CreateLogin(ctx, &l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
