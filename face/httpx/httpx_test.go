package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
)

func TestStatus(t *testing.T) {
	for kind, want := range map[core.Kind]int{
		core.KindInternal: 500, core.KindInvalid: 400, core.KindNotFound: 404, core.KindUnauthorized: 401,
		core.KindForbidden: 403, core.KindConflict: 409, core.KindTooManyRequests: 429, core.KindTooLarge: 413,
		core.KindGone: 410, core.KindUnavailable: 503, core.Kind(99): 500,
	} {
		if got := httpx.Status(kind); got != want {
			t.Errorf("Status(%d) = %d, want %d", kind, got, want)
		}
	}
}

func TestSetRetryAfter(t *testing.T) {
	for after, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", time.Minute: "60"} {
		h := http.Header{}
		httpx.SetRetryAfter(h, core.TooManyRequests(after))
		if got := h.Get("Retry-After"); got != want {
			t.Errorf("RetryAfter %v: Retry-After %q, want %q", after, got, want)
		}
	}
	h := http.Header{}
	httpx.SetRetryAfter(h, &core.Error{Kind: core.KindUnavailable, RetryAfter: 3 * time.Second})
	if got := h.Get("Retry-After"); got != "3" {
		t.Errorf("a 503: Retry-After %q, want 3", got)
	}
	h = http.Header{}
	httpx.SetRetryAfter(h, core.NotFound())
	if len(h) != 0 {
		t.Errorf("a 404 set %v", h)
	}
}

func TestWriteJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	httpx.WriteJSON(rec, 201, "application/json", map[string]string{"a": "<&>"}, `{"oops":1}`)
	if rec.Code != 201 || rec.Body.String() != "{\"a\":\"<&>\"}\n" || rec.Header().Get("Content-Type") != "application/json" ||
		rec.Header().Get("Content-Length") != "12" {
		t.Errorf("WriteJSON: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	httpx.WriteJSON(rec, 200, "application/json", func() {}, `{"oops":1}`)
	if rec.Code != 500 || rec.Body.String() != `{"oops":1}` || rec.Header().Get("Content-Length") != "10" {
		t.Errorf("WriteJSON of what JSON cannot encode: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
}

func TestClientGone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
	if httpx.ClientGone(r, context.Canceled) {
		t.Error("a live request's context.Canceled error counts as the client gone")
	}
	cancel()
	if !httpx.ClientGone(r, fmt.Errorf("store: %w", context.Canceled)) {
		t.Error("a gone client's wrapped context.Canceled is not seen")
	}
	if httpx.ClientGone(r, errors.New("disk full")) {
		t.Error("another error of a gone client counts as the client gone")
	}
}

func TestDeadlineAndDomain(t *testing.T) {
	var seen error
	h := httpx.Deadline(20*time.Millisecond, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // a store call that hangs until the deadline
		err := fmt.Errorf("store: %w", r.Context().Err())
		seen = httpx.Domain(r, err)
		if httpx.ClientGone(r, err) {
			t.Error("the server's own deadline counted as the client gone")
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if e := core.AsError(seen); e == nil || e.Kind != core.KindUnavailable || e.RetryAfter <= 0 {
		t.Fatalf("Domain of a deadline: %v", seen)
	}
	r := httptest.NewRequest("GET", "/", nil)
	if err := errors.New("x"); httpx.Domain(r, err) != err {
		t.Fatal("Domain changed another error")
	}
}
