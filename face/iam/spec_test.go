package iam_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/profiled/profiled/face/iam"
	"github.com/profiled/profiled/internal/spectest"
)

// skipSpecHeader marks a request the API description does not describe
// (an unknown path, a wrong method): its answer is checked by the test
// that sends it, not against the spec.
const skipSpecHeader = "X-Test-Skip-Spec"

// loadSpec reads the face's OpenAPI 3.1 description (spectest.Load).
func loadSpec(t testing.TB, baseURL string) *openapi3.T {
	t.Helper()
	return spectest.Load(t, iam.OpenAPI(), baseURL+iam.Prefix)
}

func init() {
	openapi3filter.RegisterBodyDecoder("image/png", openapi3filter.FileBodyDecoder)
}

// validateAgainstSpec checks every recorded response of the face against
// the spec (see spectest.Validate): the status is declared, and the headers
// and body match what it declares, with every error in one report; a
// response has a JSON or PNG body, none for 410 and 304. Every operation of
// the spec must have been exercised.
func validateAgainstSpec(t *testing.T, baseURL string, log []spectest.Exchange) {
	t.Helper()
	spectest.Validate(t, loadSpec(t, baseURL), log, spectest.Checks{
		Skip: func(ex spectest.Exchange) bool { // not described, or the Linode face
			return ex.ReqHeader.Get(skipSpecHeader) != "" || !strings.Contains(ex.URL, iam.Prefix+"/")
		},
		Exchange: func(t *testing.T, ex spectest.Exchange) {
			if ct := ex.RespHeader.Get("Content-Type"); ex.Status != http.StatusGone && ex.Status != http.StatusNotModified &&
				ct != "application/json" && ct != "image/png" {
				t.Errorf("%s %s: Content-Type %q", ex.Method, ex.URL, ct)
			}
			if (ex.Status == http.StatusGone || ex.Status == http.StatusNotModified) && len(ex.RespBody) != 0 {
				t.Errorf("%s %s -> %d has a body: %q", ex.Method, ex.URL, ex.Status, ex.RespBody)
			}
		},
		MultiError: true,
	})
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
