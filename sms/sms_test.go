package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWebhookPostsJSON(t *testing.T) {
	type got struct {
		method, contentType string
		body                map[string]any
	}
	received := make(chan got, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var g got
		g.method = r.Method
		g.contentType, _, _ = mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err := json.NewDecoder(r.Body).Decode(&g.body); err != nil {
			t.Errorf("decode body: %v", err)
		}
		received <- g
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	w := &Webhook{URL: srv.URL + "/sms"}
	if err := w.SendSMS(context.Background(), "+14155550123", "Your verification code is 123456."); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	g := <-received
	if g.method != http.MethodPost {
		t.Errorf("method = %s, want POST", g.method)
	}
	if g.contentType != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", g.contentType)
	}
	want := map[string]any{"to": "+14155550123", "message": "Your verification code is 123456."}
	if len(g.body) != len(want) || g.body["to"] != want["to"] || g.body["message"] != want["message"] {
		t.Errorf("body = %v, want exactly %v", g.body, want)
	}
}

func TestWebhookNon2xxIsAnError(t *testing.T) {
	for _, status := range []int{http.StatusMovedPermanently, http.StatusBadRequest, http.StatusInternalServerError} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if status == http.StatusMovedPermanently {
				// A redirect to nowhere is still not a delivery.
				w.Header().Set("Location", "/elsewhere")
			}
			w.WriteHeader(status)
			io.WriteString(w, "echo: code 654321")
		}))
		w := &Webhook{URL: srv.URL, Client: srv.Client()}
		err := w.SendSMS(context.Background(), "+14155550123", "code 654321")
		srv.Close()
		if err == nil {
			t.Errorf("status %d: SendSMS succeeded, want an error", status)
			continue
		}
		if strings.Contains(err.Error(), "654321") {
			t.Errorf("status %d: error %q repeats the response body, which may carry the code", status, err)
		}
	}
}

func TestWebhookTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	w := &Webhook{URL: srv.URL, Client: &http.Client{Timeout: 100 * time.Millisecond}}
	start := time.Now()
	err := w.SendSMS(context.Background(), "+14155550123", "hello")
	if err == nil {
		t.Fatal("SendSMS to a server that never answers succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("SendSMS took %v to give up", d)
	}

	// The caller's context bounds the call too.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := (&Webhook{URL: srv.URL}).SendSMS(ctx, "+14155550123", "hello"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("SendSMS past the context's deadline: err = %v, want context.DeadlineExceeded", err)
	}
}

func TestWebhookUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	if err := (&Webhook{URL: url}).SendSMS(context.Background(), "+14155550123", "hello"); err == nil {
		t.Fatal("SendSMS to a closed port succeeded")
	}
}

func TestLogWritesTheMessageAtWarn(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	if err := (Log{Logger: logger}).SendSMS(context.Background(), "+14155550123", "Your verification code is 123456."); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	if rec["level"] != "WARN" {
		t.Errorf("level = %v, want WARN", rec["level"])
	}
	if rec["to"] != "+14155550123" || rec["message"] != "Your verification code is 123456." {
		t.Errorf("log line %v lacks the recipient or the message", rec)
	}
	msg, _ := rec["msg"].(string)
	for _, want := range []string{"development", "--sms-webhook", "PROFILED_SMS_WEBHOOK"} {
		if !strings.Contains(msg, want) {
			t.Errorf("msg %q does not mention %q", msg, want)
		}
	}
}

func TestLogWithoutLoggerUsesDefault(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	if err := (Log{}).SendSMS(context.Background(), "+14155550123", "code 1"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "code 1") {
		t.Errorf("default logger got %q, want the message", buf.String())
	}
}
