package httpx

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Shortcut serves a request whose path is clean and lies under one of
// prefixes with the handler mux chooses for that prefix, looked up once,
// and every other request through mux itself. ServeMux's lookup of the
// faces' mounts took 0.7-0.9 µs and 5 allocations a request (a benchmark
// of profiled's top-level patterns), on every request of every face.
//
// The answer is mux's as long as nothing is mounted on mux under a prefix
// but at the pattern that serves the prefix itself: the faces mount
// whole subtrees, and their own muxes route inside them. Paths mux would
// redirect (unclean, or a prefix without its slash), paths escaped in a
// way that can move a segment boundary (a RawPath) and "*" go to mux,
// which decides them as it always did. TestShortcutIsMux compares the two.
func Shortcut(mux *http.ServeMux, prefixes ...string) http.Handler {
	type route struct {
		prefix  string
		handler http.Handler
	}
	routes := make([]route, 0, len(prefixes))
	for _, p := range prefixes {
		if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || !cleanPath(p) {
			panic("httpx.Shortcut: " + p + " is not a clean path prefix ending in /")
		}
		h, _ := mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: p}})
		routes = append(routes, route{p, h})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; r.URL.RawPath == "" && cleanPath(p) {
			for _, rt := range routes {
				if strings.HasPrefix(p, rt.prefix) {
					rt.handler.ServeHTTP(w, r)
					return
				}
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// cleanPath reports whether ServeMux leaves p as it is: rooted, and
// unchanged by path.Clean but for a trailing slash (path.Clean does not
// allocate for a path that is clean).
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	return c == p || (p[len(p)-1] == '/' && len(p) == len(c)+1 && strings.HasPrefix(p, c))
}
