package auth_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/profiled/profiled/face/auth"
	"github.com/profiled/profiled/internal/spectest"
	"github.com/profiled/profiled/internal/testenv"
)

// validateAgainstSpec checks every answer a test's server gave to an
// operation of the description (spectest.Validate). What it does not
// describe (the HTML pages, the other faces, preflights) is skipped.
func validateAgainstSpec(t *testing.T, baseURL string, log []spectest.Exchange) {
	t.Helper()
	doc := spectest.Load(t, auth.OpenAPI(), baseURL)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	spectest.Validate(t, doc, log, spectest.Checks{
		Skip: func(ex spectest.Exchange) bool {
			req, err := http.NewRequest(ex.Method, ex.URL, bytes.NewReader(nil))
			if err != nil {
				return true
			}
			_, _, err = router.FindRoute(req)
			return err != nil
		},
		MultiError: true,
		Some:       true,
	})
}

// TestOpenAPIDocument: the description is valid OpenAPI 3.1, is served
// without credentials, and has the operations of the JSON API, OAuth and
// the platform. (Every test's answers are checked against it when the
// test ends: validateAgainstSpec.)
func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t, testenv.Backend{Name: "sqlite", Open: testenv.OpenSQLite})
	resp, err := http.Get(e.srv.URL + "/auth/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /auth/openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	doc := spectest.Load(t, auth.OpenAPI(), e.srv.URL)
	n := 0
	for _, path := range doc.Paths.InMatchingOrder() {
		n += len(doc.Paths.Value(path).Operations())
	}
	if n != 22 {
		t.Errorf("the description has %d operations, want the 22 of the JSON API (sign-up, recovery and verification included), OAuth (pushed requests, the device grant and registration included), OpenID Connect and the platform", n)
	}
}
