package pace_test

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/profiled/profiled/face/pace"
	"github.com/profiled/profiled/internal/spectest"
	"github.com/profiled/profiled/internal/testenv"
)

// loadSpec reads the face's OpenAPI 3.1 description (spectest.Load).
func loadSpec(t testing.TB, baseURL string) *openapi3.T {
	t.Helper()
	return spectest.Load(t, pace.OpenAPI(), baseURL)
}

// operationURL is a request to an operation of the face: what the
// description describes. Other paths (the Linode face beside it, unknown
// paths under /user/) and methods the API lacks are the tests' own.
var operationURL = regexp.MustCompile(`/user/[^/]+/preferences/[^/?]+(\?.*)?$`)

// validateAgainstSpec checks every answer of the face that a test
// recorded against the description (spectest.Validate): its status is
// declared, and its headers, media type and body match.
func validateAgainstSpec(t *testing.T, baseURL string, log []spectest.Exchange) {
	t.Helper()
	spectest.Validate(t, loadSpec(t, baseURL), log, spectest.Checks{
		Skip: func(ex spectest.Exchange) bool {
			return !operationURL.MatchString(ex.URL) || (ex.Method != http.MethodGet && ex.Method != http.MethodPut)
		},
		MultiError: true,
		Some:       true,
	})
}

// TestOpenAPIDocument: the description is valid OpenAPI 3.1, describes
// exactly the face's operations, and is served without credentials.
func TestOpenAPIDocument(t *testing.T) {
	doc := loadSpec(t, "http://example.com")
	var ops []string
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			ops = append(ops, method+" "+path+" "+op.OperationID)
		}
	}
	want := map[string]bool{
		"GET /user/{version}/preferences/{clientId} get_preferences": true,
		"PUT /user/{version}/preferences/{clientId} put_preferences": true,
	}
	if len(ops) != len(want) {
		t.Fatalf("operations = %v", ops)
	}
	for _, op := range ops {
		if !want[op] {
			t.Errorf("unexpected operation %s", op)
		}
	}

	e := newEnv(t, testenv.Backend{Name: "sqlite", Open: testenv.OpenSQLite})
	r := e.do("GET", e.srv.URL+pace.OpenAPIPath, "", nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" || string(r.body) != string(pace.OpenAPI()) {
		t.Fatalf("GET %s: %d %s", pace.OpenAPIPath, r.status, r.header.Get("Content-Type"))
	}
}
