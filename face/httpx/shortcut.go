package httpx

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Mounts is the top-level ServeMux of the faces, which remembers what is
// mounted on it so that Shortcut can refuse a shortcut that would shadow
// a mount.
type Mounts struct {
	mux      *http.ServeMux
	patterns []string
}

// NewMounts returns an empty Mounts.
func NewMounts() *Mounts { return &Mounts{mux: http.NewServeMux()} }

// Handle mounts h at pattern, as ServeMux.Handle does.
func (m *Mounts) Handle(pattern string, h http.Handler) {
	m.mux.Handle(pattern, h)
	m.patterns = append(m.patterns, pattern)
}

// ServeHTTP serves r through the ServeMux.
func (m *Mounts) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

// Shortcut serves a request whose path is clean and lies under one of
// prefixes with the handler the mux chooses for that prefix, looked up
// once, and every other request through the mux itself. ServeMux's lookup
// of the faces' mounts took 0.7-0.9 µs and 5 allocations a request (a
// benchmark of profiled's top-level patterns), on every request of every
// face.
//
// The answer is the mux's as long as nothing is mounted under a prefix
// but at the prefix itself (the faces mount whole subtrees, and their own
// muxes route inside them); Shortcut panics if something is. Paths the
// mux would redirect (unclean, or a prefix without its slash), paths
// escaped in a way that can move a segment boundary (a RawPath) and "*"
// go to the mux, which decides them as it always did. TestShortcutIsMux
// compares the two.
func (m *Mounts) Shortcut(prefixes ...string) http.Handler {
	type route struct {
		prefix  string
		handler http.Handler
	}
	routes := make([]route, 0, len(prefixes))
	for _, p := range prefixes {
		if !strings.HasSuffix(p, "/") || !cleanPath(p) { // cleanPath: rooted too
			panic("httpx: shortcut " + p + " is not a clean path prefix ending in /")
		}
		for _, pattern := range m.patterns {
			if path := patternPath(pattern); strings.HasPrefix(path, p) && path != p {
				panic("httpx: shortcut " + p + " would shadow the mount " + pattern)
			}
		}
		h, _ := m.mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: p}})
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
		m.mux.ServeHTTP(w, r)
	})
}

// patternPath is the path of a ServeMux pattern, "[METHOD ][HOST]/PATH".
func patternPath(pattern string) string {
	if _, rest, ok := strings.Cut(pattern, " "); ok {
		pattern = strings.TrimLeft(rest, " \t")
	}
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		return pattern[i:]
	}
	return pattern
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
