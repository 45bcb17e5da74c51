package metrics_test

import (
	"testing"

	"github.com/profiled/profiled/metrics"
)

func TestFaceOf(t *testing.T) {
	for route, want := range map[string]string{
		"GET /profile":                                "linode",
		"GET /account/users/{username}":               "linode",
		"GET /iam/v1/users/me/":                       "iam",
		"PUT /user/{version}/preferences/{clientId}":  "preferences",
		"POST /auth/login":                            "signin",
		"POST /oauth/token":                           "signin",
		"GET /.well-known/oauth-authorization-server": "signin",
		"GET /logout":                                 "signin",
		"GET /readyz":                                 "health",
		"unmatched":                                   "none",
	} {
		if got := metrics.FaceOf(route); got != want {
			t.Errorf("FaceOf(%q) = %q, want %q", route, got, want)
		}
	}
}
