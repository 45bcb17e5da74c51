// Command cloudmanager drives a build of Cloud Manager (the Linode console)
// pointed at a profiled server, in headless Chromium: it signs in through
// profiled's pages, opens the console's profile and account pages, adds an
// SSH key and creates a personal access token through the console's forms,
// and reports every request to profiled that failed. It exits 1 if one did
// (but those to services an account server does not serve, listed in
// otherServices), or if a step failed. Not a test of the suite: the console
// is built from its repository with pnpm. docs/real-clients.md says how:
//
//	go run ./tools/realclients/cloudmanager --console http://localhost:3000 \
//	    --api http://127.0.0.1:8080 --username admin --password-file pw.txt
//
// The user must sign in with a password and without two-factor
// authentication. The key and the token it makes are deleted through the
// API at the end, with --token (a token of the same user).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// otherServices are the paths of the Linode API that Cloud Manager asks
// for at every load and that belong to other services of a platform:
// profiled answers them 404, and the console does without.
var otherServices = regexp.MustCompile(`^/v4(beta)?/(regions|linode/|databases/|iam/|images|volumes|networking|lke|nodebalancers|domains|placement|vpcs|object-storage|monitor|support|managed|longview/clients|account/(agreements|availability|betas|invoices|payments|payment-methods|promo-codes|service-transfers|entity-transfers|child-accounts|maintenance/policies))`)

func main() {
	console := flag.String("console", "http://localhost:3000", "the console's origin")
	api := flag.String("api", "http://127.0.0.1:8080", "the profiled server the console was built for")
	username := flag.String("username", "admin", "the user who signs in")
	passwordFile := flag.String("password-file", "", "a file whose first line is the user's password (required)")
	token := flag.String("token", os.Getenv("PROFILED_TOKEN"), "a token of the user, to delete what the run made (env PROFILED_TOKEN)")
	chromium := flag.String("chromium", "/usr/bin/chromium", "the browser")
	shots := flag.String("screenshots", "", "a folder for a screenshot of each page (none if empty)")
	flag.Parse()
	b, err := os.ReadFile(*passwordFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cloudmanager: --password-file:", err)
		os.Exit(2)
	}
	password := strings.SplitN(string(b), "\n", 2)[0]

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(*chromium), chromedp.WindowSize(1400, 1000),
		chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	var mu sync.Mutex
	var failed []string
	requests := map[network.RequestID]string{}
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests[e.RequestID] = e.Request.Method + " " + e.Request.URL
		case *network.EventResponseReceived:
			path, ok := strings.CutPrefix(e.Response.URL, *api)
			// 401s come before the console has its token.
			if ok && e.Response.Status >= 400 && e.Response.Status != 401 && !otherServices.MatchString(path) && path != "/favicon.ico" {
				failed = append(failed, fmt.Sprintf("%d %s", int(e.Response.Status), requests[e.RequestID]))
			}
		case *network.EventLoadingFailed:
			if r := requests[e.RequestID]; strings.Contains(r, *api) && !e.Canceled {
				failed = append(failed, "failed "+r+": "+e.ErrorText)
			}
		case *runtime.EventExceptionThrown:
			failed = append(failed, "exception: "+e.ExceptionDetails.Text)
		}
	}); err != nil {
		fmt.Fprintln(os.Stderr, "cloudmanager:", err)
		os.Exit(2)
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if *shots == "" {
				return nil
			}
			png, err := chromedp.CaptureScreenshot()(ctx, t)
			if err != nil {
				return err
			}
			return os.WriteFile(*shots+"/"+name+".png", png, 0o644)
		})
	}
	type step struct {
		what string
		do   []chromedp.Action[chromedp.Void]
	}
	steps := []step{
		{"sign in through profiled", []chromedp.Action[chromedp.Void]{chromedp.Navigate(*console + "/"),
			chromedp.WaitVisible(chromedp.ID("username")), chromedp.SendKeys(chromedp.ID("username"), *username),
			chromedp.SendKeys(chromedp.ID("password"), password), chromedp.Click(chromedp.ID("submit"))}},
		// A --first-party console is not asked for consent; another one is,
		// once: approve the page if it comes.
		{"reach the console", []chromedp.Action[chromedp.Void]{
			chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				for range 150 {
					where, err := chromedp.Evaluate[string](`document.getElementById('approve') ? 'consent' :
						document.querySelector('#main-content') ? 'console' : ''`)(ctx, t)
					switch {
					case err != nil:
					case where == "consent":
						_, err := chromedp.Click(chromedp.ID("approve"))(ctx, t)
						return err
					case where == "console":
						return nil
					}
					time.Sleep(200 * time.Millisecond)
				}
				return errors.New("neither the consent page nor the console came")
			}),
			chromedp.WaitVisible(chromedp.CSS(`#main-content`)), chromedp.Sleep(3 * time.Second)}},
		{"add an SSH key", []chromedp.Action[chromedp.Void]{chromedp.Navigate(*console + "/profile/keys"),
			chromedp.Click(chromedp.Search(`//button[normalize-space()='Add an SSH Key']`)),
			chromedp.SendKeys(chromedp.ID("label"), "cloudmanager-check"),
			chromedp.SendKeys(chromedp.ID("ssh-public-key"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDjUxRqyN1eQ3XRXGcTrjqb1mzV5DvWDpwGBkp1Tj8ni cloudmanager@check"),
			chromedp.Click(chromedp.Search(`//button[normalize-space()='Add Key']`)),
			chromedp.WaitVisible(chromedp.Search(`//td[normalize-space()='cloudmanager-check']`)), shot("sshkey")}},
		{"create a personal access token", []chromedp.Action[chromedp.Void]{chromedp.Navigate(*console + "/profile/tokens"),
			chromedp.Click(chromedp.Search(`//button[normalize-space()='Create a Personal Access Token']`)),
			chromedp.SendKeys(chromedp.CSS(`input[name="label"]`), "cloudmanager-check"),
			// No access to anything but account, read and write: every row must be chosen.
			chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := chromedp.Evaluate[bool](`(() => {
					const rows = {}; document.querySelectorAll('input[type=radio]').forEach(r => (rows[r.name] = rows[r.name] || []).push(r));
					rows['Select All'][0].click(); rows['account'][2].click(); return true })()`)(ctx, t)
				return err
			}),
			chromedp.Click(chromedp.Search(`//button[normalize-space()='Create Token']`)),
			chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()='I Have Saved My Personal Access Token']`)), shot("token")}},
	}
	for _, p := range []string{"/profile/display", "/profile/auth", "/profile/settings", "/profile/lish", "/profile/referrals",
		"/account/users", "/account/settings", "/account/login-history"} {
		steps = append(steps, step{"open " + p, []chromedp.Action[chromedp.Void]{chromedp.Navigate(*console + p),
			chromedp.Sleep(3 * time.Second), shot(strings.ReplaceAll(strings.Trim(p, "/"), "/", "_"))}})
	}
	ok := true
	for _, s := range steps {
		if err := chromedp.Do(ctx, s.do...); err != nil {
			fmt.Printf("FAIL %s: %v\n", s.what, err)
			ok = false
			break
		}
		fmt.Printf("ok   %s\n", s.what)
	}
	if *token != "" {
		cleanUp(*api, *token)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, f := range failed {
		fmt.Println("FAIL request", f)
	}
	if !ok || len(failed) > 0 {
		os.Exit(1)
	}
	fmt.Println("all passed")
}

// cleanUp deletes the key and the token the run made, by their label.
func cleanUp(api, token string) {
	for _, kind := range []string{"sshkeys", "tokens"} {
		req, _ := http.NewRequest("GET", api+"/v4/profile/"+kind, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Filter", `{"label":"cloudmanager-check"}`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println("clean up:", err)
			return
		}
		var page struct{ Data []struct{ ID int } }
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			fmt.Println("clean up:", err)
			return
		}
		for _, o := range page.Data {
			del, _ := http.NewRequest("DELETE", fmt.Sprintf("%s/v4/profile/%s/%d", api, kind, o.ID), nil)
			del.Header.Set("Authorization", "Bearer "+token)
			if resp, err := http.DefaultClient.Do(del); err == nil {
				resp.Body.Close()
			}
		}
	}
}
