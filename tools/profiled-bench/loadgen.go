package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// Job is one segment of load: what the load generator process sends, at
// what concurrency, for how long. It travels as JSON on the generator's
// standard input.
type Job struct {
	Addr        string            `json:"addr"`         // host:port
	Concurrency int               `json:"concurrency"`  // connections, each one request at a time
	Warmup      time.Duration     `json:"warmup"`       // load before measuring, not recorded
	Duration    time.Duration     `json:"duration"`     // the measured time, at most
	MaxRequests int               `json:"max_requests"` // the measured requests, at most
	Rate        float64           `json:"rate"`         // requests per second; 0: closed loop, as fast as answers come
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	Headers     map[string]string `json:"headers"` // beyond Host and Authorization
	Body        string            `json:"body"`    // a fixed body, or
	BodyKind    string            `json:"body_kind"`
	Tokens      []string          `json:"tokens"` // bearer tokens, spread over the requests
	Expect      int               `json:"expect"` // the status that counts as success
	// Before the timed warm-up, every job sends one request with each
	// token, so that the measured part is the server's steady state (its
	// caches hold what its users use) and not its first sight of 10,000
	// users; the cost of a miss has a row of its own (unknown token).
	// WarmPath, when set, is what that pass sends instead of the job's
	// own request: GET WarmPath. A write's token check is warmed so
	// without writing once per token first.
	WarmPath string `json:"warm_path"`
	// ServerPid is the process serving Addr, whose CPU time is measured.
	ServerPid int `json:"server_pid"`
}

// BodyKind values.
const (
	bodyFixed  = ""
	bodySSHKey = "sshkey" // a fresh ed25519 public key per request, as POST /profile/sshkeys takes it
)

// Result is what the generator measured.
type Result struct {
	Requests   int64         `json:"requests"` // measured requests, errors included
	Errors     int64         `json:"errors"`   // wrong status or a failed connection
	Elapsed    time.Duration `json:"elapsed"`  // of the measured part
	Hist       *Histogram    `json:"hist"`     // latencies of the measured requests
	Statuses   map[int]int64 `json:"statuses"`
	FirstError string        `json:"first_error,omitempty"`
	// Sent counts the requests after the pass over every token, the
	// timed warm-up included, and ServerCPU is the server's CPU time over
	// the same span: together the CPU cost of one of the job's requests
	// (the pass of a write segment sends cheaper GETs). ClientCPU is the
	// generator's own CPU time, all of it.
	Sent      int64         `json:"sent"`
	ClientCPU time.Duration `json:"client_cpu"`
	ServerCPU time.Duration `json:"server_cpu"`
}

// Rate is the measured requests per second.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// ServerCPUPerRequest is the server's CPU time per request sent.
func (r *Result) ServerCPUPerRequest() time.Duration {
	if r.Sent == 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.Sent)
}

// ClientCPUPerRequest is the generator's CPU time per request sent.
func (r *Result) ClientCPUPerRequest() time.Duration {
	if r.Sent == 0 {
		return 0
	}
	return r.ClientCPU / time.Duration(r.Sent)
}

// Merge adds o, measured one after the other with r, to r.
func (r *Result) Merge(o *Result) {
	if r.Hist == nil {
		r.Hist = NewHistogram()
	}
	if r.Statuses == nil {
		r.Statuses = map[int]int64{}
	}
	r.Requests += o.Requests
	r.Errors += o.Errors
	r.Sent += o.Sent
	r.ClientCPU += o.ClientCPU
	r.ServerCPU += o.ServerCPU
	r.Elapsed += o.Elapsed
	r.Hist.Merge(o.Hist)
	for s, n := range o.Statuses {
		r.Statuses[s] += n
	}
	if r.FirstError == "" {
		r.FirstError = o.FirstError
	}
}

// loadgenArg is the hidden first argument that makes the harness a load
// generator: it reads one Job on stdin and writes one Result on stdout.
const loadgenArg = "__loadgen"

// runJob runs j in a load generator process of its own, so that the
// client's CPU and garbage are not the measured server's or the harness's.
// serverPid is the process that serves j, whose CPU time is measured.
func runJob(ctx context.Context, j Job, serverPid int) (*Result, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("load generator: %w", err)
	}
	j.ServerPid = serverPid
	in, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	limit := j.Warmup + j.Duration + 2*time.Minute // key generation, connecting, draining
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(cctx, self, loadgenArg)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("load generator: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("load generator: bad result: %w", err)
	}
	if res.Hist == nil {
		res.Hist = NewHistogram()
	}
	return &res, nil
}

// loadgenMain is the load generator process.
func loadgenMain(stdin io.Reader, stdout io.Writer) error {
	var j Job
	if err := json.NewDecoder(stdin).Decode(&j); err != nil {
		return fmt.Errorf("read job: %w", err)
	}
	res, err := generate(context.Background(), j)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

// generate drives j's load from this process.
func generate(ctx context.Context, j Job) (*Result, error) {
	if j.Concurrency < 1 || len(j.Tokens) == 0 || j.MaxRequests < 1 || j.Duration <= 0 {
		return nil, errors.New("job needs concurrency, tokens, max_requests and duration")
	}
	// Fresh keys are made before the clock starts: key generation is the
	// client's work, not the server's.
	var keys []string
	if j.BodyKind == bodySSHKey {
		// Enough for the warm-up and the measured time at up to
		// maxKeyRate requests a second, far above what one SQLite file
		// or this machine's PostgreSQL acknowledges: running out ends the
		// run early, as the request bound does. The warm-up, which the
		// request bound does not count, has keys of its own: without them
		// a fast warm-up could use up the measured run's keys.
		const maxKeyRate = 10_000
		warmup := int(j.Warmup.Seconds() * maxKeyRate)
		n := min(j.MaxRequests+warmup, int((j.Warmup+j.Duration).Seconds()*maxKeyRate)) + j.Concurrency*2
		var err error
		if keys, err = freshSSHKeys(n); err != nil {
			return nil, err
		}
	}
	var keyNext atomic.Int64
	body := func(buf []byte) ([]byte, bool) {
		switch j.BodyKind {
		case bodySSHKey:
			i := keyNext.Add(1) - 1
			if int(i) >= len(keys) {
				return buf, false
			}
			return fmt.Appendf(buf, `{"label":"bench","ssh_key":%q}`, keys[i]), true
		}
		return append(buf, j.Body...), true
	}

	var (
		measuring atomic.Bool
		stop      atomic.Bool
		issued    atomic.Int64 // measured requests started
		wg        sync.WaitGroup
		mu        sync.Mutex
		total     = &Result{Hist: NewHistogram(), Statuses: map[int]int64{}}
	)
	var start time.Time
	var startMu sync.RWMutex
	var warmed sync.WaitGroup // the pass over every token
	warm := j                 // what the pass sends
	if j.WarmPath != "" {
		warm.Method, warm.Path, warm.Headers = "GET", j.WarmPath, nil
	}
	startMu.Lock()
	for w := 0; w < j.Concurrency; w++ {
		wg.Add(1)
		warmed.Add(1)
		go func(w int) {
			defer wg.Done()
			local := &Result{Hist: NewHistogram(), Statuses: map[int]int64{}}
			c := &client{addr: j.Addr}
			defer c.close()
			var req []byte
			for i := w; i < len(j.Tokens); i += j.Concurrency {
				var ok bool
				if req, ok = buildRequest(req[:0], warm, j.Tokens[i], body); !ok {
					break
				}
				c.do(req)
			}
			warmed.Done()
			tok := w * 7919 // a prime stride, so workers start on different users
			for !stop.Load() {
				measured := measuring.Load()
				var due time.Time
				if measured {
					n := issued.Add(1)
					if n > int64(j.MaxRequests) {
						stop.Store(true)
						break
					}
					if j.Rate > 0 {
						startMu.RLock()
						due = start.Add(time.Duration(float64(n-1) / j.Rate * float64(time.Second)))
						startMu.RUnlock()
						if d := time.Until(due); d > 0 {
							time.Sleep(d)
						}
					}
				}
				t := j.Tokens[tok%len(j.Tokens)]
				tok++
				var ok bool
				req = req[:0]
				req, ok = buildRequest(req, j, t, body)
				if !ok {
					stop.Store(true)
					break
				}
				began := time.Now()
				status, err := c.do(req)
				local.Sent++
				if !measured {
					continue
				}
				if stop.Load() && err != nil {
					break // the run ended under this request
				}
				// Latency counts from the send, also at a fixed rate: the
				// sleep before it overshoots by up to a millisecond on some
				// kernels, which is the generator's error, not the server's.
				// A server that falls behind the rate shows as a measured
				// rate below the offered one, since requests are handed out
				// in order to whichever client is free.
				local.Hist.Record(time.Since(began))
				local.Requests++
				if err != nil {
					local.Errors++
					if local.FirstError == "" {
						local.FirstError = err.Error()
					}
					continue
				}
				local.Statuses[status]++
				if status != j.Expect {
					local.Errors++
					if local.FirstError == "" {
						local.FirstError = fmt.Sprintf("status %d, expected %d", status, j.Expect)
					}
				}
			}
			mu.Lock()
			total.Hist.Merge(local.Hist)
			total.Requests += local.Requests
			total.Errors += local.Errors
			total.Sent += local.Sent
			for s, n := range local.Statuses {
				total.Statuses[s] += n
			}
			if total.FirstError == "" {
				total.FirstError = local.FirstError
			}
			mu.Unlock()
		}(w)
	}
	warmed.Wait()
	cpu0, _ := processCPU(j.ServerPid)
	if j.Warmup > 0 {
		time.Sleep(j.Warmup)
	}
	start = time.Now()
	measuring.Store(true)
	startMu.Unlock()
	timer := time.NewTimer(j.Duration)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-timer.C:
		stop.Store(true)
		<-done
	case <-done:
	case <-ctx.Done():
		stop.Store(true)
		<-done
	}
	total.Elapsed = time.Since(start)
	if cpu1, err := processCPU(j.ServerPid); err == nil {
		total.ServerCPU = cpu1 - cpu0
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		total.ClientCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return total, nil
}

// buildRequest appends one HTTP/1.1 request to buf.
func buildRequest(buf []byte, j Job, token string, body func([]byte) ([]byte, bool)) ([]byte, bool) {
	buf = append(buf, j.Method...)
	buf = append(buf, ' ')
	buf = append(buf, j.Path...)
	buf = append(buf, " HTTP/1.1\r\nHost: "...)
	buf = append(buf, j.Addr...)
	buf = append(buf, "\r\nUser-Agent: profiled-bench\r\nAccept: application/json\r\nAuthorization: Bearer "...)
	buf = append(buf, token...)
	buf = append(buf, "\r\n"...)
	for k, v := range j.Headers {
		buf = append(buf, k...)
		buf = append(buf, ": "...)
		buf = append(buf, v...)
		buf = append(buf, "\r\n"...)
	}
	if j.Method == "GET" {
		return append(buf, "\r\n"...), true
	}
	// The body goes after the headers; its length is known once written.
	head := len(buf)
	buf, ok := body(buf)
	if !ok {
		return buf, false
	}
	b := bytes.Clone(buf[head:])
	buf = buf[:head]
	buf = append(buf, "Content-Length: "...)
	buf = strconv.AppendInt(buf, int64(len(b)), 10)
	buf = append(buf, "\r\n\r\n"...)
	return append(buf, b...), true
}

// client is one keep-alive HTTP/1.1 connection, and as little of a client
// as reading a server's answers takes, so that the load generator spends
// its CPU on sending load rather than on itself.
type client struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
}

func (c *client) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// do sends req and reads the whole response, returning its status. On
// any error the connection is dropped and the next call dials anew.
func (c *client) do(req []byte) (int, error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, err
		}
		c.conn = conn
		if c.r == nil {
			c.r = bufio.NewReaderSize(conn, 64<<10)
		} else {
			c.r.Reset(conn)
		}
	}
	c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.conn.Write(req); err != nil {
		c.close()
		return 0, err
	}
	status, keep, err := readResponse(c.r)
	if err != nil || !keep {
		c.close()
	}
	return status, err
}

// readResponse reads one HTTP/1.1 response from r and discards its body.
// keep reports whether the connection may carry another request.
func readResponse(r *bufio.Reader) (status int, keep bool, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	keep = true
	length := int64(-1)
	chunked := false
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err = strconv.ParseInt(string(value), 10, 64)
			if err != nil {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = !bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case status == 204 || status == 304 || status/100 == 1:
	case chunked:
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return 0, false, err
			}
			size, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.SplitN(line, []byte(";"), 2)[0])), 16, 64)
			if err != nil {
				return 0, false, fmt.Errorf("bad chunk size %q", line)
			}
			if _, err := r.Discard(int(size) + 2); err != nil { // data and CRLF
				return 0, false, err
			}
			if size == 0 {
				break
			}
		}
	case length >= 0:
		if _, err := r.Discard(int(length)); err != nil {
			return 0, false, err
		}
	default:
		// No length: the body runs to the end of the connection.
		if _, err := io.Copy(io.Discard, r); err != nil {
			return 0, false, err
		}
		keep = false
	}
	return status, keep, nil
}

// freshSSHKeys makes n new ed25519 public keys as authorized_keys lines.
func freshSSHKeys(n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		sp, err := ssh.NewPublicKey(pub)
		if err != nil {
			return nil, err
		}
		out[i] = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " bench@loadgen"
	}
	return out, nil
}
