package linode_test

// The twins of tools/profiled-bench: each BenchmarkTwin* serves one request
// of the harness's table through the whole handler stack of the binary
// (the request log, the face, the core, the SQLite store on a real file)
// into an httptest.ResponseRecorder, so that -benchmem reports the
// allocations of one request without the network. Profile one with, e.g.:
//
//	go test -run '^$' -bench TwinGetProfile -benchmem -cpuprofile cpu.out -memprofile mem.out ./face/linode
//	go tool pprof -top cpu.out

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/linode"
	"github.com/profiled/profiled/internal/testenv"
	"github.com/profiled/profiled/reqlog"
)

// twin is a served SQLite store with one user, a token, 120 SSH keys,
// 3 tokens and stored preferences, as the harness seeds each of its users.
type twin struct {
	h     http.Handler
	token string
}

func newTwin(b *testing.B) *twin {
	b.Helper()
	ctx := context.Background()
	st := testenv.OpenSQLite(b)
	svc := core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: st, Box: testenv.TestKey(), SMS: &testenv.SMSInbox{}})
	if _, err := svc.CreateUser(ctx, core.UserCreate{Username: "bench", Email: "bench@example.com"}); err != nil {
		b.Fatal(err)
	}
	_, raw, err := svc.IssueToken(ctx, "bench", "laptop", core.AllScopes, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, label := range []string{"ci-deploy", "terraform"} {
		if _, _, err := svc.IssueToken(ctx, "bench", label, core.AllScopes, nil); err != nil {
			b.Fatal(err)
		}
	}
	a, err := svc.Authenticate(ctx, raw)
	if err != nil {
		b.Fatal(err)
	}
	for _, key := range benchKeys(b, 120) {
		if _, err := svc.AddSSHKey(ctx, a, core.SSHKeyCreate{Label: "key", Key: key}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := svc.PutPreferences(ctx, a, []byte(`{"theme":"dark"}`), nil); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	// As serve runs it: the request lines written by reqlog.Lines.
	lines := &reqlog.Lines{W: io.Discard}
	return &twin{h: reqlog.WithOptions(log, reqlog.Options{Lines: lines}, linode.New(svc, linode.Options{Logger: log})), token: raw}
}

func benchKeys(b *testing.B, n int) []string {
	b.Helper()
	out := make([]string, n)
	for i := range out {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		sp, err := ssh.NewPublicKey(pub)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + fmt.Sprintf(" bench%d", i)
	}
	return out
}

// serve runs b.N requests made by req(i), each expected to answer want.
// The requests are made before the timer starts: what is measured is the
// server's side, from the handler being called to the response written.
func (tw *twin) serve(b *testing.B, want int, req func(i int) *http.Request) {
	b.Helper()
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		reqs[i] = req(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		tw.h.ServeHTTP(w, reqs[i])
		if w.Code != want {
			b.Fatalf("status %d, want %d: %s", w.Code, want, w.Body)
		}
	}
}

func (tw *twin) get(path, token string, header ...string) func(int) *http.Request {
	return func(int) *http.Request {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		return r
	}
}

func BenchmarkTwinGetProfile(b *testing.B) {
	tw := newTwin(b)
	tw.serve(b, 200, tw.get("/v4/profile", tw.token))
}

func BenchmarkTwinListSSHKeys(b *testing.B) {
	tw := newTwin(b)
	tw.serve(b, 200, tw.get("/v4/profile/sshkeys?page_size=100", tw.token))
}

func BenchmarkTwinListTokensFiltered(b *testing.B) {
	tw := newTwin(b)
	tw.serve(b, 200, tw.get("/v4/profile/tokens", tw.token,
		"X-Filter", `{"+order_by":"created","+order":"desc","label":{"+contains":"o"}}`))
}

func BenchmarkTwinUnauthorized(b *testing.B) {
	tw := newTwin(b)
	tw.serve(b, 401, tw.get("/v4/profile", strings.Repeat("0f", 32)))
}

func BenchmarkTwinPutPreferences(b *testing.B) {
	tw := newTwin(b)
	var body strings.Builder
	body.WriteString("{")
	for i := 0; body.Len() < 1000; i++ {
		fmt.Fprintf(&body, `"setting_%03d":"value-of-a-console-setting",`, i)
	}
	prefs := strings.TrimSuffix(body.String(), ",") + "}"
	tw.serve(b, 200, func(int) *http.Request {
		r := httptest.NewRequest("PUT", "/v4/profile/preferences", strings.NewReader(prefs))
		r.Header.Set("Authorization", "Bearer "+tw.token)
		r.Header.Set("Content-Type", "application/json")
		return r
	})
}

func BenchmarkTwinPostSSHKey(b *testing.B) {
	tw := newTwin(b)
	keys := benchKeys(b, b.N)
	tw.serve(b, 200, func(i int) *http.Request {
		r := httptest.NewRequest("POST", "/v4/profile/sshkeys", strings.NewReader(fmt.Sprintf(`{"label":"bench","ssh_key":%q}`, keys[i])))
		r.Header.Set("Authorization", "Bearer "+tw.token)
		r.Header.Set("Content-Type", "application/json")
		return r
	})
}
