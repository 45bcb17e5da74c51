package reqlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/syncbuf"
	"github.com/profiled/profiled/reqlog"
)

func TestMiddlewareLogsOneLine(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	var seenID string
	h := reqlog.Middleware(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqlog.SetRoute(r.Context(), "GET /v4/profile")
		reqlog.SetUser(r.Context(), 42)
		seenID = reqlog.RequestID(r.Context())
		w.WriteHeader(http.StatusTeapot)
		w.WriteHeader(http.StatusOK) // ignored by net/http; the first status is the one logged
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/v4/profile?secret=x", nil)
	req.Header.Set("Authorization", "Bearer sekrit-token")
	h.ServeHTTP(rec, req)

	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q", buf.String())
	}
	if line["route"] != "GET /v4/profile" || line["status"] != float64(418) || line["user_id"] != float64(42) || line["method"] != "GET" {
		t.Fatalf("line: %v", line)
	}
	if seenID == "" || line["request_id"] != seenID || rec.Header().Get("X-Request-Id") != seenID {
		t.Fatalf("request id: handler %q, log %v, header %q", seenID, line["request_id"], rec.Header().Get("X-Request-Id"))
	}
	if bytes.Contains(buf.Bytes(), []byte("sekrit")) || bytes.Contains(buf.Bytes(), []byte("secret=x")) {
		t.Fatalf("the log line carries request data: %s", buf.String())
	}
}

func TestOutsideMiddleware(t *testing.T) {
	req := httptest.NewRequest("GET", "/", nil)
	if id := reqlog.RequestID(req.Context()); id != "" {
		t.Fatalf("id outside middleware: %q", id)
	}
	reqlog.SetUser(req.Context(), 1) // must not panic
	reqlog.SetRoute(req.Context(), "x")
}

func TestUnmatchedRoute(t *testing.T) {
	var buf bytes.Buffer
	h := reqlog.Middleware(slog.New(slog.NewJSONHandler(&buf, nil)), http.NotFoundHandler())
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nope", nil))
	var line map[string]any
	_ = json.Unmarshal(buf.Bytes(), &line)
	if line["route"] != "unmatched" || line["status"] != float64(404) {
		t.Fatalf("line: %v", line)
	}
}

func TestMiddlewareFields(t *testing.T) {
	for _, tc := range []struct {
		name             string
		trust            bool
		headers          map[string]string
		wantID, wantAddr string
	}{
		{"direct", false, map[string]string{"X-Request-Id": "from-outside", "X-Forwarded-For": "203.0.113.9"}, "", "192.0.2.1"},
		{"behind a proxy", true, map[string]string{"X-Request-Id": "abc-123", "X-Forwarded-For": "198.51.100.1, 203.0.113.9"}, "abc-123", "203.0.113.9"},
		{"a traceparent", true, map[string]string{"Traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, "4bf92f3577b34da6a3ce929d0e0e4736", "192.0.2.1"},
		{"an id that is not a token", true, map[string]string{"X-Request-Id": "a b\\nc"}, "", "192.0.2.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := reqlog.WithOptions(slog.New(slog.NewJSONHandler(&buf, nil)), reqlog.Options{TrustProxyHeaders: tc.trust},
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) }))
			req := httptest.NewRequest("GET", "/x", nil)
			req.RemoteAddr = "192.0.2.1:4321"
			req.Header.Set("User-Agent", "linodego/1.69")
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			if line["client"] != tc.wantAddr || line["bytes"] != float64(5) || line["user_agent"] != "linodego/1.69" || line["duration_ms"] == nil {
				t.Fatalf("line: %v", line)
			}
			id, _ := line["request_id"].(string)
			if (tc.wantID != "" && id != tc.wantID) || (tc.wantID == "" && (len(id) != 24 || id == "from-outside")) || rec.Header().Get("X-Request-Id") != id {
				t.Fatalf("request id %q (header %q), want %q", id, rec.Header().Get("X-Request-Id"), tc.wantID)
			}
		})
	}
}

func TestSecurityEvents(t *testing.T) {
	t.Run("through slog", func(t *testing.T) { testSecurityEvents(t, false) })
	t.Run("with Lines", func(t *testing.T) { testSecurityEvents(t, true) })
}

func testSecurityEvents(t *testing.T, lines bool) {
	var buf bytes.Buffer
	events := reqlog.SecurityEvents{Log: slog.New(slog.NewJSONHandler(&buf, nil))}
	if lines {
		events.Lines = &reqlog.Lines{W: &buf}
	}
	h := reqlog.Middleware(slog.New(slog.DiscardHandler), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		events.Event(r.Context(), core.Event{Name: core.EventSignInFailed, UserID: 7, Username: "alice", Detail: "password"})
	}))
	req := httptest.NewRequest("POST", "/auth/login", nil)
	req.RemoteAddr = "192.0.2.1:4321"
	req.Header.Set("User-Agent", "Mozilla/5.0")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q", buf.String())
	}
	if line["msg"] != "security event" || line["level"] != "WARN" || line["event"] != "signin.failed" || line["user_id"] != float64(7) ||
		line["username"] != "alice" || line["detail"] != "password" || line["client"] != "192.0.2.1" ||
		line["user_agent"] != "Mozilla/5.0" || line["request_id"] != rec.Header().Get("X-Request-Id") {
		t.Fatalf("line: %v", line)
	}

	// Outside a request (an operator's command): the event alone, at INFO.
	buf.Reset()
	events.Event(context.Background(), core.Event{Name: core.EventPasswordReset, UserID: 7, Username: "alice"})
	line = nil
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["level"] != "INFO" || line["event"] != "password.reset" || line["request_id"] != nil || line["detail"] != nil {
		t.Fatalf("line: %v", line)
	}
}

// TestBuffer: lines wait for the timer, in order; a warning takes them
// all out at once; Close writes out the rest and later lines go at once.
func TestBuffer(t *testing.T) {
	var out syncbuf.Buffer
	b := reqlog.NewBuffer(&out, time.Hour)
	log := slog.New(reqlog.FlushingHandler(slog.NewTextHandler(b, nil), b, slog.LevelWarn))
	log.Info("one")
	log.Info("two")
	if out.String() != "" {
		t.Fatalf("written before the timer: %q", out.String())
	}
	log.Warn("three")
	if got := out.String(); !regexp.MustCompile(`(?s)msg=one.*msg=two.*msg=three`).MatchString(got) {
		t.Fatalf("after a warning: %q", got)
	}
	log.Info("four")
	if err := b.Close(); err != nil || !strings.Contains(out.String(), "msg=four") {
		t.Fatalf("Close: %v, %q", err, out.String())
	}
	log.Info("five")
	if !strings.Contains(out.String(), "msg=five") {
		t.Errorf("after Close a line waits: %q", out.String())
	}

	var timed syncbuf.Buffer
	b = reqlog.NewBuffer(&timed, 10*time.Millisecond)
	defer b.Close()
	slog.New(slog.NewTextHandler(b, nil)).Info("by the timer")
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(timed.String(), "by the timer"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the timer did not write the line out")
		}
	}
}
