package pace_test

import (
	"strings"
	"testing"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// TestPreferenceBytesQuota: a user's preferences, in every namespace
// together, stay within the quota: a PUT past it is a JSON:API 409
// quota-exceeded, which says what to do, and leaves the namespace as it
// was; the Linode face's /v4/profile/preferences counts toward the same
// quota, and answers 400 past it.
func TestPreferenceBytesQuota(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnvQuotas(t, b, core.Quotas{PreferenceBytes: 1000})
			tok := e.personal("*")
			value := func(n int) string { return `{"k":"` + strings.Repeat("x", n-8) + `"}` }
			e.wantObject(e.put("2025-1", appA, tok, value(600)), value(600))
			e.wantObject(e.put("2025-1", appB, tok, value(300)), value(300))
			ae := e.wantError(e.put("2025-1", appB, tok, value(401)), 409, core.CodeQuotaExceeded, "")
			if !strings.Contains(ae.Detail, "at most 1000 bytes") {
				t.Fatalf("the detail does not say the quota: %q", ae.Detail)
			}
			e.wantObject(e.get("2025-1", appB, tok), value(300))
			// Emptying a namespace makes room in the others.
			e.wantObject(e.put("2025-1", appA, tok, `{}`), `{}`)
			e.wantObject(e.put("2025-1", appB, tok, value(900)), value(900))
			// The Linode face writes the personal namespace, within the same quota.
			r := e.do("PUT", e.srv.URL+"/v4/profile/preferences", e.root, strings.NewReader(value(200)))
			if r.status != 400 || !strings.Contains(string(r.body), "at most 1000 bytes") {
				t.Fatalf("Linode PUT past the quota: %d %s", r.status, r.body)
			}
		})
	}
}
