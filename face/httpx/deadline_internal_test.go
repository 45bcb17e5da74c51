package httpx

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// serveWithDeadline runs fn as a handler under Deadline(d) and returns the
// request's context as fn saw it.
func serveWithDeadline(t *testing.T, parent context.Context, d time.Duration, fn func(ctx context.Context)) *deadlineCtx {
	t.Helper()
	var seen *deadlineCtx
	Deadline(d, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Context().(*deadlineCtx)
		fn(r.Context())
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil).WithContext(parent))
	return seen
}

func TestDeadlineStartsNoTimerUntilAsked(t *testing.T) {
	type key struct{}
	parent := context.WithValue(t.Context(), key{}, "v")
	c := serveWithDeadline(t, parent, time.Minute, func(ctx context.Context) {
		if ctx.Err() != nil || ctx.Value(key{}) != "v" {
			t.Errorf("Err %v, Value %v", ctx.Err(), ctx.Value(key{}))
		}
		if at, ok := ctx.Deadline(); !ok || time.Until(at) < 50*time.Second {
			t.Errorf("Deadline() = %v, %v", at, ok)
		}
	})
	if c.started.Load() != nil {
		t.Error("a request that never waited started a timer")
	}
	// One that waits gets a timer, and it is stopped when the request ends.
	c = serveWithDeadline(t, parent, time.Minute, func(ctx context.Context) {
		select {
		case <-ctx.Done():
			t.Error("done before its deadline")
		default:
		}
	})
	if s := c.started.Load(); s == nil || !errors.Is(s.ctx.Err(), context.Canceled) {
		t.Error("the started timer was not released at the end of the request")
	}
}

func TestDeadlinePassesWithoutDone(t *testing.T) {
	serveWithDeadline(t, t.Context(), 5*time.Millisecond, func(ctx context.Context) {
		time.Sleep(20 * time.Millisecond) // work that never asked for Done
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(ctx), ErrDeadline) {
			t.Errorf("after the deadline: Err %v, Cause %v", ctx.Err(), context.Cause(ctx))
		}
	})
	serveWithDeadline(t, t.Context(), 5*time.Millisecond, func(ctx context.Context) {
		time.Sleep(20 * time.Millisecond)
		// Cause first, as Domain may ask it.
		if !errors.Is(context.Cause(ctx), ErrDeadline) {
			t.Errorf("Cause after the deadline: %v", context.Cause(ctx))
		}
	})
}

func TestDeadlineChildrenAndParent(t *testing.T) {
	serveWithDeadline(t, t.Context(), 10*time.Millisecond, func(ctx context.Context) {
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() { close(fired) })
		defer stop()
		select {
		case <-child.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a child did not end at the deadline")
		}
		<-fired
		if !errors.Is(context.Cause(child), ErrDeadline) {
			t.Errorf("the child's cause: %v", context.Cause(child))
		}
	})
	// The parent ending (the client left) ends it, with the parent's cause.
	parent, cancel := context.WithCancelCause(t.Context())
	gone := errors.New("client gone")
	serveWithDeadline(t, parent, time.Minute, func(ctx context.Context) {
		cancel(gone)
		if !errors.Is(ctx.Err(), context.Canceled) || !errors.Is(context.Cause(ctx), gone) {
			t.Errorf("parent ended: Err %v, Cause %v", ctx.Err(), context.Cause(ctx))
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			t.Error("not done after the parent ended")
		}
	})
	// An earlier deadline of the parent is the one it reports.
	early, cancelEarly := context.WithTimeout(t.Context(), time.Second)
	defer cancelEarly()
	serveWithDeadline(t, early, time.Minute, func(ctx context.Context) {
		if at, _ := ctx.Deadline(); time.Until(at) > 2*time.Second {
			t.Errorf("Deadline() = %v, want the parent's, within a second", at)
		}
	})
}
