package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// Report is everything one run measured; --json writes it as is.
type Report struct {
	Started          time.Time `json:"started"`
	GoVersion        string    `json:"go_version"`
	CPUs             int       `json:"cpus"`
	Backend          string    `json:"backend"`
	Users            int64     `json:"users"`
	Concurrency      int       `json:"concurrency"`
	WriteConcurrency int       `json:"write_concurrency"`
	SeedSeconds      float64   `json:"seed_seconds"`
	// LoadBefore and LoadAfter are /proc/loadavg's 1-minute figure: other
	// work on the machine shows there, and makes the run noisier.
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
	Rows       []Row  `json:"rows"`
	// HalfRate is GET /v4/profile driven at half its measured peak rate.
	HalfRate        *Row    `json:"half_rate,omitempty"`
	HalfRateOffered float64 `json:"half_rate_offered,omitempty"`
	// HalfRateBare is the bare server at the same rate, alternately.
	HalfRateBare   *Row            `json:"half_rate_bare,omitempty"`
	PeakRSSBytes   int64           `json:"peak_rss_bytes"`
	IdleRSSBytes   int64           `json:"idle_rss_bytes"`
	StartupMs      float64         `json:"startup_to_ready_ms"` // the median of StartupRuns
	StartupRunsMs  []float64       `json:"startup_runs_ms"`
	Twins          map[string]Twin `json:"twins,omitempty"`
	Scaling        []ScalingPoint  `json:"scaling,omitempty"`
	Targets        []Target        `json:"targets"`
	Notes          []string        `json:"notes,omitempty"`
	ElapsedSeconds float64         `json:"elapsed_seconds"`
}

// Row is one line of the table: an endpoint on one backend.
type Row struct {
	Endpoint    string  `json:"endpoint"`
	Backend     string  `json:"backend"`
	Concurrency int     `json:"concurrency"`
	Requests    int64   `json:"requests"`
	Errors      int64   `json:"errors"`
	RPS         float64 `json:"rps"`
	P50us       float64 `json:"p50_us"`
	P99us       float64 `json:"p99_us"`
	P999us      float64 `json:"p999_us"`
	// Ratio is RPS over the bare server's, measured alternately in the
	// same run (reads only; 0 otherwise).
	Ratio   float64 `json:"ratio_to_bare,omitempty"`
	BareRPS float64 `json:"bare_rps,omitempty"`
	// AllocsPerOp and BytesPerOp come from the endpoint's go test twin.
	AllocsPerOp int64  `json:"allocs_per_op,omitempty"`
	BytesPerOp  int64  `json:"bytes_per_op,omitempty"`
	Skipped     string `json:"skipped,omitempty"`
	FirstError  string `json:"first_error,omitempty"`
	// CPU time per request of the server and of the load generator.
	ServerCPUus float64 `json:"server_cpu_us_per_request,omitempty"`
	ClientCPUus float64 `json:"client_cpu_us_per_request,omitempty"`
}

// ScalingPoint is one read at one database size.
type ScalingPoint struct {
	Users    int64   `json:"users"`
	Endpoint string  `json:"endpoint"`
	RPS      float64 `json:"rps"`
	P50us    float64 `json:"p50_us"`
	P99us    float64 `json:"p99_us"`
	Errors   int64   `json:"errors"`
	SeedSecs float64 `json:"seed_seconds"`
	// ServerCPUus is the server's CPU time per request.
	ServerCPUus float64 `json:"server_cpu_us_per_request"`
}

// Target is one goal of issue 4 and how this run did.
type Target struct {
	Name     string `json:"name"`
	Measured string `json:"measured"`
	Met      *bool  `json:"met"` // nil: not measured in this run
}

func rowFrom(endpoint, backend string, concurrency int, r *Result) Row {
	return Row{Endpoint: endpoint, Backend: backend, Concurrency: concurrency,
		Requests: r.Requests, Errors: r.Errors, RPS: r.Rate(),
		P50us: us(r.Hist.Quantile(0.50)), P99us: us(r.Hist.Quantile(0.99)), P999us: us(r.Hist.Quantile(0.999)),
		FirstError: r.FirstError, ServerCPUus: us(r.ServerCPUPerRequest()), ClientCPUus: us(r.ClientCPUPerRequest())}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// fmtLatency shows microseconds as µs below 1 ms and as ms above.
func fmtLatency(v float64) string {
	switch {
	case v <= 0:
		return "-"
	case v < 1000:
		return fmt.Sprintf("%.0f µs", v)
	case v < 100_000:
		return fmt.Sprintf("%.2f ms", v/1000)
	}
	return fmt.Sprintf("%.0f ms", v/1000)
}

func fmtRate(v float64) string {
	if v <= 0 {
		return "-"
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// loadAverage is the 1-minute load average of the machine.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func fmtMB(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

// WriteTable prints the report: the table of endpoints, in Markdown so
// that it can go into the README as it is, and the figures beneath it.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "profiled-bench: %s, %d users, %d clients (writes: %d), %d CPUs, %s, load average %s before, %s after\n\n",
		r.Backend, r.Users, r.Concurrency, r.WriteConcurrency, r.CPUs, r.GoVersion, r.LoadBefore, r.LoadAfter)
	if len(r.Rows) == 0 && len(r.Scaling) > 0 {
		r.writeScaling(w)
		r.writeTargets(w)
		return
	}
	header := []string{"endpoint", "backend", "req/s", "p50", "p99", "p99.9", "errors", "vs bare", "CPU/req", "allocs/req"}
	var rows [][]string
	for _, row := range r.Rows {
		if row.Skipped != "" {
			rows = append(rows, []string{row.Endpoint, row.Backend, "skipped", "-", "-", "-", "-", "-", "-", "-"})
			continue
		}
		ratio, allocs := "-", "-"
		if row.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", row.Ratio)
		}
		if row.AllocsPerOp > 0 {
			allocs = fmt.Sprint(row.AllocsPerOp)
		}
		rows = append(rows, []string{row.Endpoint, row.Backend, fmtRate(row.RPS), fmtLatency(row.P50us),
			fmtLatency(row.P99us), fmtLatency(row.P999us), fmt.Sprint(row.Errors), ratio, fmtLatency(row.ServerCPUus), allocs})
	}
	io.WriteString(w, markdownTable(header, rows, []bool{false, false, true, true, true, true, true, true, true, true}))
	fmt.Fprintln(w)
	fmt.Fprintln(w, "CPU/req: the server's CPU time per request (its threads' schedstat from the end of the pass over every token, the timed warm-up included).")
	fmt.Fprintln(w, "Every segment is the steady state: its warm-up first sends one request with each of its tokens (a write segment GET /v4/profile; a miss costs what the unknown-token row shows).")
	for _, row := range r.Rows {
		if row.Skipped != "" {
			fmt.Fprintf(w, "skipped: %s: %s\n", row.Endpoint, row.Skipped)
		}
		if row.FirstError != "" && row.Errors > 0 {
			fmt.Fprintf(w, "errors: %s (%s): first: %s\n", row.Endpoint, row.Backend, row.FirstError)
		}
	}
	for _, h := range []*Row{r.HalfRate, r.HalfRateBare} {
		if h != nil {
			fmt.Fprintf(w, "GET /v4/profile at half its peak rate, %s (%s req/s offered, %s served): p50 %s, p99 %s, p99.9 %s, %d errors\n",
				h.Backend, fmtRate(r.HalfRateOffered), fmtRate(h.RPS), fmtLatency(h.P50us), fmtLatency(h.P99us), fmtLatency(h.P999us), h.Errors)
		}
	}
	if r.PeakRSSBytes > 0 {
		fmt.Fprintf(w, "server RSS: idle %s, peak %s (VmHWM)\n", fmtMB(r.IdleRSSBytes), fmtMB(r.PeakRSSBytes))
	}
	if len(r.StartupRunsMs) > 0 {
		fmt.Fprintf(w, "start-up to ready on the existing database: %.0f ms (median of %s)\n", r.StartupMs, fmtMsList(r.StartupRunsMs))
	}
	fmt.Fprintf(w, "seeding %d users: %.1f s\n", r.Users, r.SeedSeconds)
	if len(r.Scaling) > 0 {
		fmt.Fprintln(w)
		r.writeScaling(w)
	}
	r.writeTargets(w)
}

func (r *Report) writeTargets(w io.Writer) {
	if len(r.Targets) > 0 {
		fmt.Fprintln(w, "\ntargets (issue 16, and issue 4's it did not replace):")
		for _, t := range r.Targets {
			verdict := "n/a"
			if t.Met != nil {
				verdict = "MISSED"
				if *t.Met {
					verdict = "met"
				}
			}
			fmt.Fprintf(w, "  %-6s %s: %s\n", verdict, t.Name, t.Measured)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func (r *Report) writeScaling(w io.Writer) {
	fmt.Fprintf(w, "scaling: the same reads on databases of growing size, %d users seeded in %.0f s\n", r.Users, r.SeedSeconds)
	fmt.Fprintln(w)
	first := map[string]ScalingPoint{}
	var rows [][]string
	for _, p := range r.Scaling {
		f, ok := first[p.Endpoint]
		if !ok {
			first[p.Endpoint], f = p, p
		}
		rel50, rel99 := "-", "-"
		if f.P50us > 0 && f.P99us > 0 {
			rel50 = fmt.Sprintf("%.2fx", p.P50us/f.P50us)
			rel99 = fmt.Sprintf("%.2fx", p.P99us/f.P99us)
		}
		rows = append(rows, []string{p.Endpoint, fmt.Sprint(p.Users), fmtRate(p.RPS), fmtLatency(p.P50us),
			fmtLatency(p.P99us), fmt.Sprint(p.Errors), fmtLatency(p.ServerCPUus), rel50, rel99})
	}
	io.WriteString(w, markdownTable([]string{"endpoint", "users", "req/s", "p50", "p99", "errors", "CPU/req", "p50 vs fewest", "p99 vs fewest"},
		rows, []bool{false, true, true, true, true, true, true, true, true}))
}

// markdownTable lays rows out as a Markdown table with padded columns;
// right[i] aligns column i to the right.
func markdownTable(header []string, rows [][]string, right []bool) string {
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, row := range rows {
		for i, c := range row {
			if i < len(width) {
				width[i] = max(width[i], utf8.RuneCountInString(c))
			}
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i := range width {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i < len(right) && right[i] {
				b.WriteString(" " + pad + c + " |")
			} else {
				b.WriteString(" " + c + pad + " |")
			}
		}
		b.WriteString("\n")
	}
	line(header)
	b.WriteString("|")
	for i, n := range width {
		if i < len(right) && right[i] {
			b.WriteString(" " + strings.Repeat("-", max(n-1, 1)) + ": |")
		} else {
			b.WriteString(" " + strings.Repeat("-", n) + " |")
		}
	}
	b.WriteString("\n")
	for _, row := range rows {
		line(row)
	}
	return b.String()
}

func fmtMsList(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(s, ", ") + " ms"
}

// WriteJSON writes the report to path.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
