package auth_test

import (
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
