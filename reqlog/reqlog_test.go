package reqlog_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

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
