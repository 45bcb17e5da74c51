package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as the harness's load generator,
// which the harness starts as os.Executable() with loadgenArg.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == loadgenArg {
		if err := loadgenMain(os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestQuantileWithinOnePercent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 10, 999, 20_000} {
		h := NewHistogram()
		var all []time.Duration
		for range n {
			// Log-normal-ish latencies from 20 µs to ~50 ms.
			d := time.Duration(20_000 * (1 + r.ExpFloat64()*r.ExpFloat64()*100))
			h.Record(d)
			all = append(all, d)
		}
		slices.Sort(all)
		for _, q := range []float64{0.001, 0.5, 0.9, 0.99, 0.999, 1} {
			exact, got := exactQuantile(all, q), h.Quantile(q)
			if got < exact || float64(got) > float64(exact)*1.0101 {
				t.Errorf("n=%d q=%v: histogram %v, exact %v: more than 1%% off (or below)", n, q, got, exact)
			}
		}
		if h.N != int64(n) || h.Min != all[0] || h.Max != all[n-1] {
			t.Errorf("n=%d: N %d min %v max %v", n, h.N, h.Min, h.Max)
		}
	}
}

func TestQuantileEdges(t *testing.T) {
	h := NewHistogram()
	if h.Quantile(0.99) != 0 || h.Mean() != 0 {
		t.Error("an empty histogram has no latency")
	}
	for _, d := range []time.Duration{500 * time.Nanosecond, time.Microsecond, 3 * time.Millisecond} {
		h.Record(d)
	}
	if got := h.Quantile(0.01); got != 500*time.Nanosecond {
		t.Errorf("p1 = %v, want the minimum", got)
	}
	if got := h.Quantile(1); got != 3*time.Millisecond {
		t.Errorf("p100 = %v, want the maximum", got)
	}
	// Nearest rank: of 3 values, p50 is the 2nd.
	if got := h.Quantile(0.5); got != time.Microsecond {
		t.Errorf("p50 = %v, want 1µs", got)
	}
	if exactQuantile([]time.Duration{1, 2, 3, 4}, 0.5) != 2 || exactQuantile([]time.Duration{1, 2, 3, 4}, 0.51) != 3 {
		t.Error("exactQuantile is not nearest-rank")
	}
	for i := 1; i < 3000; i += 7 {
		if b := bucketOf(bucketUpper(i)); b != i {
			t.Fatalf("the upper edge of bucket %d falls in bucket %d", i, b)
		}
	}
}

func TestHistogramMergeAndJSON(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for i := 1; i <= 100; i++ {
		a.Record(time.Duration(i) * time.Microsecond)
		b.Record(time.Duration(i+100) * time.Microsecond)
	}
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var back Histogram
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	a.Merge(&back)
	if a.N != 200 || a.Min != time.Microsecond || a.Max != 200*time.Microsecond {
		t.Fatalf("merged: N %d min %v max %v", a.N, a.Min, a.Max)
	}
	if got := a.Quantile(0.5); got < 100*time.Microsecond || got > 101*time.Microsecond {
		t.Errorf("merged p50 = %v, want 100µs", got)
	}
	if got := a.Mean(); got != 100500*time.Nanosecond {
		t.Errorf("mean = %v", got)
	}
}

func TestMarkdownTable(t *testing.T) {
	got := markdownTable([]string{"endpoint", "req/s"}, [][]string{{"GET /a", "12"}, {"GET /µs-long", "3456"}}, []bool{false, true})
	want := "" +
		"| endpoint     | req/s |\n" +
		"| ------------ | ----: |\n" +
		"| GET /a       |    12 |\n" +
		"| GET /µs-long |  3456 |\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormats(t *testing.T) {
	for v, want := range map[float64]string{0: "-", 512.4: "512 µs", 1500: "1.50 ms", 250_000: "250 ms"} {
		if got := fmtLatency(v); got != want {
			t.Errorf("fmtLatency(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{0: "-", 12.34: "12.3", 4321.6: "4322"} {
		if got := fmtRate(v); got != want {
			t.Errorf("fmtRate(%v) = %q, want %q", v, got, want)
		}
	}
	if median([]float64{5, 1, 3}) != 3 || median([]float64{4, 1, 3, 2}) != 2.5 {
		t.Error("median")
	}
}

func TestParseBench(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkTwinGetProfile-2           	    3000	     57895 ns/op	    7931 B/op	     138 allocs/op
BenchmarkTwinListSSHKeys            	     400	   1.5e+06 ns/op
PASS
`)
	got := parseBench(out)
	if tw := got["BenchmarkTwinGetProfile"]; tw.AllocsPerOp != 138 || tw.BytesPerOp != 7931 || tw.NsPerOp != 57895 {
		t.Errorf("GetProfile: %+v", tw)
	}
	if len(got) != 1 {
		t.Errorf("parsed %d benchmarks, want 1 (the other line has no -benchmem figures and a float)", len(got))
	}
}

func TestReadResponse(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello" +
		"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n" +
		"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
	r := bufio.NewReader(strings.NewReader(in))
	for _, want := range []struct {
		status int
		keep   bool
	}{{200, true}, {401, true}, {204, false}} {
		status, keep, err := readResponse(r)
		if err != nil || status != want.status || keep != want.keep {
			t.Fatalf("got %d %v %v, want %d %v", status, keep, err, want.status, want.keep)
		}
	}
	if _, _, err := readResponse(r); err == nil {
		t.Error("reading past the end succeeded")
	}
}

func TestBuildRequest(t *testing.T) {
	j := Job{Addr: "127.0.0.1:1", Method: "PUT", Path: "/p", Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"a":1}`}
	req, ok := buildRequest(nil, j, "tok", func(b []byte) ([]byte, bool) { return append(b, j.Body...), true })
	if !ok {
		t.Fatal("not built")
	}
	s := string(req)
	for _, want := range []string{"PUT /p HTTP/1.1\r\n", "Authorization: Bearer tok\r\n", "Content-Type: application/json\r\n", "Content-Length: 7\r\n\r\n{\"a\":1}"} {
		if !strings.Contains(s, want) {
			t.Errorf("request lacks %q:\n%s", want, s)
		}
	}
	if !strings.HasSuffix(s, "\r\n\r\n{\"a\":1}") {
		t.Errorf("the body does not follow the headers:\n%q", s)
	}
}

func TestSeedPlan(t *testing.T) {
	p := newSeedPlan(1000)
	if got := p.Token(7, 0); len(got) != 64 || got == p.Token(7, 1) || got == p.Token(8, 0) {
		t.Errorf("tokens are not distinct 64-digit hex: %q", got)
	}
	heavy := 0
	for u := int64(1); u <= p.Users; u++ {
		if p.IsHeavy(u) {
			heavy++
		}
	}
	if heavy != int(p.HeavyUsers) || !p.IsHeavy(p.HeavyUser(p.HeavyUsers-1)) {
		t.Errorf("%d heavy users, want %d", heavy, p.HeavyUsers)
	}
	if s := p.SampleUsers(10); len(s) != 10 || s[0] != 1 || s[9] != 901 {
		t.Errorf("sample %v", s)
	}
	u := p.user(1)
	if len(u.keys) != p.HeavyKeys || !strings.HasPrefix(u.keys[0].key, "ssh-ed25519 AAAA") || !strings.HasPrefix(u.keys[0].fingerprint, "SHA256:") {
		t.Errorf("user 1: %d keys, first %+v", len(u.keys), u.keys[0])
	}
	if len(prefsBody) < 1000 || len(prefsBody) > 1100 || !json.Valid([]byte(prefsBody)) {
		t.Errorf("the PUT body is %d bytes", len(prefsBody))
	}
}

// TestHarnessSmoke runs the whole harness with tiny numbers: build, seed,
// serve, load from a second process, bare server, table and JSON.
func TestHarnessSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs profiled")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	jsonPath := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"--users", "50", "--requests", "200", "--concurrency", "4",
		"--duration", "300ms", "--write-duration", "300ms", "--warmup", "50ms", "--rounds", "1",
		"--startups", "1", "--twins=false", "--json", jsonPath}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"| GET /v4/profile ", "| bare net/http ", "| PUT /v4/profile/preferences (1 KB) ",
		"| GET /iam/v1/users/me/ ", "| GET /auth/verify?scope= (forward auth) ", "start-up to ready", "idle RSS <= 25 MB", "bare server's p99 at the same rate"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	measured, want := 0, 14 // 6 reads, each beside its bare twin, and 2 writes
	for _, row := range rep.Rows {
		if row.Skipped != "" {
			// Only a face that is not there yet is skipped.
			if row.Endpoint != "GET /iam/v1/users/me/" || !strings.Contains(out, "skipped: GET /iam/v1/users/me/") {
				t.Errorf("%s skipped: %s", row.Endpoint, row.Skipped)
			}
			want -= 2
			continue
		}
		measured++
		if row.Requests == 0 || row.Requests > 200 || row.Errors != 0 || row.P50us <= 0 {
			t.Errorf("%s (%s): %d requests, %d errors (%s), p50 %v µs", row.Endpoint, row.Backend, row.Requests, row.Errors, row.FirstError, row.P50us)
		}
	}
	if measured != want {
		t.Errorf("%d measured rows, want %d:\n%s", measured, want, out)
	}
	if rep.PeakRSSBytes <= 0 || rep.IdleRSSBytes <= 0 || rep.StartupMs <= 0 || rep.HalfRate == nil || rep.HalfRateBare == nil {
		t.Errorf("RSS %d/%d, start-up %v ms, half rate %v", rep.IdleRSSBytes, rep.PeakRSSBytes, rep.StartupMs, rep.HalfRate)
	}
}
