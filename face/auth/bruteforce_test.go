package auth_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/profiled/profiled/internal/testenv"
)

// parallelGuesses are how many wrong guesses each test sends at once.
const parallelGuesses = 48

// judgedAtMost is what N guesses sent one after another would have judged
// before the lockout: the free failures of an account (5) and the one
// that locks.
const judgedAtMost = 5 + 1

// sendAtOnce posts body to path n times at once, released together, and
// counts the answers by status; every 429 must carry Retry-After.
func (e *env) sendAtOnce(t *testing.T, path string, n int, body func(i int) string) map[int]int {
	t.Helper()
	var (
		mu     sync.Mutex
		counts = map[int]int{}
		start  = make(chan struct{})
		wg     sync.WaitGroup
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := http.Post(e.srv.URL+path, "application/json", strings.NewReader(body(i)))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
					t.Errorf("429 with Retry-After %q", resp.Header.Get("Retry-After"))
				}
			}
			mu.Lock()
			counts[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return counts
}

// TestParallelWrongPasswords: 48 wrong passwords for one account sent at
// once are judged no more often than sequential ones; the others get 429
// with Retry-After, and only the judged ones are recorded as failed logins.
func TestParallelWrongPasswords(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			_, token := e.user("alice")
			counts := e.sendAtOnce(t, "/auth/login", parallelGuesses, func(i int) string {
				return `{"username":"alice","password":"wrong guess number ` + strconv.Itoa(i) + `"}`
			})
			judged := counts[http.StatusUnauthorized]
			if judged > judgedAtMost || judged == 0 || judged+counts[http.StatusTooManyRequests]+counts[http.StatusServiceUnavailable] != parallelGuesses {
				t.Fatalf("answers %v: %d judged, want 1 to %d and the rest 429 (or 503)", counts, judged, judgedAtMost)
			}
			var logins struct{ Data []struct{ Status string } }
			e.call("GET", "/v4/profile/logins", token, "", 200, &logins)
			if len(logins.Data) != judged {
				t.Fatalf("%d failed logins recorded for %d judged guesses", len(logins.Data), judged)
			}
			// The right password is refused too while the account is locked.
			e.call("POST", "/auth/login", "", `{"username":"alice","password":"`+password+`"}`, http.StatusTooManyRequests, nil)
		})
	}
}

// TestParallelWrongCodes: 48 wrong second factors sent at once against
// one login challenge are judged no more often than sequential ones.
func TestParallelWrongCodes(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			_, token := e.user("alice")
			secret, _ := e.enableTFA(token)
			var first struct{ Challenge string }
			e.call("POST", "/auth/login", "", `{"username":"alice","password":"`+password+`"}`, 200, &first)
			right := e.code(secret)
			counts := e.sendAtOnce(t, "/auth/login/tfa", parallelGuesses, func(i int) string {
				code := strconv.Itoa(100000 + i)
				if code == right {
					code = "999999"
				}
				return `{"challenge":"` + first.Challenge + `","code":"` + code + `"}`
			})
			judged := counts[http.StatusUnauthorized]
			if judged > judgedAtMost || judged == 0 || judged+counts[http.StatusTooManyRequests]+counts[http.StatusServiceUnavailable] != parallelGuesses {
				t.Fatalf("answers %v: %d judged, want 1 to %d and the rest 429 (or 503)", counts, judged, judgedAtMost)
			}
		})
	}
}

// TestParallelWrongPasswordsFromOneAddress: guesses against many accounts
// from one address are bounded by the address's limit (20 free) too.
func TestParallelWrongPasswordsFromOneAddress(t *testing.T) {
	e := newEnv(t, testenv.Backends(t)[0])
	counts := e.sendAtOnce(t, "/auth/login", 60, func(i int) string {
		return `{"username":"user` + strconv.Itoa(i) + `","password":"wrong guess"}`
	})
	// Some may be 503: the server does not queue more password checks
	// than it can do in a moment (TestPasswordWorkIsBounded).
	if judged := counts[http.StatusUnauthorized]; judged > 20+1 || judged+counts[http.StatusTooManyRequests]+counts[http.StatusServiceUnavailable] != 60 {
		t.Fatalf("answers %v: %d judged from one address, want at most 21 and the rest 429 or 503", counts, judged)
	}
}
