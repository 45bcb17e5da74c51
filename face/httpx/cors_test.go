package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/profiled/profiled/face/httpx"
)

func TestCORSWrap(t *testing.T) {
	policy := httpx.CORS{AllowOrigin: "*", AllowHeaders: "Authorization", AllowMethods: "GET", ExposeHeaders: "X-Request-Id", Credentials: true, MaxAge: 600}
	called := 0
	h := policy.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called++
		http.NotFound(w, r)
	}))
	for _, tc := range []struct {
		name     string
		method   string
		preflite bool
		status   int
		calls    int
	}{
		{"a 404 carries the policy", "GET", false, http.StatusNotFound, 1},
		{"a preflight on any path is answered", "OPTIONS", true, http.StatusNoContent, 0},
		{"a plain OPTIONS goes to the face", "OPTIONS", false, http.StatusNotFound, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called = 0
			r := httptest.NewRequest(tc.method, "/no/such/path", nil)
			r.Header.Set("Origin", "http://localhost:3000")
			if tc.preflite {
				r.Header.Set("Access-Control-Request-Method", "PUT")
				r.Header.Set("Access-Control-Request-Headers", "authorization,x-filter")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status || called != tc.calls {
				t.Fatalf("status %d after %d calls, want %d after %d", w.Code, called, tc.status, tc.calls)
			}
			for k, v := range map[string]string{
				"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Authorization",
				"Access-Control-Allow-Methods": "GET", "Access-Control-Expose-Headers": "X-Request-Id",
				"Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "600",
			} {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
}
