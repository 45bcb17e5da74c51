package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profiled/profiled/internal/pgtest"
	"github.com/profiled/profiled/webhook"
)

const eventsSecret = "a test secret of enough bytes"

// receivedEvent is one event the receiver took.
type receivedEvent struct {
	ID       int64  `json:"id"`
	Event    string `json:"event"`
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
	Detail   string `json:"detail"`
}

// eventReceiver is a real HTTP receiver of the events webhook: it checks
// each signature, answers 503 while down, and counts deliveries by id.
type eventReceiver struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	down       bool
	refused    int
	deliveries map[int64]int
	events     map[int64]receivedEvent
	bodies     []string
}

func newEventReceiver(t *testing.T, down bool) *eventReceiver {
	r := &eventReceiver{t: t, down: down, deliveries: map[int64]int{}, events: map[int64]receivedEvent{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *eventReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		r.refused++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if got, want := req.Header.Get("X-Profiled-Signature"), webhook.Sign([]byte(eventsSecret), body); got != want {
		r.t.Errorf("signature %q, want %q, of %s", got, want, body)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var e receivedEvent
	if err := json.Unmarshal(body, &e); err != nil || req.Header.Get("X-Profiled-Event-Id") != strconv.FormatInt(e.ID, 10) {
		r.t.Errorf("event %s (X-Profiled-Event-Id %q): %v", body, req.Header.Get("X-Profiled-Event-Id"), err)
	}
	r.deliveries[e.ID]++
	r.events[e.ID] = e
	r.bodies = append(r.bodies, string(body))
	w.WriteHeader(http.StatusNoContent)
}

func (r *eventReceiver) setDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

// await waits until the receiver has every event named in want (by
// event name, counted), and returns them by id.
func (r *eventReceiver) await(want map[string]int, wait time.Duration) map[int64]receivedEvent {
	r.t.Helper()
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		r.mu.Lock()
		got := map[string]int{}
		for _, e := range r.events {
			got[e.Event]++
		}
		ok := true
		for name, n := range want {
			if got[name] < n {
				ok = false
			}
		}
		if ok {
			out := map[int64]receivedEvent{}
			for id, e := range r.events {
				out[id] = e
			}
			r.mu.Unlock()
			return out
		}
		if time.Now().After(deadline) {
			r.mu.Unlock()
			r.t.Fatalf("after %v the receiver has %v, want %v", wait, got, want)
		}
		r.mu.Unlock()
	}
}

func TestEventsWebhook(t *testing.T) {
	_, db := tempDB(t)
	if _, _, err := runCmd(t, map[string]string{"PROFILED_DB": db}, "serve", "--events-url", "http://127.0.0.1:1/"); err == nil ||
		!strings.Contains(err.Error(), "--events-secret") {
		t.Fatalf("--events-url without a secret: %v", err)
	}
	recv := newEventReceiver(t, true)
	s := startServe(t, map[string]string{"PROFILED_DB": db, "PROFILED_EVENTS_SECRET": eventsSecret}, "--events-url", recv.srv.URL,
		"--metrics-addr", "127.0.0.1:0")
	metricsURL := s.metricsURL(t)
	const typed = "not the password at all"
	if status, _ := call(t, "POST", s.base+"/auth/login", "", `{"username":"admin","password":"`+typed+`"}`); status != http.StatusUnauthorized {
		t.Fatalf("a wrong password: %d", status)
	}
	if status, body := call(t, "POST", s.base+"/v4/profile/tokens", s.token, `{"label":"ci"}`); status != http.StatusOK {
		t.Fatalf("POST /v4/profile/tokens: %d %s", status, body)
	}
	// The receiver is down: the events wait in the outbox, retried.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		recv.mu.Lock()
		refused := recv.refused
		recv.mu.Unlock()
		if refused >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker tried %d times in 5 s", refused)
		}
	}
	if !strings.Contains(s.stderr.String(), "an event was not delivered; it will be tried again") {
		t.Errorf("no warning of the failed delivery in the log")
	}
	recv.setDown(false)
	got := recv.await(map[string]int{"user.created": 1, "signin.failed": 1, "token.created": 1}, 15*time.Second)
	for _, e := range got {
		if e.Event == "token.created" && (e.Detail != "ci" || e.Username != "admin" || e.UserID == 0) {
			t.Errorf("token.created = %+v", e)
		}
	}
	// The metrics saw the failures, and the outbox empties (the worker
	// deletes a message once the receiver's answer is in).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		fams := scrape(t, metricsURL)
		depth := sample(fams, "profiled_outbox_depth", map[string]string{"topic": "event"})
		if depth != nil && depth.GetGauge().GetValue() == 0 {
			if m := sample(fams, "profiled_outbox_deliveries_total", map[string]string{"topic": "event", "result": "failed"}); m == nil || m.GetCounter().GetValue() < 2 {
				t.Errorf("failed deliveries = %v, want 2 or more", m)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox depth after delivery = %v, want 0", depth)
		}
	}
	for _, b := range recv.bodies {
		if strings.Contains(b, typed) || strings.Contains(b, s.token) {
			t.Errorf("a secret in an event: %s", b)
		}
	}
}

// TestEventsSurviveKill9: an event of an acknowledged change is in the
// outbox when the server is killed with SIGKILL while the receiver is
// down, and the next start delivers it.
func TestEventsSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short mode")
	}
	bin := buildProfiled(t)
	_, db := tempDB(t)
	recv := newEventReceiver(t, true)
	tokenFile := t.TempDir() + "/token"
	start := func() *process {
		cmd := exec.Command(bin, "serve", "--db", db, "--addr", "127.0.0.1:0", "--drain", "0s", "--events-url", recv.srv.URL,
			"--bootstrap-token-file", tokenFile)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PROFILED_EVENTS_SECRET=" + eventsSecret}
		p, err := spawnServe(t, cmd, 30*time.Second, (*process).kill)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := start()
	if status, body := call(t, "POST", p.base+"/v4/profile/tokens", p.token, `{"label":"before the crash"}`); status != http.StatusOK {
		t.Fatalf("POST /v4/profile/tokens: %d %s", status, body)
	}
	// The commit wakes the worker, which tries the event at once: kill
	// the server once the refusal is noted, not in the middle of the
	// attempt, whose lease would keep the event from the next server for
	// a minute. Message 1 is user.created, 2 token.created.
	if !p.stderr.has(`"message_id":2`) {
		t.Fatalf("no failed attempt of token.created in the log:\n%s", p.stderr)
	}
	p.kill()
	recv.setDown(false)
	start()
	got := recv.await(map[string]int{"user.created": 1, "token.created": 1}, 15*time.Second)
	for _, e := range got {
		if e.Event == "token.created" && e.Detail != "before the crash" {
			t.Errorf("token.created = %+v", e)
		}
	}
}

// TestEventsReplicas: two replicas on one PostgreSQL database, each with
// its worker, deliver every event exactly once between them.
func TestEventsReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short mode")
	}
	dsn, _ := pgtest.Schema(t)
	bin := buildProfiled(t)
	recv := newEventReceiver(t, true) // down while the events pile up, so both workers find work at once
	replicas := startReplicas(t, bin, dsn, []string{"--events-url", recv.srv.URL}, "PROFILED_EVENTS_SECRET="+eventsSecret)
	const tokens = 40
	createTokensAlternately(t, replicas, tokens)
	recv.setDown(false)
	recv.await(map[string]int{"token.created": tokens}, 30*time.Second)
	time.Sleep(300 * time.Millisecond) // a second delivery would come now
	recv.mu.Lock()
	defer recv.mu.Unlock()
	for id, n := range recv.deliveries {
		if n != 1 {
			t.Errorf("event %d delivered %d times", id, n)
		}
	}
}
