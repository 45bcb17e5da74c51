package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/profiled/profiled/face/httpx"
)

func TestMux(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	mux := httpx.Mux(httpx.Table{
		Routes: []httpx.Route{{Method: "PUT", Path: "/a/{id}", Handler: ok}, {Method: "GET", Path: "/a/{id}", Handler: ok}},
		NotAllowed: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusMethodNotAllowed)
		},
		NotFound: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) }),
	})
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/a/1", 299, ""},
		{"HEAD", "/a/1", 299, ""},
		{"PUT", "/a/1", 299, ""},
		{"DELETE", "/a/1", 405, "GET, HEAD, PUT, OPTIONS"},
		{"OPTIONS", "/a/1", 204, "GET, HEAD, PUT, OPTIONS"},
		{"GET", "/b", 404, ""},
	} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != tc.status || w.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d, Allow %q; want %d, %q", tc.method, tc.path, w.Code, w.Header().Get("Allow"), tc.status, tc.allow)
		}
	}
}
