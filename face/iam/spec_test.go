package iam_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/profiled/profiled/face/iam"
)

// skipSpecHeader marks a request the API description does not describe
// (an unknown path, a wrong method): its answer is checked by the test
// that sends it, not against the spec.
const skipSpecHeader = "X-Test-Skip-Spec"

// exchange is one request and its response, as the client saw them.
type exchange struct {
	method, url string
	reqHeader   http.Header
	reqBody     []byte
	status      int
	respHeader  http.Header
	respBody    []byte
}

// recorder is an http.RoundTripper that keeps every exchange for validation.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	log  []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	r.mu.Lock()
	r.log = append(r.log, exchange{req.Method, req.URL.String(), req.Header.Clone(), body, resp.StatusCode, resp.Header.Clone(), respBody})
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) take() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.log
	r.log = nil
	return out
}

// loadSpec reads the face's OpenAPI 3.1 description with kin-openapi,
// which validates 3.1 schemas as JSON Schema 2020-12.
func loadSpec(t testing.TB, baseURL string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(iam.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("the description is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the description is not valid: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: baseURL + iam.Prefix}}
	return doc
}

func init() {
	openapi3filter.RegisterBodyDecoder("image/png", openapi3filter.FileBodyDecoder)
}

// validateAgainstSpec checks every recorded response against the spec:
// the status is declared, and the headers and body match what it declares.
// Every operation of the spec must have been exercised.
func validateAgainstSpec(t *testing.T, baseURL string, log []exchange) {
	t.Helper()
	doc := loadSpec(t, baseURL)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	validated := 0
	for _, ex := range log {
		if ex.reqHeader.Get(skipSpecHeader) != "" || !strings.Contains(ex.url, iam.Prefix+"/") {
			continue // not described, or the Linode face
		}
		req, err := http.NewRequest(ex.method, ex.url, bytes.NewReader(ex.reqBody))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = ex.reqHeader
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s %s: no operation in the spec: %v", ex.method, ex.url, err)
			continue
		}
		checked[route.Operation.OperationID] = true
		if ct := ex.respHeader.Get("Content-Type"); ex.status != http.StatusGone && ex.status != http.StatusNotModified &&
			ct != "application/json" && ct != "image/png" {
			t.Errorf("%s %s: Content-Type %q", ex.method, ex.url, ct)
		}
		if (ex.status == http.StatusGone || ex.status == http.StatusNotModified) && len(ex.respBody) != 0 {
			t.Errorf("%s %s -> %d has a body: %q", ex.method, ex.url, ex.status, ex.respBody)
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: ex.status,
			Header: ex.respHeader, Body: io.NopCloser(bytes.NewReader(ex.respBody)), Options: in.Options}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s %s -> %d %s\n%v", ex.method, ex.url, ex.status, truncate(ex.respBody), err)
		}
		validated++
	}
	var missing []string
	for _, path := range doc.Paths.InMatchingOrder() {
		for _, op := range doc.Paths.Value(path).Operations() {
			if !checked[op.OperationID] {
				missing = append(missing, op.OperationID)
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("operations never exercised: %s", strings.Join(missing, ", "))
	}
	t.Logf("validated %d responses covering %d operations", validated, len(checked))
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// TestOpenAPIDocument checks the served document: the embedded file, valid
// JSON, OpenAPI 3.1, and every route of the face described with the
// scope it needs.
func TestOpenAPIDocument(t *testing.T) {
	doc := loadSpec(t, "http://example.com")
	var raw map[string]any
	if err := json.Unmarshal(iam.OpenAPI(), &raw); err != nil {
		t.Fatal(err)
	}
	seed := map[string]string{ // operationId -> method and path, as the seed lists them
		"change_my_password":                   "POST /users/me/password/",
		"create_profile_avatar":                "POST /users/me/avatar/",
		"delete_my_user":                       "DELETE /users/me/",
		"delete_profile_avatar":                "DELETE /users/me/avatar/",
		"get_my_config":                        "GET /users/me/config/",
		"get_my_user":                          "GET /users/me/",
		"get_user_notification_preferences":    "GET /users/me/notification-preferences/",
		"partial_update_my_user":               "PATCH /users/me/",
		"sync_my_user_from_auth_service":       "POST /users/me/sync-from-auth/",
		"update_my_config":                     "PUT /users/me/config/",
		"update_user_notification_preferences": "PUT /users/me/notification-preferences/",
	}
	for id, where := range seed {
		method, path, _ := strings.Cut(where, " ")
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil || item.GetOperation(method).OperationID != id {
			t.Errorf("%s: not at %s", id, where)
			continue
		}
		op := item.GetOperation(method)
		scope, _ := op.Extensions["x-required-scope"].(string)
		want := "account:read_write"
		if method == "GET" {
			want = "account:read_only"
		}
		if scope != want || !strings.Contains(op.Description, want) {
			t.Errorf("%s: x-required-scope %q, want %q in the extension and the description", id, scope, want)
		}
	}
}
