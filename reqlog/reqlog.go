// Package reqlog writes one structured log line per HTTP request and gives
// every request an id that faces can put in error bodies, so a user's report
// can be matched with the server's log.
package reqlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

type entryKey struct{}

// entry is what a request's handlers learn about it as they run.
type entry struct {
	id        string
	route     string
	userID    int64
	client    string
	userAgent string
}

// Options configure the middleware.
type Options struct {
	// TrustProxyHeaders, behind a load balancer that sets them: the client
	// address is the last X-Forwarded-For entry, and an incoming
	// X-Request-Id (or the trace id of a W3C traceparent) becomes the
	// request's id, so one id follows a request through the platform.
	TrustProxyHeaders bool
	// Observe, if set, is told of every request once it is answered (the
	// metrics' counters and histograms).
	Observe func(Observed)
	// Lines, if set, writes the request lines instead of the logger, in
	// the same format and much faster (lines.go).
	Lines *Lines
}

// Observed is what Options.Observe learns of an answered request.
type Observed struct {
	Route    string // the route pattern, "unmatched" when none took the request
	Status   int
	Duration time.Duration
}

// Middleware is WithOptions without proxy headers.
func Middleware(log *slog.Logger, next http.Handler) http.Handler {
	return WithOptions(log, Options{}, next)
}

// WithOptions assigns a request id (sent back as X-Request-Id) and, when
// the request ends, logs method, route pattern, status, duration (and in
// milliseconds), bytes answered, user id, request id, client address and
// user agent. It never logs other headers or bodies: they carry tokens and
// codes.
func WithOptions(log *slog.Logger, o Options, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := ""
		if o.TrustProxyHeaders {
			id = incomingID(r)
		}
		if id == "" {
			id = newID()
		}
		// The entry and the recorder in one allocation.
		st := &struct {
			e   entry
			rec statusRecorder
		}{e: entry{id: id, client: ClientAddr(r, o.TrustProxyHeaders), userAgent: clip(r.UserAgent(), 256)},
			rec: statusRecorder{ResponseWriter: w, status: http.StatusOK}}
		e, rec := &st.e, &st.rec
		w.Header().Set("X-Request-Id", e.id)
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), entryKey{}, e)))
		route := e.route
		if route == "" {
			route = "unmatched"
		}
		took := time.Since(start)
		if o.Observe != nil {
			o.Observe(Observed{Route: route, Status: rec.status, Duration: took})
		}
		if o.Lines != nil {
			o.Lines.write(&line{time: start.Add(took), method: r.Method, route: route, status: rec.status, duration: took,
				bytes: rec.bytes, userID: e.userID, requestID: e.id, client: e.client, userAgent: e.userAgent})
			return
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", rec.status),
			slog.Duration("duration", took),
			slog.Float64("duration_ms", float64(took.Microseconds())/1000),
			slog.Int64("bytes", rec.bytes),
			slog.Int64("user_id", e.userID),
			slog.String("request_id", e.id),
			slog.String("client", e.client),
			slog.String("user_agent", e.userAgent),
		)
	})
}

// incomingID is the id a proxy gave the request: X-Request-Id when it is
// a plain token of at most 64 characters, else a traceparent's trace id.
func incomingID(r *http.Request) string {
	if v := r.Header.Get("X-Request-Id"); v != "" && len(v) <= 64 && plainToken(v) {
		return v
	}
	// traceparent: version "-" trace-id (32 hex) "-" parent-id "-" flags.
	if tp := r.Header.Get("Traceparent"); len(tp) >= 55 && tp[2] == '-' && tp[35] == '-' {
		if tid := tp[3:35]; plainToken(tid) && tid != "00000000000000000000000000000000" {
			return tid
		}
	}
	return ""
}

func plainToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ClientAddr is the peer's address, or behind a trusted proxy the last
// X-Forwarded-For entry (the one the proxy itself added): the request
// log's client, and the address of sign-in limits and login records.
func ClientAddr(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clip bounds client text in a log line, on a UTF-8 boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func from(ctx context.Context) *entry {
	e, _ := ctx.Value(entryKey{}).(*entry)
	return e
}

// RequestID returns the id of the request, or "" outside Middleware.
func RequestID(ctx context.Context) string {
	if e := from(ctx); e != nil {
		return e.id
	}
	return ""
}

// SetRoute records the route pattern that served the request.
func SetRoute(ctx context.Context, pattern string) {
	if e := from(ctx); e != nil {
		e.route = pattern
	}
}

// SetUser records the authenticated user.
func SetUser(ctx context.Context, userID int64) {
	if e := from(ctx); e != nil {
		e.userID = userID
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
