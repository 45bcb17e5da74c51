package pace_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// TestConcurrentPuts sends many PUTs of different objects to one namespace
// at once, in rounds: after each round the namespace holds exactly one of
// them, whole, on every backend.
func TestConcurrentPuts(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			tok := e.personal("user:preferences:read user:preferences:write")
			const writers, rounds = 8, 4
			for round := range rounds {
				objects := make([]string, writers)
				for w := range objects {
					// Big enough (about 256 KiB) that writes take a while and overlap.
					pad := strings.Repeat(string(rune('a'+w)), 64<<10)
					objects[w] = fmt.Sprintf(`{"round":%d,"writer":%d,"a":"%s","b":"%s","c":"%s","d":"%s"}`, round, w, pad, pad, pad, pad)
				}
				var wg sync.WaitGroup
				errs := make(chan string, writers)
				for w := range writers {
					wg.Go(func() {
						r := e.do("PUT", e.url("2025-1", core.PersonalNamespace), tok, strings.NewReader(objects[w]))
						if r.status != 200 || string(r.body) != objects[w] {
							errs <- fmt.Sprintf("writer %d: %d %.200s", w, r.status, r.body)
						}
					})
				}
				wg.Wait()
				close(errs)
				for msg := range errs {
					t.Error(msg)
				}
				got := e.get("2025-1", core.PersonalNamespace, tok)
				found := -1
				for w, o := range objects {
					if string(got.body) == o {
						found = w
					}
				}
				if got.status != 200 || found < 0 {
					t.Fatalf("round %d: the namespace holds none of the objects written (%d, %d bytes: %.100s)", round, got.status, len(got.body), got.body)
				}
			}
		})
	}
}
