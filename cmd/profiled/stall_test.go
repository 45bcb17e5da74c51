package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/profiled/profiled/internal/pgtest"
)

// stallProxy forwards TCP connections to target until freeze is called:
// from then on it passes no more bytes either way and closes nothing, as a
// network link that hangs does.
type stallProxy struct {
	ln     net.Listener
	frozen atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln}
	t.Cleanup(p.close)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go p.pipe(c, up)
			go p.pipe(up, c)
		}
	}()
	return p
}

// close ends the proxy and every connection through it.
func (p *stallProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

func (p *stallProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for p.frozen.Load() {
			time.Sleep(10 * time.Millisecond) // hold the bytes, forever
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				dst.Close()
			}
			return
		}
	}
}

// TestStalledPostgresAnswers503: with the link to PostgreSQL frozen, a
// request answers 503 with Retry-After within --request-timeout instead
// of hanging (it had no answer after 90 s), and once the link is back the
// server serves again (issue 11, item 8).
func TestStalledPostgresAnswers503(t *testing.T) {
	dsn, _ := pgtest.Schema(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newStallProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	env := map[string]string{"PROFILED_DB": u.String(), "PROFILED_SECRET_KEY": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	s := startServe(t, env, "--request-timeout", "2s", "--bootstrap-token-file", t.TempDir()+"/token")
	// Cleanups run last first: the links end before serve stops, which
	// would otherwise wait for the one that hung to time out.
	t.Cleanup(proxy.close)
	if got := profileUsername(t, s.base, s.token); got != "admin" {
		t.Fatalf("before the stall: %q", got)
	}
	proxy.frozen.Store(true)
	start := time.Now()
	req, _ := http.NewRequest("GET", s.base+"/v4/profile", nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET /v4/profile over a frozen link: %v after %v", err, time.Since(start))
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || took > 5*time.Second {
		t.Fatalf("GET /v4/profile over a frozen link: %d (Retry-After %q) after %v; want 503 within the 2 s deadline",
			resp.StatusCode, resp.Header.Get("Retry-After"), took)
	}
	t.Logf("503 after %v", took)
	proxy.frozen.Store(false)
	back := time.Now()
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, _ := call(t, "GET", s.base+"/v4/profile", s.token, "")
		if status == http.StatusOK {
			t.Logf("served again %v after the link came back", time.Since(back))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the link is back: %d", status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
