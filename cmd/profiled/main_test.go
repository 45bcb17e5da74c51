package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
	"github.com/profiled/profiled/store/sqlite"
)

// lineWriter collects what a command writes and hands out each complete
// line as it arrives, so a test can wait for "listening on".
type lineWriter struct {
	mu      sync.Mutex
	partial []byte
	all     bytes.Buffer
	lines   chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 4096)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		select {
		case w.lines <- line:
		default:
		}
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// has reports whether what was written contains substr within a few
// seconds: serve writes its log in batches (reqlog.Buffer).
func (w *lineWriter) has(substr string) bool {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if strings.Contains(w.String(), substr) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// environ turns a map into run's getenv; nothing else of the test
// process's environment leaks in.
func environ(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// runCmd runs one command in-process and returns what it printed.
func runCmd(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err = run(ctx, append([]string{"profiled"}, args...), environ(env), &out, &errOut)
	return out.String(), errOut.String(), err
}

// mustRun runs a command that must succeed.
func mustRun(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	out, errOut, err := runCmd(t, env, args...)
	if err != nil {
		t.Fatalf("profiled %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// server is a "profiled serve" running in-process.
type server struct {
	base   string // http://127.0.0.1:port
	token  string // the bootstrap token, "" if none was printed
	stdout *lineWriter
	stderr *lineWriter
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

var (
	tokenLine = regexp.MustCompile(`^\s+TOKEN=([0-9a-f]{64})$`)
	// tokenFileLine is where serve, without a terminal, says the token is.
	tokenFileLine = regexp.MustCompile(`token \(every scope, "\*"\) is in (\S+) \(mode 0600\)`)
	listeningLine = regexp.MustCompile(`^profiled: listening on (https?://\S+)$`)
)

// startServe runs serve on a free loopback port and waits until it listens.
func startServe(t *testing.T, env map[string]string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: newLineWriter(), stderr: newLineWriter(), cancel: cancel, done: make(chan error, 1)}
	// No drain by default: each test's stop would wait for it
	// (TestReadinessDrains tests it).
	argv := append([]string{"profiled", "serve", "--addr", "127.0.0.1:0", "--drain", "0s"}, args...)
	// On PostgreSQL the first token's default file is the working
	// directory, which is the source tree under go test.
	onPostgres := strings.HasPrefix(env["PROFILED_DB"], "postgres") || slices.ContainsFunc(args, func(a string) bool {
		return strings.HasPrefix(a, "postgres")
	})
	if onPostgres && env["PROFILED_BOOTSTRAP_TOKEN_FILE"] == "" && !slices.ContainsFunc(args, func(a string) bool {
		return strings.HasPrefix(a, "--bootstrap-token-file")
	}) {
		env = maps.Clone(env)
		if env == nil {
			env = map[string]string{}
		}
		env["PROFILED_BOOTSTRAP_TOKEN_FILE"] = filepath.Join(t.TempDir(), "profiled-bootstrap-token")
	}
	go func() { s.done <- run(ctx, argv, environ(env), s.stdout, s.stderr) }()
	t.Cleanup(func() { s.stop(t) })
	var err error
	if s.base, s.token, err = awaitListening(s.stdout, s.done, 30*time.Second); err != nil {
		t.Fatalf("serve %v\nstdout: %s\nstderr: %s", err, s.stdout, s.stderr)
	}
	return s
}

// awaitListening waits up to wait for serve's "listening on" line among
// stdout's lines, and returns the base URL it names and the bootstrap
// token printed before it, if any. ended reports serve ending first; what
// it delivers is put back for whoever waits on it next.
func awaitListening(stdout *lineWriter, ended chan error, wait time.Duration) (base, token string, err error) {
	timeout := time.After(wait)
	for base == "" {
		select {
		case line := <-stdout.lines:
			if m := tokenLine.FindStringSubmatch(line); m != nil {
				token = m[1]
			}
			if m := tokenFileLine.FindStringSubmatch(line); m != nil {
				b, err := os.ReadFile(m[1])
				if err != nil {
					return "", "", fmt.Errorf("the bootstrap token file: %w", err)
				}
				token = strings.TrimSpace(string(b))
			}
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				base = m[1]
			}
		case err := <-ended:
			ended <- err
			return "", "", fmt.Errorf("ended before listening: %v", err)
		case <-timeout:
			return "", "", fmt.Errorf("did not print a listening line within %s", wait)
		}
	}
	return base, token, nil
}

// stop cancels serve's context, as SIGTERM does, and returns run's result.
func (s *server) stop(t *testing.T) error {
	s.once.Do(func() {
		s.cancel()
		select {
		case s.err = <-s.done:
		case <-time.After(30 * time.Second):
			t.Errorf("serve did not shut down within 30s")
		}
	})
	return s.err
}

// call makes one request and returns the status and body.
func call(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// profileUsername is GET /v4/profile's username, failing t on any other answer than 200.
func profileUsername(t *testing.T, base, token string) string {
	t.Helper()
	status, body := call(t, "GET", base+"/v4/profile", token, "")
	if status != http.StatusOK {
		t.Fatalf("GET /v4/profile: %d %s", status, body)
	}
	var p struct{ Username string }
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("GET /v4/profile: %v in %s", err, body)
	}
	return p.Username
}

func tempDB(t *testing.T) (dir, dsn string) {
	dir = t.TempDir()
	return dir, "sqlite:" + filepath.Join(dir, "profiled.db")
}

func TestServeBootstrapsOnceAndServes(t *testing.T) {
	dir, db := tempDB(t)
	env := map[string]string{"PROFILED_DB": db}

	s := startServe(t, env)
	if s.token == "" {
		t.Fatalf("the first start printed no token:\n%s", s.stdout)
	}
	if !strings.Contains(s.stdout.String(), `curl -H "Authorization: Bearer $TOKEN" `+s.base+"/v4/profile") {
		t.Errorf("the bootstrap text does not say how to use the token:\n%s", s.stdout)
	}
	// Without a terminal the token goes to a file only its owner reads,
	// never to stdout, which a service manager's journal keeps (issue 11,
	// item 20).
	if strings.Contains(s.stdout.String(), s.token) {
		t.Errorf("the token is on stdout, which is not a terminal")
	}
	if info, err := os.Stat(filepath.Join(dir, "profiled-bootstrap-token")); err != nil {
		t.Errorf("the bootstrap token file: %v", err)
	} else if info.Mode().Perm() != 0o600 {
		t.Errorf("the bootstrap token file has mode %v, want 0600", info.Mode().Perm())
	}
	// The default key file sits beside the database: serve says to move it
	// (issue 11, item 17).
	if !strings.Contains(s.stderr.String(), "is in the database's folder") {
		t.Errorf("no warning about the key beside the database:\n%s", s.stderr)
	}
	if strings.Contains(s.stderr.String(), s.token) {
		t.Errorf("the token appears in the log on stderr")
	}
	if got := profileUsername(t, s.base, s.token); got != "admin" {
		t.Errorf("bootstrap token's user = %q, want admin", got)
	}
	status, body := call(t, "GET", s.base+"/healthz", "", "")
	if status != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Errorf("GET /healthz = %d %s, want 200 {\"status\":\"ok\"}", status, body)
	}
	if status, _ := call(t, "GET", s.base+"/v4/profile", "", ""); status != http.StatusUnauthorized {
		t.Errorf("GET /v4/profile without a token = %d, want 401", status)
	}
	if status, _ := call(t, "GET", s.base+"/no/such/route", "", ""); status != http.StatusNotFound {
		t.Errorf("GET /no/such/route = %d, want 404", status)
	}
	// Every face's answers, pages and errors alike, say not to sniff them
	// (issue 11, item 15); HSTS only over TLS (face/httpx's test).
	for _, path := range []string{"/v4/profile", "/auth/signin", "/iam/v1/users/me/", "/user/2025-1/preferences/personal", "/healthz"} {
		resp, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("GET %s: X-Content-Type-Options %q, Strict-Transport-Security %q", path,
				resp.Header.Get("X-Content-Type-Options"), resp.Header.Get("Strict-Transport-Security"))
		}
	}
	// Each face's OpenAPI description, to anyone.
	for _, path := range []string{"/v4/openapi.json", "/v4beta/openapi.json", "/iam/v1/openapi.json", "/user/openapi.json", "/auth/openapi.json"} {
		status, body := call(t, "GET", s.base+path, "", "")
		if status != http.StatusOK || !bytes.Contains(body, []byte(`"openapi"`)) {
			t.Errorf("GET %s: %d, %d bytes", path, status, len(body))
		}
	}
	info, err := os.Stat(filepath.Join(dir, "profiled.db.key"))
	if err != nil {
		t.Fatalf("no key file beside the database: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", perm)
	}
	// The request line is logged after the response is written: give it a moment.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(s.stderr.String(), `"msg":"request"`); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("no request log line in JSON on stderr:\n%s", s.stderr)
			break
		}
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("serve returned %v after its context ended, want nil", err)
	}

	// A second start on the same database creates nothing and prints no token.
	s2 := startServe(t, env, "--log-format", "text")
	if s2.token != "" || strings.Contains(s2.stdout.String(), "TOKEN=") {
		t.Errorf("the second start printed a token:\n%s", s2.stdout)
	}
	if got := profileUsername(t, s2.base, s.token); got != "admin" {
		t.Errorf("after a restart the bootstrap token's user = %q, want admin", got)
	}
	if !s2.stderr.has("level=INFO msg=listening") {
		t.Errorf("PROFILED_LOG_FORMAT text: stderr is not slog text:\n%s", s2.stderr)
	}
}

func TestOperatorCommands(t *testing.T) {
	dir, db := tempDB(t)
	env := map[string]string{"PROFILED_DB": db}

	out := mustRun(t, env, "users", "create", "--username", "alice", "--email", "alice@example.com")
	if !regexp.MustCompile(`^id=\d+ username=alice\n$`).MatchString(out) {
		t.Errorf("users create printed %q, want the id and the username", out)
	}
	tokA := strings.TrimSpace(mustRun(t, env, "tokens", "create", "--username", "alice", "--scopes", "account:read_only", "--label", "laptop"))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(tokA) {
		t.Fatalf("tokens create printed %q, want the token alone", tokA)
	}
	expiry := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	tokExp := strings.TrimSpace(mustRun(t, env, "tokens", "create", "--username", "alice", "--expiry", expiry))

	mustRun(t, env, "users", "create", "--username", "bob", "--email", "bob@example.com", "--restricted", "--account-of", "alice")
	tokB := strings.TrimSpace(mustRun(t, env, "tokens", "create", "--username", "bob"))
	grants := filepath.Join(dir, "grants.json")
	doc := `{"global":{"account_access":"read_only","add_linodes":true},"linode":[{"id":123,"label":"web","permissions":"read_write"}]}`
	if err := os.WriteFile(grants, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, env, "grants", "set", "--username", "bob", "--file", grants); !strings.Contains(out, "bob") {
		t.Errorf("grants set printed %q", out)
	}
	if _, _, err := runCmd(t, env, "grants", "set", "--username", "alice", "--file", grants); err == nil || !strings.Contains(err.Error(), "--restricted") {
		t.Errorf("grants set on an unrestricted user: err = %v, want one that mentions --restricted", err)
	}
	if _, _, err := runCmd(t, env, "tokens", "create", "--username", "nobody"); err == nil || !strings.Contains(err.Error(), "users create") {
		t.Errorf("tokens create for an unknown user: err = %v, want one that says how to create it", err)
	}
	if _, _, err := runCmd(t, env, "users", "create", "--username", "alice", "--email", "a2@example.com"); err == nil || !strings.Contains(err.Error(), "taken") {
		t.Errorf("users create with a taken name: err = %v, want 'taken'", err)
	}
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	if _, _, err := runCmd(t, env, "tokens", "create", "--username", "alice", "--expiry", past); err == nil || !strings.Contains(err.Error(), "--expiry") {
		t.Errorf("tokens create with a past expiry: err = %v, want one naming --expiry", err)
	}

	// The database had users before serve first ran: no bootstrap.
	s := startServe(t, env)
	if s.token != "" {
		t.Errorf("serve bootstrapped a database that had users")
	}
	if got := profileUsername(t, s.base, tokA); got != "alice" {
		t.Errorf("alice's token acts as %q", got)
	}
	if got := profileUsername(t, s.base, tokExp); got != "alice" {
		t.Errorf("alice's expiring token acts as %q", got)
	}
	// read_only: a write is refused.
	if status, body := call(t, "PUT", s.base+"/v4/profile/preferences", tokA, `{"a":1}`); status != http.StatusUnauthorized {
		t.Errorf("PUT preferences with an account:read_only token = %d %s, want 401", status, body)
	}
	status, body := call(t, "GET", s.base+"/v4/profile/grants", tokB, "")
	if status != http.StatusOK {
		t.Fatalf("GET /v4/profile/grants as bob = %d %s", status, body)
	}
	var g core.GrantsDoc
	if err := json.Unmarshal(body, &g); err != nil {
		t.Fatal(err)
	}
	if !g.Global.AddLinodes || len(g.Linode) != 1 || g.Linode[0].ID != 123 {
		t.Errorf("bob's grants = %s, want what grants set stored", body)
	}
	if status, _ := call(t, "GET", s.base+"/v4/profile/grants", tokA, ""); status != http.StatusNoContent {
		t.Errorf("GET /v4/profile/grants as unrestricted alice = %d, want 204", status)
	}
}

func TestMigrate(t *testing.T) {
	_, db := tempDB(t)
	out := mustRun(t, nil, "migrate", "--db", db)
	if !regexp.MustCompile(`^schema version [1-9]\d*\n$`).MatchString(out) {
		t.Errorf("migrate printed %q, want the schema version", out)
	}
	if again := mustRun(t, nil, "migrate", "--db", db); again != out {
		t.Errorf("a second migrate printed %q, want %q", again, out)
	}
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	dirEnv, dbEnv := tempDB(t)
	dirFlag, dbFlag := tempDB(t)
	env := map[string]string{"PROFILED_DB": dbEnv}
	mustRun(t, env, "users", "create", "--username", "carol", "--email", "carol@example.com")
	mustRun(t, env, "users", "create", "--db", dbFlag, "--username", "dave", "--email", "dave@example.com")
	for _, c := range []struct{ dir, user string }{{dirEnv, "carol"}, {dirFlag, "dave"}} {
		if _, err := os.Stat(filepath.Join(c.dir, "profiled.db")); err != nil {
			t.Errorf("%s: %v", c.user, err)
		}
	}
	mustRun(t, nil, "tokens", "create", "--db", dbEnv, "--username", "carol")
	if _, _, err := runCmd(t, nil, "tokens", "create", "--db", dbEnv, "--username", "dave"); err == nil {
		t.Errorf("dave was created in the PROFILED_DB database although --db named another")
	}
}

func TestBadInvocations(t *testing.T) {
	_, db := tempDB(t)
	cases := []struct {
		name  string
		env   map[string]string
		args  []string
		want  string
		usage bool // a usageError (exit status 2)
	}{
		{"no command", nil, nil, "no command", true},
		{"unknown command", nil, []string{"frobnicate"}, `unknown command "frobnicate"`, true},
		{"group without verb", nil, []string{"users"}, "profiled users create", true},
		{"unknown verb", nil, []string{"tokens", "delete"}, "profiled tokens create", true},
		{"unknown flag", nil, []string{"serve", "--port", "80"}, "flag provided but not defined: -port", true},
		{"stray argument", nil, []string{"serve", "now"}, `unexpected argument "now"`, true},
		{"missing username", nil, []string{"users", "create", "--db", db, "--email", "e@example.com"}, "--username is required", true},
		{"missing email", nil, []string{"users", "create", "--db", db, "--username", "erin"}, "--email is required", true},
		{"bad username", nil, []string{"users", "create", "--db", db, "--username", "x", "--email", "e@example.com"}, "--username", false},
		{"bad email", nil, []string{"users", "create", "--db", db, "--username", "erin", "--email", "nope"}, "--email", false},
		{"missing file", nil, []string{"grants", "set", "--db", db, "--username", "erin"}, "--file is required", true},
		{"bad expiry", nil, []string{"tokens", "create", "--db", db, "--username", "erin", "--expiry", "tomorrow"}, "RFC 3339", true},
		{"bad scopes", nil, []string{"tokens", "create", "--db", db, "--username", "erin", "--scopes", "everything"}, "--scopes", true},
		{"bad int in env", map[string]string{"PROFILED_PG_MAX_CONNS": "many"}, []string{"serve"}, "PROFILED_PG_MAX_CONNS", true},
		{"bad duration flag", nil, []string{"serve", "--pg-connect-timeout", "5"}, "not a duration", true},
		{"bad log format", map[string]string{"PROFILED_LOG_FORMAT": "xml"}, []string{"serve", "--db", db}, "json or text", true},
		{"bad webhook", nil, []string{"serve", "--db", db, "--sms-webhook", "ftp://example.com/sms"}, "--sms-webhook", true},
		{"missing directory", nil, []string{"migrate", "--db", "sqlite:" + filepath.Join(t.TempDir(), "no", "such", "p.db")}, "does not exist", false},
		{"unsupported database", nil, []string{"serve", "--db", "mysql://localhost/x"}, `unsupported database "mysql"`, true},
		{"postgres without key", nil, []string{"serve", "--db", "postgres://nobody@127.0.0.1:1/x"}, "PROFILED_SECRET_KEY", true},
		{"short key", map[string]string{"PROFILED_SECRET_KEY": "abc123"}, []string{"serve", "--db", db}, "64 hex digits", true},
		{"two keys", map[string]string{"PROFILED_SECRET_KEY": strings.Repeat("ab", 32), "PROFILED_SECRET_KEY_FILE": "/k"}, []string{"serve", "--db", db}, "keep one", true},
		{"help for nothing", nil, []string{"help", "nothing"}, "unknown command", true},
		{"version with args", nil, []string{"version", "now"}, "no arguments", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := runCmd(t, c.env, c.args...)
			if err == nil {
				t.Fatalf("profiled %s succeeded (stdout %q), want an error", strings.Join(c.args, " "), out)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			var ue *usageError
			if got := errors.As(err, &ue); got != c.usage {
				t.Errorf("usage error = %v, want %v (error %q)", got, c.usage, err)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		out := mustRun(t, nil, args...)
		for _, c := range []string{"serve", "migrate", "users create", "tokens create", "grants set", "version", "help"} {
			if !strings.Contains(out, "  "+c) {
				t.Errorf("profiled %s does not list %q:\n%s", args[0], c, out)
			}
		}
	}
	for _, c := range commands {
		words := strings.Fields(c.name)
		viaHelp := mustRun(t, nil, append([]string{"help"}, words...)...)
		viaFlag := mustRun(t, nil, append(words, "-h")...)
		if viaHelp != viaFlag || !strings.Contains(viaHelp, "profiled "+c.name) {
			t.Errorf("help %s and %s -h differ or lack the synopsis:\n%s\n---\n%s", c.name, c.name, viaHelp, viaFlag)
		}
		if !strings.Contains(viaHelp, "--db DSN") || !strings.Contains(viaHelp, "PROFILED_DB") {
			t.Errorf("help %s does not show --db and its variable:\n%s", c.name, viaHelp)
		}
	}
	serveHelp := mustRun(t, nil, "help", "serve")
	for _, want := range []string{"--addr", "PROFILED_ADDR", "--sms-webhook", "PROFILED_SMS_WEBHOOK", "--pg-max-conns", "PROFILED_PG_MAX_CONNS",
		"--pg-min-conns", "--pg-connect-timeout", "--pg-statement-timeout", "--secret-key-file", "PROFILED_SECRET_KEY", "PROFILED_LOG_FORMAT"} {
		if !strings.Contains(serveHelp, want) {
			t.Errorf("help serve lacks %q", want)
		}
	}
	if out := mustRun(t, nil, "version"); !strings.HasPrefix(out, "profiled ") {
		t.Errorf("version printed %q", out)
	}
}

// TestVersionStamped: a release build, made as docs/operations.md tells
// packagers, names its version in "profiled version" (and so in the
// "listening" log line, which prints the same string).
func TestVersionStamped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short mode")
	}
	bin := buildProfiled(t, "-ldflags", "-X main.version=v9.8.7")
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !regexp.MustCompile(`^profiled v9\.8\.7 \(.*go1\.[0-9]+`).Match(out) {
		t.Fatalf("profiled version: %q (%v)", out, err)
	}
}

func TestSecretKeySources(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)

	t.Run("environment, hex and base64", func(t *testing.T) {
		for _, enc := range []string{hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key)} {
			dir, db := tempDB(t)
			env := map[string]string{"PROFILED_DB": db, "PROFILED_SECRET_KEY": enc}
			mustRun(t, env, "users", "create", "--username", "frank", "--email", "frank@example.com")
			if _, err := os.Stat(filepath.Join(dir, "profiled.db.key")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a key file was made although PROFILED_SECRET_KEY is set (stat: %v)", err)
			}
		}
	})

	t.Run("key file with loose permissions", func(t *testing.T) {
		dir, db := tempDB(t)
		path := filepath.Join(dir, "profiled.db.key")
		if err := os.WriteFile(path, []byte(hex.EncodeToString(key)), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, 0o644) // whatever the umask
		_, _, err := runCmd(t, nil, "users", "create", "--db", db, "--username", "gina", "--email", "gina@example.com")
		if err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Fatalf("a 0644 key file: err = %v, want one that says chmod 600", err)
		}
		os.Chmod(path, 0o600)
		mustRun(t, nil, "users", "create", "--db", db, "--username", "gina", "--email", "gina@example.com")
	})

	t.Run("--secret-key-file", func(t *testing.T) {
		dir, db := tempDB(t)
		path := filepath.Join(dir, "elsewhere.key")
		if err := os.WriteFile(path, key, 0o600); err != nil { // raw bytes
			t.Fatal(err)
		}
		mustRun(t, nil, "users", "create", "--db", db, "--secret-key-file", path, "--username", "hank", "--email", "hank@example.com")
		if _, err := os.Stat(filepath.Join(dir, "profiled.db.key")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a key file was made beside the database although --secret-key-file was given")
		}
		if _, _, err := runCmd(t, nil, "users", "create", "--db", db, "--secret-key-file", filepath.Join(dir, "none"), "--username", "ivan", "--email", "ivan@example.com"); err == nil {
			t.Errorf("a missing --secret-key-file was accepted")
		}
	})

	t.Run("lost key file", func(t *testing.T) {
		dir, db := tempDB(t)
		mustRun(t, nil, "users", "create", "--db", db, "--username", "judy", "--email", "judy@example.com")
		path := filepath.Join(dir, "profiled.db.key")
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		_, _, err := runCmd(t, nil, "tokens", "create", "--db", db, "--username", "judy")
		if err == nil || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("a lost key file: err = %v, want a refusal that says it is missing", err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a new key file replaced the lost one silently")
		}
	})
}

// pingStore is a core.Store whose Ping fails, or whose Update does;
// nothing else is called.
type pingStore struct {
	core.Store
	err, writeErr error
}

func (p pingStore) Ping(context.Context) error { return p.err }

func (p pingStore) Update(context.Context, func(core.Tx) error) error { return p.writeErr }

func TestHealthzUnavailable(t *testing.T) {
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for _, c := range []struct {
		err    error
		status int
		body   string
	}{
		{nil, http.StatusOK, `{"status":"ok"}`},
		{errors.New("disk on fire"), http.StatusServiceUnavailable, `{"status":"unavailable"}`},
	} {
		rec := httptest.NewRecorder()
		healthz(pingStore{err: c.err}, logger, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Code != c.status || strings.TrimSpace(rec.Body.String()) != c.body {
			t.Errorf("ping error %v: %d %s, want %d %s", c.err, rec.Code, rec.Body, c.status, c.body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
	}
}

func TestBaseURL(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080",
		"0.0.0.0:80":     "http://127.0.0.1:80",
		"[::]:8080":      "http://[::1]:8080",
		"[::1]:9":        "http://[::1]:9",
	} {
		if got := baseURL(fakeAddr(addr), false); got != want {
			t.Errorf("baseURL(%s) = %s, want %s", addr, got, want)
		}
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

// buildProfiled builds the real binary into a temporary directory.
func buildProfiled(t *testing.T, flags ...string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "profiled")
	args := append(append([]string{"build", "-o", bin}, flags...), ".")
	if out, err := exec.Command(goTool, args...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is "profiled serve" running as a child process.
type process struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	token  string // the bootstrap token, "" if none was printed
	stdout *lineWriter
	stderr *lineWriter
	exited chan error // Wait's result, put back by whoever takes it
}

// startReplicas starts two `profiled serve` of bin on the PostgreSQL
// database dsn, with the flags and environment variables given beside
// the secret key they share; the first start's bootstrap token is in
// both's token field.
func startReplicas(t *testing.T, bin, dsn string, flags []string, env ...string) []*process {
	t.Helper()
	tokenFile := t.TempDir() + "/token"
	var replicas []*process
	for i := 0; i < 2; i++ {
		args := append([]string{"serve", "--db", dsn, "--addr", "127.0.0.1:0", "--drain", "0s", "--bootstrap-token-file", tokenFile}, flags...)
		cmd := exec.Command(bin, args...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
			"PROFILED_SECRET_KEY=" + strings.Repeat("0123456789abcdef", 4)}, env...)
		p, err := spawnServe(t, cmd, 30*time.Second, (*process).kill)
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, p)
	}
	return replicas
}

// createTokensAlternately creates n personal access tokens labelled t0,
// t1, ... with the first replica's bootstrap token, on each replica in
// turn.
func createTokensAlternately(t *testing.T, replicas []*process, n int) {
	t.Helper()
	token := replicas[0].token
	for i := 0; i < n; i++ {
		p := replicas[i%len(replicas)]
		if status, body := call(t, "POST", p.base+"/v4/profile/tokens", token, `{"label":"t`+strconv.Itoa(i)+`"}`); status != http.StatusOK {
			t.Fatalf("POST /v4/profile/tokens on replica %d: %d %s", i%len(replicas), status, body)
		}
	}
}

// spawnServe starts cmd, a "profiled serve" on a free loopback port, and
// waits up to wait until it listens. When t ends, stop ends it. It returns
// an error rather than failing t, so that goroutines may call it.
func spawnServe(t testing.TB, cmd *exec.Cmd, wait time.Duration, stop func(*process)) (*process, error) {
	p := &process{cmd: cmd, stdout: newLineWriter(), stderr: newLineWriter(), exited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if cmd.Dir == "" {
		// What serve writes beside itself (on PostgreSQL, the first
		// token's file) must not land in the source tree.
		cmd.Dir = t.TempDir()
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() { stop(p) })
	var err error
	if p.base, p.token, err = awaitListening(p.stdout, p.exited, wait); err != nil {
		return nil, fmt.Errorf("serve %v; stderr:\n%s", err, p.stderr)
	}
	return p, nil
}

// startProcess starts the binary's serve on a free loopback port and
// waits until it listens. It is killed when t ends.
func startProcess(t *testing.T, bin, db string) *process {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", "127.0.0.1:0", "--log-format", "text", "--drain", "0s")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	p, err := spawnServe(t, cmd, 30*time.Second, (*process).kill)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wait returns once the process has exited.
func (p *process) wait() {
	err := <-p.exited
	p.exited <- err
}

// kill ends the process with SIGKILL and waits until it is gone.
func (p *process) kill() {
	p.cmd.Process.Kill()
	p.wait()
}

// terminate asks the process to shut down (SIGTERM), and kills it if it
// has not exited within 10 s.
func (p *process) terminate() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		p.exited <- err
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

// kill9 ends the process with SIGKILL: no shutdown, no flush, no defer.
func (p *process) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait()
}

// TestAcknowledgedWritesSurviveKill9 builds the real binary, makes writes
// through the API, kills the server with SIGKILL the moment each write is
// acknowledged, restarts it, and reads the writes back.
func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short mode")
	}
	bin := buildProfiled(t)
	_, db := tempDB(t)

	p := startProcess(t, bin, db)
	token := p.token
	if token == "" {
		t.Fatal("the first start printed no bootstrap token")
	}

	// Preferences: each round's PUT is acknowledged, then the server dies.
	for round := range 3 {
		prefs := fmt.Sprintf(`{"round":%d,"theme":"dark","sidebar":{"open":true}}`, round)
		status, body := call(t, "PUT", p.base+"/v4/profile/preferences", token, prefs)
		if status != http.StatusOK {
			t.Fatalf("round %d: PUT /v4/profile/preferences = %d %s", round, status, body)
		}
		p.kill9(t)
		p = startProcess(t, bin, db)
		if p.token != "" {
			t.Fatalf("round %d: the restart bootstrapped again: the first user was lost", round)
		}
		status, body = call(t, "GET", p.base+"/v4/profile/preferences", token, "")
		if status != http.StatusOK {
			t.Fatalf("round %d: GET /v4/profile/preferences after kill -9 = %d %s", round, status, body)
		}
		var got, want any
		json.Unmarshal(body, &got)
		json.Unmarshal([]byte(prefs), &want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: preferences after kill -9 = %s, want %s", round, body, prefs)
		}
	}

	// An SSH key: POST acknowledged, then the server dies.
	key := testenv.NewSSHKey(t, "")
	reqBody, _ := json.Marshal(map[string]string{"label": "survivor", "ssh_key": key})
	status, body := call(t, "POST", p.base+"/v4/profile/sshkeys", token, string(reqBody))
	if status != http.StatusOK {
		t.Fatalf("POST /v4/profile/sshkeys = %d %s", status, body)
	}
	var created struct{ ID int64 }
	json.Unmarshal(body, &created)
	p.kill9(t)
	p = startProcess(t, bin, db)
	status, body = call(t, "GET", fmt.Sprintf("%s/v4/profile/sshkeys/%d", p.base, created.ID), token, "")
	if status != http.StatusOK {
		t.Fatalf("GET the SSH key after kill -9 = %d %s", status, body)
	}
	var got struct {
		Label  string `json:"label"`
		SSHKey string `json:"ssh_key"`
	}
	json.Unmarshal(body, &got)
	if got.Label != "survivor" || got.SSHKey != key {
		t.Errorf("SSH key after kill -9 = %s, want label survivor and the key sent", body)
	}
}

// testPostgresDSN returns a DSN on a fresh schema of the test PostgreSQL
// (PROFILED_TEST_POSTGRES, or the local default), dropped when t ends.
// Without a reachable server it skips t, or fails it when CI=true.
func testPostgresDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv("PROFILED_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL is unreachable (%v): set PROFILED_TEST_POSTGRES to a postgres:// DSN to run this test", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer conn.Close(ctx)
	b := make([]byte, 8)
	rand.Read(b)
	schema := "profiled_cmd_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestPostgres(t *testing.T) {
	dsn := testPostgresDSN(t)
	key := make([]byte, 32)
	rand.Read(key)
	env := map[string]string{"PROFILED_DB": dsn, "PROFILED_SECRET_KEY": hex.EncodeToString(key), "PROFILED_PG_MAX_CONNS": "4"}

	// Before any migration, the operator's commands refuse and say what to do.
	if _, _, err := runCmd(t, env, "users", "create", "--username", "kate", "--email", "kate@example.com"); err == nil || !strings.Contains(err.Error(), "profiled migrate") {
		t.Fatalf("users create on an unmigrated database: err = %v, want one that says to run profiled migrate", err)
	}
	out := mustRun(t, env, "migrate")
	if !regexp.MustCompile(`^schema version [1-9]\d*\n$`).MatchString(out) {
		t.Errorf("migrate printed %q", out)
	}

	s := startServe(t, env, "--pg-min-conns", "1", "--pg-statement-timeout", "10s")
	if s.token == "" {
		t.Fatal("serve on an empty PostgreSQL database printed no token")
	}
	if got := profileUsername(t, s.base, s.token); got != "admin" {
		t.Errorf("bootstrap token acts as %q", got)
	}
	mustRun(t, env, "users", "create", "--username", "kate", "--email", "kate@example.com")
	tok := strings.TrimSpace(mustRun(t, env, "tokens", "create", "--username", "kate", "--label", "pg"))
	if got := profileUsername(t, s.base, tok); got != "kate" {
		t.Errorf("kate's token acts as %q", got)
	}
	if status, body := call(t, "GET", s.base+"/healthz", "", ""); status != http.StatusOK {
		t.Errorf("GET /healthz = %d %s", status, body)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}

	// A schema a newer profiled migrated: serve and the commands refuse it.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (999999, true)"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"migrate"}, {"tokens", "create", "--username", "kate"}} {
		_, _, err := runCmd(t, env, args...)
		if err == nil || !strings.Contains(err.Error(), "newer than this profiled") {
			t.Errorf("profiled %s on a newer schema: err = %v, want a refusal that says the schema is newer", args[0], err)
		}
	}
}

// TestSQLiteNewerSchemaRefused: a database that a newer profiled migrated
// is refused, once the SQLite store says which version it knows.
func TestSQLiteNewerSchemaRefused(t *testing.T) {
	dir, db := tempDB(t)
	mustRun(t, nil, "migrate", "--db", db)
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	_, knows := any(st).(latestVersioner)
	st.Close()
	if !knows {
		t.Skip("store/sqlite has no LatestVersion method yet, so a newer SQLite schema cannot be told apart")
	}
	raw, err := sql.Open("sqlite", filepath.Join(dir, "profiled.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (999999, 1)"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"migrate"}, {"users", "create", "--username", "lena", "--email", "lena@example.com"}} {
		_, _, err := runCmd(t, map[string]string{"PROFILED_DB": db}, args...)
		if err == nil || !strings.Contains(err.Error(), "newer") {
			t.Errorf("profiled %s on a newer schema: err = %v, want a refusal that says the schema is newer", args[0], err)
		}
	}
}

// TestReadinessDrains: from SIGTERM on, /readyz answers 503 while the
// server still serves, for the drain period, then it stops; /livez says
// the process serves; /healthz keeps its meaning.
func TestReadinessDrains(t *testing.T) {
	_, db := tempDB(t)
	s := startServe(t, map[string]string{"PROFILED_DB": db}, "--drain", "1s")
	for _, path := range []string{"/livez", "/readyz", "/healthz"} {
		if status, body := call(t, "GET", s.base+path, "", ""); status != 200 {
			t.Fatalf("GET %s before SIGTERM: %d %s", path, status, body)
		}
	}
	s.cancel() // what SIGTERM does
	start := time.Now()
	var drained bool
	for time.Since(start) < 900*time.Millisecond {
		resp, err := http.Get(s.base + "/readyz")
		if err != nil {
			t.Fatalf("the server stopped answering %v after SIGTERM, within the drain: %v", time.Since(start), err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(b), "draining") {
			drained = true
			if st, _ := call(t, "GET", s.base+"/livez", "", ""); st != 200 {
				t.Fatalf("/livez while draining: %d", st)
			}
			if st, _ := call(t, "GET", s.base+"/v4/profile", s.token, ""); st != 200 {
				t.Fatalf("a request while draining: %d", st)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !drained {
		t.Fatal("/readyz never said draining after SIGTERM")
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("serve after the drain: %v", err)
	}
	if took := time.Since(start); took < time.Second {
		t.Fatalf("serve stopped %v after SIGTERM, before its 1 s drain", took)
	}
}

// TestServeQuotas: --quota-ssh-keys and PROFILED_QUOTA_TOKENS reach the
// rules, and a refused add says what to do; a quota must be a whole
// number above zero.
func TestServeQuotas(t *testing.T) {
	_, db := tempDB(t)
	s := startServe(t, map[string]string{"PROFILED_DB": db, "PROFILED_QUOTA_TOKENS": "1"}, "--quota-ssh-keys", "1")
	addKey := func() (int, []byte) {
		body, _ := json.Marshal(map[string]string{"label": "k", "ssh_key": testenv.NewSSHKey(t, "")})
		return call(t, "POST", s.base+"/v4/profile/sshkeys", s.token, string(body))
	}
	if status, body := addKey(); status != http.StatusOK {
		t.Fatalf("the first SSH key: %d %s", status, body)
	}
	if status, body := addKey(); status != http.StatusBadRequest || !strings.Contains(string(body), "at most 1 SSH keys: delete one") {
		t.Fatalf("the second SSH key past --quota-ssh-keys 1: %d %s", status, body)
	}
	// The operator sees it: a security event at WARN, with the quota.
	if log := s.stderr.String(); !strings.Contains(log, `"level":"WARN","msg":"security event","event":"quota.exceeded"`) ||
		!strings.Contains(log, `"detail":"ssh_keys"`) {
		t.Errorf("no quota.exceeded event in the log:\n%s", log)
	}
	// The bootstrap token is admin's one personal token.
	if status, body := call(t, "POST", s.base+"/v4/profile/tokens", s.token, `{"label":"more"}`); status != http.StatusBadRequest ||
		!strings.Contains(string(body), "at most 1 personal access tokens") {
		t.Fatalf("a token past PROFILED_QUOTA_TOKENS=1: %d %s", status, body)
	}

	for _, bad := range []string{"0", "-3", "many"} {
		_, errOut, err := runCmd(t, map[string]string{"PROFILED_DB": db}, "serve", "--addr", "127.0.0.1:0", "--quota-oauth-clients", bad)
		if err == nil || !strings.Contains(errOut+err.Error(), "quota-oauth-clients") {
			t.Errorf("--quota-oauth-clients %s: err %v, stderr %q; want a usage error naming the flag", bad, err, errOut)
		}
	}
}

// TestPurgeIntervalFlag: --purge-interval refuses a busy loop, and
// accepts 0 (a purge at start only) and a longer interval, from the flag
// or its variable.
func TestPurgeIntervalFlag(t *testing.T) {
	_, db := tempDB(t)
	for _, bad := range []string{"30s", "-1m", "soon"} {
		_, errOut, err := runCmd(t, map[string]string{"PROFILED_DB": db}, "serve", "--addr", "127.0.0.1:0", "--purge-interval", bad)
		if err == nil || !strings.Contains(errOut+err.Error(), "purge-interval") {
			t.Errorf("--purge-interval %s: err %v, stderr %q; want a usage error naming the flag", bad, err, errOut)
		}
	}
	startServe(t, map[string]string{"PROFILED_DB": db}, "--purge-interval", "0").stop(t)
	s := startServe(t, map[string]string{"PROFILED_DB": db, "PROFILED_PURGE_INTERVAL": "2h"})
	if status, _ := call(t, "GET", s.base+"/healthz", "", ""); status != http.StatusOK {
		t.Fatalf("GET /healthz with PROFILED_PURGE_INTERVAL=2h: %d", status)
	}
}
