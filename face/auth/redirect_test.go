package auth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/profiled/profiled/internal/testenv"
)

// TestSignInNextStaysHere: ?next= after sign-in is followed only when a
// browser would read it as a path of this site; tabs, newlines and
// backslashes, which browsers drop or read as slashes, send it to the
// sign-in page instead (issue 11, item 3).
func TestSignInNextStaysHere(t *testing.T) {
	e := newEnv(t, testenv.Backends(t)[0])
	e.user("alice")
	browser := client(t)
	e.signInBrowser(browser, "")
	for next, want := range map[string]string{
		"/oauth/authorize?client_id=x": "/oauth/authorize?client_id=x",
		"/v4/profile":                  "/v4/profile",
		"/\t/evil.example":             "",
		"/\n/evil.example":             "",
		"/\r\n/evil.example":           "",
		"/\\evil.example":              "",
		"/\\/evil.example":             "",
		"\\\\evil.example":             "",
		"//evil.example":               "",
		" //evil.example":              "",
		"\t//evil.example":             "",
		"https://evil.example/":        "",
		"/%2F/evil.example":            "",
		"javascript:alert(1)":          "",
		"/\x00/evil.example":           "",
		"/\u0085/evil.example":         "",
	} {
		resp, err := browser.Get(e.srv.URL + "/auth/signin?next=" + url.QueryEscape(next))
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(resp)
		loc := resp.Header.Get("Location")
		if want == "" {
			// Not followed: the signed-in page, no redirect anywhere.
			if resp.StatusCode != 200 || loc != "" || !strings.Contains(body, `id="signed-in"`) {
				t.Errorf("next=%q: %d to %q, want the signed-in page", next, resp.StatusCode, loc)
			}
			continue
		}
		if resp.StatusCode != 303 || loc != want {
			t.Errorf("next=%q: %d to %q, want %q", next, resp.StatusCode, loc, want)
		}
	}
}

// TestCSRFTokenBoundToSession: signed in, the forms' CSRF token is bound
// to the session; a double-submit pair planted by another site (a sibling
// subdomain can set cookies) is refused, the page's own token accepted
// (issue 11, item 14).
func TestCSRFTokenBoundToSession(t *testing.T) {
	e := newEnv(t, testenv.Backends(t)[0])
	e.user("alice")
	browser := client(t)
	e.signInBrowser(browser, "")
	u, _ := url.Parse(e.srv.URL)
	const planted = "planted-by-a-sibling-site-0123456789"
	browser.Jar.SetCookies(u, []*http.Cookie{{Name: "profiled_csrf", Value: planted, Path: "/"}})
	resp := e.post(browser, "/auth/signout", url.Values{"csrf_token": {planted}})
	if body := readAll(resp); resp.StatusCode != 403 {
		t.Fatalf("sign-out with a planted double-submit pair: %d %s", resp.StatusCode, body)
	}
	// Still signed in; the page's own token signs out.
	resp = e.form(browser, "/auth/signin", "/auth/signout", url.Values{})
	readAll(resp)
	if resp.StatusCode != 303 {
		t.Fatalf("sign-out with the page's token: %d", resp.StatusCode)
	}
	resp, _ = browser.Get(e.srv.URL + "/auth/signin")
	if body := readAll(resp); strings.Contains(body, `id="signed-in"`) {
		t.Fatal("still signed in after signing out")
	}
}
