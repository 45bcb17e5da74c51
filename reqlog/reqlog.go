// Package reqlog writes one structured log line per HTTP request and gives
// every request an id that faces can put in error bodies, so a user's report
// can be matched with the server's log.
package reqlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"
)

type entryKey struct{}

// entry is what a request's handlers learn about it as they run.
type entry struct {
	id     string
	route  string
	userID int64
}

// Middleware assigns a request id (sent back as X-Request-Id) and, when the
// request ends, logs method, route pattern, status, duration, user id and
// request id. It never logs headers or bodies: they carry tokens and codes.
func Middleware(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		e := &entry{id: newID()}
		w.Header().Set("X-Request-Id", e.id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), entryKey{}, e)))
		route := e.route
		if route == "" {
			route = "unmatched"
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)),
			slog.Int64("user_id", e.userID),
			slog.String("request_id", e.id),
		)
	})
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
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
