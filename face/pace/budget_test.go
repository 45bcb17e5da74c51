package pace_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/face/pace"
	"github.com/profiled/profiled/internal/testenv"
)

// TestLargeBodiesBudget: twelve 100 MB PUTs at once (they reached 1.98 GB
// of RSS) hold no more than the byte budget allows: the process's peak
// resident set stays under the budget plus 300 MB, the ones that find no
// room wait, then get 503 with Retry-After, and nothing half-stored is
// left (issue 11, item 6). On SQLite, whose C heap the RSS counts.
func TestLargeBodiesBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 1.2 GB")
	}
	e := newEnv(t, testenv.Backends(t)[0])
	const budget = 320 << 20 // one largest body, held three times over
	srv := httptest.NewServer(pace.New(e.svc, pace.Options{Budget: httpx.NewByteBudget(budget)}))
	t.Cleanup(srv.Close)
	tok := e.personal("user:preferences:read user:preferences:write")
	full := make(object, core.MaxPreferenceKeys)
	for i := range full {
		full[i] = core.MaxPreferenceValueBytes
	}
	size := full.length()

	var mu sync.Mutex
	statuses := map[int]int{}
	peak := measureMemory(func() {
		var wg sync.WaitGroup
		for range 12 {
			wg.Go(func() {
				req, _ := http.NewRequest("PUT", srv.URL+"/user/2025-1/preferences/"+core.PersonalNamespace, full.reader())
				req.ContentLength = size
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				status := -1 // the server answered before reading the body, and closed it
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
					if status == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
						t.Errorf("503 without Retry-After")
					}
				}
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			})
		}
		wg.Wait()
	})
	t.Logf("12 PUTs of %d bytes at once with a budget of %d: %v; peak RSS +%d MB, heap +%d MB",
		size, budget, statuses, peak.rss>>20, peak.heap>>20)
	if statuses[http.StatusOK] == 0 || statuses[http.StatusOK]+statuses[http.StatusServiceUnavailable]+statuses[-1] != 12 {
		t.Fatalf("answers %v: want some 200 and the rest 503", statuses)
	}
	// Under the race detector its shadow memory is in the RSS.
	if !testenv.RaceEnabled && peak.rss > budget+300<<20 {
		t.Fatalf("peak RSS +%d MB, more than the budget (%d MB) plus 300 MB", peak.rss>>20, budget>>20)
	}
	r := e.stream("GET", core.PersonalNamespace, tok, nil, -1)
	if r.status != 200 || r.sum != full.sum() {
		t.Fatalf("GET after the PUTs: %d", r.status)
	}
}
