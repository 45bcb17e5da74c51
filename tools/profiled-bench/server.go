package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// moduleRoot finds the directory of the profiled module from the working
// directory, for go build and go test.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w (run the harness from a clone of profiled, with Go installed)", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside a Go module: run the harness from a clone of profiled")
	}
	return filepath.Dir(mod), nil
}

// buildProfiled builds the real binary into dir.
func buildProfiled(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "profiled")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/profiled")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/profiled: %w\n%s", err, out)
	}
	return bin, nil
}

// server is one running profiled process.
type server struct {
	cmd     *exec.Cmd
	URL     string // http://127.0.0.1:PORT
	Addr    string // 127.0.0.1:PORT
	Ready   time.Duration
	stderr  *ringBuffer
	exited  chan struct{}
	waitErr error
}

// startServer runs "profiled serve" on db and waits until GET /healthz
// answers 200. Ready is the time from exec to that answer.
func startServer(ctx context.Context, bin, db string, env []string, extra ...string) (*server, error) {
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, stderr: newRingBuffer(64 << 10), exited: make(chan struct{})}
	// The log (a JSON line per request) is read and dropped, as a log
	// collector would; its tail is kept for error messages.
	cmd.Stderr = s.stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start profiled: %w", err)
	}
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()

	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "profiled: listening on "); ok && !sent {
				urlc <- strings.TrimSpace(u)
				sent = true
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case s.URL = <-urlc:
	case <-s.exited:
		return nil, fmt.Errorf("profiled exited before listening: %v\n%s", s.waitErr, s.stderr.String())
	case <-time.After(60 * time.Second):
		s.kill()
		return nil, fmt.Errorf("profiled did not listen within 60s\n%s", s.stderr.String())
	case <-ctx.Done():
		s.kill()
		return nil, ctx.Err()
	}
	s.Addr = strings.TrimPrefix(s.URL, "http://")
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		resp, err := client.Get(s.URL + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(began) > 60*time.Second {
			s.kill()
			return nil, fmt.Errorf("profiled's /healthz did not answer 200 within 60s: %v\n%s", err, s.stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
	s.Ready = time.Since(began)
	client.CloseIdleConnections()
	return s, nil
}

// Pid is the server's process id.
func (s *server) Pid() int { return s.cmd.Process.Pid }

// Stop ends the server gracefully (SIGTERM), or kills it after 30 s.
func (s *server) Stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(30 * time.Second):
		s.kill()
		return errors.New("profiled did not stop within 30s of SIGTERM")
	}
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Alive reports whether the process still runs.
func (s *server) Alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// procStatus reads one "kB" field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}

// processCPU is the CPU time a process has used so far: the sum over
// its threads of /proc/PID/task/TID/schedstat's first field, in
// nanoseconds (finer than the 10 ms ticks of /proc/PID/stat).
func processCPU(pid int) (time.Duration, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err == nil {
			total += time.Duration(ns)
		}
	}
	return total, nil
}

// ringBuffer keeps the last bytes written to it.
type ringBuffer struct {
	mu   sync.Mutex
	buf  []byte
	size int
}

func newRingBuffer(size int) *ringBuffer { return &ringBuffer{size: size} }

func (r *ringBuffer) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	if len(r.buf) > r.size {
		r.buf = append(r.buf[:0], r.buf[len(r.buf)-r.size:]...)
	}
	return len(p), nil
}

func (r *ringBuffer) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.buf)
}

// captured is one response of profiled, as the bare server replays it.
type captured struct {
	Status int
	Header http.Header
	Body   []byte
}

// capture sends one request to profiled and keeps its answer.
func capture(base string, e endpoint, token string) (captured, error) {
	req, err := http.NewRequest(e.Method, base+e.Path, strings.NewReader(e.Body))
	if err != nil {
		return captured{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", "profiled-bench")
	req.Header.Set("Accept", "application/json")
	for k, v := range e.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return captured{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return captured{}, err
	}
	h := resp.Header.Clone()
	h.Del("Date") // net/http writes its own
	return captured{Status: resp.StatusCode, Header: h, Body: body}, nil
}

// bareServer is the ceiling: a net/http server that answers every request
// with the same status, headers and body as profiled did, and does
// nothing else. It runs in the harness's process.
type bareServer struct {
	srv  *http.Server
	Addr string
}

func startBare(c captured) (*bareServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	length := strconv.Itoa(len(c.Body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wh := w.Header()
		for k, v := range c.Header {
			wh[k] = v
		}
		wh["Content-Length"] = []string{length}
		w.WriteHeader(c.Status)
		w.Write(c.Body)
	})
	b := &bareServer{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, Addr: ln.Addr().String()}
	go b.srv.Serve(ln)
	return b, nil
}

func (b *bareServer) Close() { b.srv.Close() }
