package httpx

import (
	"net/http"
	"strconv"
)

// CORS is the cross-origin policy of one face: which headers a browser
// console on another origin may send and read. Wrap applies it to every
// answer of the face, errors, 404s and 405s included (a browser that gets
// a 404 without them sees a network error, and consoles such as Cloud
// Manager retry each one three times), and answers every preflight, on any
// path, itself.
type CORS struct {
	AllowOrigin string // "*" lets every origin read answers made without cookies
	// Origins, when set, replaces AllowOrigin: only these origins (the
	// operator's consoles, --cors-origin) may read answers, each named
	// exactly in Access-Control-Allow-Origin, with credentials (Vary:
	// Origin); any other origin gets no CORS headers at all.
	Origins       []string
	AllowHeaders  string
	AllowMethods  string
	ExposeHeaders string
	// Credentials sends Access-Control-Allow-Credentials: true, as the
	// real Linode API does beside "*" (browsers then still refuse cookies,
	// which the API does not use).
	Credentials bool
	MaxAge      int // seconds a browser may cache a preflight; 0 sends none
}

// Headers returns the headers of the policy, made once, for Wrap or for a
// face that sets them itself.
func (c CORS) Headers() FixedHeaders {
	kv := []string{
		"Access-Control-Allow-Origin", c.AllowOrigin,
		"Access-Control-Allow-Headers", c.AllowHeaders,
		"Access-Control-Allow-Methods", c.AllowMethods,
		"Access-Control-Expose-Headers", c.ExposeHeaders,
	}
	if c.Credentials {
		kv = append(kv, "Access-Control-Allow-Credentials", "true")
	}
	if c.MaxAge > 0 {
		kv = append(kv, "Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
	}
	return Fixed(kv...)
}

// WithOrigins is c for exactly origins when there are any (see Origins),
// else c as it is.
func (c CORS) WithOrigins(origins []string) CORS {
	if len(origins) > 0 {
		c.Origins, c.Credentials = origins, true
	}
	return c
}

// Wrap sets the policy's headers on every answer of h and answers a
// preflight (OPTIONS with Access-Control-Request-Method) with 204 on any
// path, without calling h. Other OPTIONS requests go to h, which may
// answer them with its Allow header.
func (c CORS) Wrap(h http.Handler) http.Handler {
	if len(c.Origins) > 0 {
		return c.wrapOrigins(h)
	}
	fixed := c.Headers()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fixed.SetOn(w.Header())
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// wrapOrigins is Wrap for a list of origins: a request from one of them
// gets the policy with its own origin; from any other, none (a preflight
// from it is 204 without them, which the browser reads as a refusal).
func (c CORS) wrapOrigins(h http.Handler) http.Handler {
	allowed := map[string]bool{}
	for _, o := range c.Origins {
		allowed[o] = true
	}
	c.AllowOrigin = "" // set per request
	fixed := c.Headers()[1:]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		w = &varyOrigin{ResponseWriter: w}
		origin := r.Header.Get("Origin")
		if allowed[origin] {
			hd.Set("Access-Control-Allow-Origin", origin)
			fixed.SetOn(hd)
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// varyOrigin adds Origin to Vary as the answer's headers go out, after
// the face has set its own Vary (it replaces the header, for speed).
type varyOrigin struct {
	http.ResponseWriter
	done bool
}

func (v *varyOrigin) WriteHeader(status int) {
	if !v.done {
		v.done = true
		v.Header().Add("Vary", "Origin")
	}
	v.ResponseWriter.WriteHeader(status)
}

func (v *varyOrigin) Write(b []byte) (int, error) {
	if !v.done {
		v.WriteHeader(http.StatusOK)
	}
	return v.ResponseWriter.Write(b)
}

func (v *varyOrigin) Unwrap() http.ResponseWriter { return v.ResponseWriter }

// HeaderValue is one header made once and set on many responses: its key
// is canonical and its value a one-element slice that every response
// shares, which saves the allocations of http.Header.Set on hot paths.
// net/http only reads the values; setting the header again replaces the
// slice, and appending to a full slice copies it.
type HeaderValue struct {
	Key   string
	Value []string
}

// Header makes one HeaderValue.
func Header(key, value string) HeaderValue {
	return HeaderValue{Key: http.CanonicalHeaderKey(key), Value: []string{value}}
}

// FixedHeaders are headers made once; see HeaderValue.
type FixedHeaders []HeaderValue

// Fixed makes FixedHeaders of alternating keys and values.
func Fixed(kv ...string) FixedHeaders {
	out := make(FixedHeaders, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, Header(kv[i], kv[i+1]))
	}
	return out
}

// SetOn sets every header on h.
func (hs FixedHeaders) SetOn(h http.Header) {
	for _, v := range hs {
		h[v.Key] = v.Value
	}
}

var (
	nosniff = Header("X-Content-Type-Options", "nosniff")
	hsts    = Header("Strict-Transport-Security", "max-age=31536000")
)

// SecurityHeaders sets, on every answer of h, X-Content-Type-Options:
// nosniff (no browser reads a JSON answer or a page as anything else) and,
// for a request that came over TLS, Strict-Transport-Security for a year.
// Behind a proxy that terminates TLS, trustProxy takes X-Forwarded-Proto:
// https as TLS.
func SecurityHeaders(trustProxy bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd[nosniff.Key] = nosniff.Value
		if r.TLS != nil || (trustProxy && r.Header.Get("X-Forwarded-Proto") == "https") {
			hd[hsts.Key] = hsts.Value
		}
		h.ServeHTTP(w, r)
	})
}
