package linode_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/profiled/profiled/face/linode"
	"github.com/profiled/profiled/internal/spectest"
)

// linodeDateTime is the API's date-time: UTC without a zone suffix
// (WIRE-FACTS.md: linodego fails on "Z"), which RFC 3339 would refuse.
var linodeDateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$`)

// servedSpec builds the description profiled serves at /v4/openapi.json
// (face/linode/openapi.json) from the vendored Linode one: the deviations
// the real API makes (WIRE-FACTS.md) written in, and what profiled adds.
// TestServedOpenAPI keeps the committed file equal to it.
func servedSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("testdata/linode-profile-openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The real API sends user_type on the profile; the description omits it.
	for _, path := range []string{"/profile"} {
		for _, op := range []*openapi3.Operation{doc.Paths.Value(path).Get, doc.Paths.Value(path).Put} {
			schema := op.Responses.Status(200).Value.Content.Get("application/json").Schema.Value
			schema.Properties["user_type"] = openapi3.NewStringSchema().NewRef()
		}
	}
	// The answers of /account as the real API and linodego have them:
	// the User object carries user_type (its description puts it in an
	// allOf whose parts each refuse the other's properties), a new
	// account has no card and no Longview plan (null, as the
	// description's own words say for Longview), and the settings carry
	// maintenance_policy (linodego's AccountSettings).
	for _, path := range []string{"/account", "/account/settings", "/account/users", "/account/users/{username}"} {
		for _, op := range doc.Paths.Value(path).Operations() {
			r := op.Responses.Status(200)
			if r == nil || r.Value.Content.Get("application/json") == nil {
				continue
			}
			schema := r.Value.Content.Get("application/json").Schema.Value
			if items := schema.Properties["data"]; items != nil {
				schema = items.Value.Items.Value
			}
			patchAccountSchema(path, schema)
		}
	}
	// An event without a second entity, or a duration, has null for it,
	// as the real API sends them and linodego reads them.
	for _, path := range []string{"/account/events", "/account/events/{eventId}"} {
		schema := doc.Paths.Value(path).Get.Responses.Status(200).Value.Content.Get("application/json").Schema.Value
		if items := schema.Properties["data"]; items != nil {
			schema = items.Value.Items.Value
		}
		schema.Properties["secondary_entity"].Value.Nullable = true
		schema.Properties["duration"].Value.Nullable = true
	}
	// The real API sends "response": null for an unanswered security
	// question; the description types it as a plain string.
	questions := doc.Paths.Value("/profile/security-questions").Get.Responses.Status(200).Value.Content.Get("application/json").Schema.Value
	questions.Properties["security_questions"].Value.Items.Value.Properties["response"].Value.Nullable = true
	// GET /linode/types: the empty catalogue the Terraform provider
	// checks its connection with, to any caller.
	page := openapi3.NewObjectSchema().
		WithProperty("data", openapi3.NewArraySchema().WithItems(openapi3.NewObjectSchema())).
		WithProperty("page", openapi3.NewIntegerSchema()).WithProperty("pages", openapi3.NewIntegerSchema()).
		WithProperty("results", openapi3.NewIntegerSchema())
	types := openapi3.NewOperation()
	types.OperationID, types.Summary = "getLinodeTypes", "The compute catalogue: always empty (profiled serves no compute)"
	types.Security = &openapi3.SecurityRequirements{}
	types.Tags = []string{"Linode Types"}
	types.AddResponse(200, openapi3.NewResponse().WithDescription("An empty page.").WithJSONSchema(page))
	doc.AddOperation("/linode/types", http.MethodGet, types)
	// The Longview plan, always none (profiled serves no Longview), which
	// the Terraform provider's linode_account_settings sets.
	plan := openapi3.NewObjectSchema().
		WithProperty("id", openapi3.NewStringSchema()).WithProperty("label", openapi3.NewStringSchema()).
		WithProperty("clients_included", openapi3.NewIntegerSchema())
	for _, m := range []struct{ method, scope, id, summary string }{
		{http.MethodGet, "longview:read_only", "getLongviewPlan", "The Longview plan: always none, an empty object (profiled serves no Longview)"},
		{http.MethodPut, "longview:read_write", "updateLongviewPlan", "Set the Longview plan: none (null or \"\") is the only one"},
	} {
		op := openapi3.NewOperation()
		op.OperationID, op.Summary, op.Tags = m.id, m.summary, []string{"Longview"}
		op.Security = &openapi3.SecurityRequirements{{"personalAccessToken": {}}, {"oauth": {m.scope}}}
		if m.method == http.MethodPut {
			body := openapi3.NewObjectSchema().WithProperty("longview_subscription", openapi3.NewStringSchema().WithNullable())
			op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).WithJSONSchema(body)}
		}
		op.AddResponse(200, openapi3.NewResponse().WithDescription("The plan: {} for none.").WithJSONSchema(plan))
		op.Responses.Set("default", doc.Paths.Value("/account/settings").Put.Responses.Default())
		doc.AddOperation("/longview/plan", m.method, op)
	}
	doc.Info.Description = "The Linode API v4 /profile and /account (users, grants, logins, OAuth clients, settings) as profiled serves it: Linode's description (" + doc.Info.Version +
		") with the deviations of the real API that its clients rely on written in (user_type on the profile, " +
		"a null response of an unanswered security question), and GET /linode/types. Date-times are UTC " +
		"without a zone suffix (2006-01-02T15:04:05), as the real API sends them."
	doc.Servers = openapi3.Servers{{URL: "/v4"}, {URL: "/v4beta"}}
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		t.Fatalf("spec: %v", err)
	}
	return doc
}

// patchAccountSchema writes the deviations of servedSpec into the answer
// schema s of path.
func patchAccountSchema(path string, s *openapi3.Schema) {
	if len(s.AllOf) > 0 {
		merged := *s.AllOf[0].Value
		merged.Properties = openapi3.Schemas{}
		for _, part := range s.AllOf {
			maps.Copy(merged.Properties, part.Value.Properties)
		}
		*s = merged
	}
	switch path {
	case "/account":
		for _, f := range []string{"expiry", "last_four"} {
			s.Properties["credit_card"].Value.Properties[f].Value.Nullable = true
		}
	case "/account/settings":
		s.Properties["longview_subscription"].Value.Nullable = true
		s.Properties["maintenance_policy"] = openapi3.NewStringSchema().WithEnum("linode/migrate", "linode/power_off_on").NewRef()
	default:
		if s.Properties["username"] != nil && s.Properties["user_type"] == nil {
			s.Properties["user_type"] = openapi3.NewStringSchema().WithEnum("parent", "child", "proxy", "default").NewRef()
		}
	}
}

// TestServedOpenAPI: the served description is servedSpec's, byte for
// byte; PROFILED_WRITE_OPENAPI=1 writes it after a change.
func TestServedOpenAPI(t *testing.T) {
	want, err := json.MarshalIndent(servedSpec(t), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if os.Getenv("PROFILED_WRITE_OPENAPI") == "1" {
		if err := os.WriteFile("openapi.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(linode.OpenAPI(), want) {
		t.Fatal("face/linode/openapi.json is not what servedSpec makes: run PROFILED_WRITE_OPENAPI=1 go test -run TestServedOpenAPI ./face/linode/")
	}
}

// loadSpec is the served description, pointed at the test server.
func loadSpec(t *testing.T, baseURL string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(linode.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: baseURL + "/v4"}, {URL: baseURL + "/v4beta"}}
	return doc
}

// validateAgainstSpec checks every recorded response (and the request that
// produced it) against the spec (see spectest.Validate): status, headers,
// JSON body shape, and a Content-Type of exactly application/json.
func validateAgainstSpec(t *testing.T, baseURL string, log []spectest.Exchange) {
	t.Helper()
	validate(t, baseURL, log, false)
}

// validateSomeAgainstSpec is validateAgainstSpec for a log that exercises
// only some operations.
func validateSomeAgainstSpec(t *testing.T, baseURL string, log []spectest.Exchange) {
	t.Helper()
	validate(t, baseURL, log, true)
}

func validate(t *testing.T, baseURL string, log []spectest.Exchange, some bool) {
	t.Helper()
	openapi3.DefineStringFormatCallback("date-time", func(s string) error {
		if !linodeDateTime.MatchString(s) {
			return &openapi3.SchemaError{Reason: "not a Linode date-time (2006-01-02T15:04:05)"}
		}
		return nil
	})
	spectest.Validate(t, loadSpec(t, baseURL), log, spectest.Checks{
		Some: some,
		Exchange: func(t *testing.T, ex spectest.Exchange) {
			thumbnail := ex.Method == http.MethodGet && ex.Status == http.StatusOK && strings.HasSuffix(ex.URL, "/thumbnail")
			if ct := ex.RespHeader.Get("Content-Type"); ex.Status != http.StatusNoContent && !thumbnail && ct != "application/json" {
				t.Errorf("%s %s: Content-Type %q, want exactly application/json", ex.Method, ex.URL, ct)
			}
		},
	})
}
