package core_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/profiled/profiled/core"
)

// TestPasswordWorkIsBounded: sign-ins whose client has gone start no
// argon2id work, and a burst beyond what the process may queue is answered
// 503 (KindUnavailable, with a RetryAfter) instead of waiting without
// bound (issue 11, item 5).
func TestPasswordWorkIsBounded(t *testing.T) {
	e := newProductionEnv(t) // the hashes must take time for a queue to form
	withPassword(t, e, "alice")

	gone, cancel := context.WithCancel(e.ctx)
	cancel()
	before := core.PasswordHashesRun()
	for i := range 50 {
		_, err := e.svc.SignIn(gone, core.SignInRequest{Username: "alice", Password: "wrong password", IP: fmt.Sprintf("192.0.2.%d", i)})
		if err == nil {
			t.Fatal("a sign-in of a gone client succeeded")
		}
	}
	if ran := core.PasswordHashesRun() - before; ran != 0 {
		t.Fatalf("%d password hashes ran for clients that had gone", ran)
	}

	// A burst from many addresses, for many accounts: more than the gate
	// lets wait get 503, and nothing else goes wrong.
	var wg sync.WaitGroup
	var mu sync.Mutex
	kinds := map[core.Kind]int{}
	for i := range 120 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: fmt.Sprintf("user%d", i),
				Password: "wrong password", IP: fmt.Sprintf("198.51.100.%d", i)})
			mu.Lock()
			kinds[core.KindOf(err)]++
			mu.Unlock()
			if e := core.AsError(err); e != nil && e.Kind == core.KindUnavailable && e.RetryAfter <= 0 {
				t.Errorf("503 without RetryAfter: %+v", e)
			}
		}()
	}
	wg.Wait()
	if kinds[core.KindUnavailable] == 0 || kinds[core.KindUnauthorized]+kinds[core.KindUnavailable] != 120 {
		t.Fatalf("a burst of 120 sign-ins: %v; want some refused as unavailable and the rest judged", kinds)
	}
}
