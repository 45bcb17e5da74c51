package httpx

import (
	"net/http"
	"slices"
	"strings"
)

// Route is one operation of a face: a method ("" for any), a ServeMux
// path pattern ("/v4/profile/sshkeys/{sshKeyId}") and its handler.
type Route struct {
	Method, Path string
	Handler      http.Handler
}

// Table is how a face answers what its routes do not: NotAllowed writes a
// 405 in the face's envelope (the Allow header is already set), NotFound
// answers any path that is no route's.
type Table struct {
	Routes     []Route
	NotAllowed func(w http.ResponseWriter, r *http.Request)
	NotFound   http.Handler
}

// Mux mounts t: every route at "METHOD PATH"; for each path, every other
// method answers with Allow listing the path's methods, sorted (HEAD
// beside GET, which ServeMux serves), then OPTIONS: an OPTIONS with 204, anything else
// with t.NotAllowed; and every other path with t.NotFound. It is the one
// place the faces' 404s, 405s and OPTIONS are decided.
func Mux(t Table) *http.ServeMux {
	mux := http.NewServeMux()
	methods := map[string][]string{}
	var paths []string
	for _, rt := range t.Routes {
		if rt.Method == "" {
			mux.Handle(rt.Path, rt.Handler) // every method: no 405
			continue
		}
		mux.Handle(rt.Method+" "+rt.Path, rt.Handler)
		if _, ok := methods[rt.Path]; !ok {
			paths = append(paths, rt.Path)
		}
		methods[rt.Path] = append(methods[rt.Path], rt.Method)
	}
	for _, path := range paths {
		ms := slices.Clone(methods[path])
		if slices.Contains(ms, http.MethodGet) && !slices.Contains(ms, http.MethodHead) {
			ms = append(ms, http.MethodHead)
		}
		ms = slices.DeleteFunc(ms, func(m string) bool { return m == http.MethodOptions })
		slices.Sort(ms)
		allow := strings.Join(append(slices.Compact(ms), http.MethodOptions), ", ")
		mux.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			t.NotAllowed(w, r)
		}))
	}
	if t.NotFound != nil {
		mux.Handle("/", t.NotFound)
	}
	return mux
}
