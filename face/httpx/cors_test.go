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

func TestSecurityHeaders(t *testing.T) {
	h := func(trust bool) http.Handler {
		return httpx.SecurityHeaders(trust, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTeapot)
		}))
	}
	for _, tc := range []struct {
		name  string
		trust bool
		proto string
		tls   bool
		hsts  bool
	}{
		{"plain http", false, "", false, false},
		{"a forwarded https not trusted", false, "https", false, false},
		{"a forwarded https trusted", true, "https", false, true},
		{"TLS", false, "", true, true},
	} {
		r := httptest.NewRequest("GET", "/x", nil)
		if tc.tls {
			r = httptest.NewRequest("GET", "https://example.com/x", nil)
		}
		if tc.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		w := httptest.NewRecorder()
		h(tc.trust).ServeHTTP(w, r)
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", tc.name)
		}
		if got := w.Header().Get("Strict-Transport-Security") != ""; got != tc.hsts {
			t.Errorf("%s: HSTS %v, want %v", tc.name, got, tc.hsts)
		}
	}
}
