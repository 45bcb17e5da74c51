// Command profiled-bench measures profiled: it builds the real binary,
// starts it on a fresh database seeded with many users, drives load at it
// from a second process on loopback, and prints one table of requests per
// second, latency percentiles and errors per endpoint, each read set
// against a bare net/http server that answers the same bytes (the ceiling
// of the machine), with the server's memory, start-up time and the
// allocations per request of each handler's go test twin.
//
// Run it from a clone of profiled:
//
//	go run ./tools/profiled-bench                      # SQLite, 10,000 users
//	go run ./tools/profiled-bench --users 1000000
//	go run ./tools/profiled-bench --scaling            # reads at 1k, 100k, 1M users
//	go run ./tools/profiled-bench --db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable' --write-concurrency 64
//
// Every load is bounded both by a request count and by time, and goes
// only to servers this harness started on 127.0.0.1.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the driver the seeder writes with
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == loadgenArg {
		if err := loadgenMain(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "profiled-bench load generator: %v\n", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "profiled-bench: %v\n", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	db               string // "sqlite" for a fresh file, or a postgres:// DSN
	users            int64
	concurrency      int
	writeConcurrency int
	duration         time.Duration
	writeDuration    time.Duration
	warmup           time.Duration
	requests         int
	rounds           int
	jsonPath         string
	scaling          bool
	scalingUsers     []int64
	scalingConc      int
	twins            bool
	twinTime         string
	bin              string
	pgMaxConns       int
	keep             bool
	only             string
	startups         int
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("profiled-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.db, "db", "sqlite", "the backend: sqlite (a fresh file in a temporary directory) or a postgres:// DSN, in which the harness makes a fresh schema and drops it after")
	fs.Int64Var(&c.users, "users", 10_000, "seed `N` users, each with 3 tokens, 2 SSH keys (120 for 100 of them) and preferences")
	fs.IntVar(&c.concurrency, "concurrency", 32, "closed-loop clients for the reads")
	fs.IntVar(&c.writeConcurrency, "write-concurrency", 0, "closed-loop clients for the writes (0: --concurrency)")
	fs.DurationVar(&c.duration, "duration", 1500*time.Millisecond, "measured time of each read segment (reads run --rounds times against profiled and the bare server, alternately)")
	fs.DurationVar(&c.writeDuration, "write-duration", 3*time.Second, "measured time of each write endpoint")
	fs.DurationVar(&c.warmup, "warmup", 300*time.Millisecond, "unmeasured load before each segment")
	fs.IntVar(&c.requests, "requests", 500_000, "at most `N` measured requests per segment")
	fs.IntVar(&c.rounds, "rounds", 2, "A B rounds of each read (profiled, then the bare server)")
	fs.StringVar(&c.jsonPath, "json", "", "also write the report as JSON to `FILE`")
	fs.BoolVar(&c.scaling, "scaling", false, "instead of the table, run the reads on databases of --scaling-users users, alternately, to show latency does not grow with rows")
	scaling := fs.String("scaling-users", "1000,100000,1000000", "the database sizes of --scaling")
	fs.IntVar(&c.scalingConc, "scaling-concurrency", 4, "closed-loop clients of --scaling: few, so that latency is the server's work rather than a queue")
	fs.BoolVar(&c.twins, "twins", true, "run the go test -benchmem twins of the handlers for allocations per request")
	fs.StringVar(&c.twinTime, "twin-benchtime", "400x", "-benchtime of the twins")
	fs.StringVar(&c.bin, "bin", "", "use this profiled binary instead of building ./cmd/profiled")
	fs.IntVar(&c.pgMaxConns, "pg-max-conns", 0, "PostgreSQL: profiled's --pg-max-conns (0: profiled's default)")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directory (and PostgreSQL schema) for inspection")
	fs.StringVar(&c.only, "only", "", "measure only the endpoints whose names contain one of these comma-separated words")
	fs.IntVar(&c.startups, "startups", 3, "start-ups on the seeded database to time (the median is reported)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.writeConcurrency == 0 {
		c.writeConcurrency = c.concurrency
	}
	for _, s := range strings.Split(*scaling, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--scaling-users: %q is not a positive number", s)
		}
		c.scalingUsers = append(c.scalingUsers, n)
	}
	switch {
	case c.users < 1:
		return nil, errors.New("--users must be at least 1")
	case c.concurrency < 1 || c.writeConcurrency < 1 || c.scalingConc < 1:
		return nil, errors.New("--concurrency must be at least 1")
	case c.duration <= 0 || c.writeDuration <= 0 || c.requests < 1 || c.rounds < 1 || c.startups < 1:
		return nil, errors.New("--duration, --write-duration, --requests, --rounds and --startups must be positive")
	case c.db != "sqlite" && !isPostgres(c.db):
		return nil, fmt.Errorf("--db must be sqlite or a postgres:// DSN, not %q", c.db)
	}
	return c, nil
}

func isPostgres(dsn string) bool {
	l := strings.ToLower(dsn)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// endpoint is one line of the table.
type endpoint struct {
	Name     string
	Method   string
	Path     string
	Headers  map[string]string
	Body     string
	BodyKind string
	Read     bool   // measured against the bare server too
	Expect   int    // the status of success
	Tokens   string // which tokens: tokUsers, tokHeavy or tokUnknown
	Probe    bool   // skip, with a note, while it answers 404
	Twin     string // its go test benchmark
}

const (
	tokUsers   = "users"   // the "*" token of users spread over all ids
	tokHeavy   = "heavy"   // the "*" token of the users with 120 SSH keys
	tokUnknown = "unknown" // tokens no one has
)

// tokenFilter is the X-Filter of the token list: newest first, labels
// containing "o" (all three of a seeded user's).
const tokenFilter = `{"+order_by":"created","+order":"desc","label":{"+contains":"o"}}`

func endpoints() []endpoint {
	js := map[string]string{"Content-Type": "application/json"}
	return []endpoint{
		{Name: "GET /v4/profile", Method: "GET", Path: "/v4/profile", Read: true, Expect: 200, Tokens: tokUsers, Twin: "BenchmarkTwinGetProfile"},
		{Name: "GET /v4/profile/sshkeys (page of 100)", Method: "GET", Path: "/v4/profile/sshkeys?page_size=100", Read: true, Expect: 200, Tokens: tokHeavy, Twin: "BenchmarkTwinListSSHKeys"},
		{Name: "GET /v4/profile/tokens + X-Filter", Method: "GET", Path: "/v4/profile/tokens", Headers: map[string]string{"X-Filter": tokenFilter}, Read: true, Expect: 200, Tokens: tokUsers, Twin: "BenchmarkTwinListTokensFiltered"},
		{Name: "GET /iam/v1/users/me/", Method: "GET", Path: "/iam/v1/users/me/", Read: true, Expect: 200, Tokens: tokUsers, Probe: true, Twin: "BenchmarkTwinIAMUsersMe"},
		// Forward auth: every request to every service behind a gateway passes here.
		{Name: "GET /auth/verify?scope= (forward auth)", Method: "GET", Path: "/auth/verify?scope=account:read_only", Read: true, Expect: 200, Tokens: tokUsers},
		{Name: "GET /v4/profile, unknown token (401)", Method: "GET", Path: "/v4/profile", Read: true, Expect: 401, Tokens: tokUnknown, Twin: "BenchmarkTwinUnauthorized"},
		{Name: "PUT /v4/profile/preferences (1 KB)", Method: "PUT", Path: "/v4/profile/preferences", Headers: js, Body: prefsBody, Expect: 200, Tokens: tokUsers, Twin: "BenchmarkTwinPutPreferences"},
		{Name: "POST /v4/profile/sshkeys", Method: "POST", Path: "/v4/profile/sshkeys", Headers: js, BodyKind: bodySSHKey, Expect: 200, Tokens: tokUsers, Twin: "BenchmarkTwinPostSSHKey"},
	}
}

// selected reports whether --only lets e run.
func (c *config) selected(e endpoint) bool {
	if c.only == "" {
		return true
	}
	for _, w := range strings.Split(c.only, ",") {
		if w = strings.TrimSpace(w); w != "" && strings.Contains(e.Name, w) {
			return true
		}
	}
	return false
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	began := time.Now()
	rep := &Report{Started: began.UTC(), GoVersion: runtime.Version(), CPUs: runtime.NumCPU(),
		Backend: "sqlite", Users: c.users, Concurrency: c.concurrency, WriteConcurrency: c.writeConcurrency,
		LoadBefore: loadAverage()}
	if isPostgres(c.db) {
		rep.Backend = "postgres"
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "profiled-bench: "+format+"\n", args...) }

	dir, err := os.MkdirTemp("", "profiled-bench-")
	if err != nil {
		return err
	}
	if c.keep {
		logf("keeping %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	root := ""
	if c.bin == "" || c.twins {
		if root, err = moduleRoot(ctx); err != nil {
			return err
		}
	}
	bin := c.bin
	if bin == "" {
		logf("building ./cmd/profiled")
		if bin, err = buildProfiled(ctx, root, dir); err != nil {
			return err
		}
	}
	b := &bench{c: c, rep: rep, bin: bin, dir: dir, logf: logf, key: randomHex(32)}
	if c.scaling {
		err = b.scalingSeries(ctx)
	} else {
		err = b.table(ctx)
	}
	if err != nil {
		return err
	}
	if c.twins && !c.scaling {
		logf("running the go test twins (-benchmem)")
		twins, err := runTwins(ctx, root, c.twinTime)
		if err != nil {
			return err
		}
		rep.Twins = twins
		for i, row := range rep.Rows {
			for _, e := range endpoints() {
				if e.Name == row.Endpoint && row.Backend == rep.Backend {
					if t, ok := twins[e.Twin]; ok {
						rep.Rows[i].AllocsPerOp, rep.Rows[i].BytesPerOp = t.AllocsPerOp, t.BytesPerOp
					}
				}
			}
		}
	}
	rep.LoadAfter = loadAverage()
	rep.Targets = targets(rep)
	rep.ElapsedSeconds = time.Since(began).Seconds()
	rep.WriteTable(stdout)
	if c.jsonPath != "" {
		if err := rep.WriteJSON(c.jsonPath); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	return nil
}

// bench is one run of the harness.
type bench struct {
	c    *config
	rep  *Report
	bin  string
	dir  string
	key  string // PROFILED_SECRET_KEY of the servers
	logf func(string, ...any)
}

// database is one fresh, seeded database.
type database struct {
	dsn      string // what profiled's --db gets
	plan     seedPlan
	seedSecs float64
	drop     func() // removes a PostgreSQL schema
}

// newDatabase makes a fresh database named name and seeds it with users.
func (b *bench) newDatabase(ctx context.Context, name string, users int64) (*database, error) {
	d := &database{plan: newSeedPlan(users), drop: func() {}}
	began := time.Now()
	if isPostgres(b.c.db) {
		schema := "profiled_bench_" + name + "_" + randomHex(4)
		conn, err := pgx.Connect(ctx, b.c.db)
		if err != nil {
			return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		_, err = conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
		conn.Close(ctx)
		if err != nil {
			return nil, fmt.Errorf("create schema: %w", err)
		}
		if !b.c.keep {
			d.drop = func() {
				dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if conn, err := pgx.Connect(dctx, b.c.db); err == nil {
					conn.Exec(dctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
					conn.Close(dctx)
				}
			}
		} else {
			b.logf("keeping schema %s", schema)
		}
		u, err := url.Parse(b.c.db)
		if err != nil {
			return nil, fmt.Errorf("--db: %w", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		d.dsn = u.String()
		b.logf("seeding %d users into PostgreSQL schema %s", users, schema)
		if err := seedPostgres(ctx, d.dsn, &d.plan); err != nil {
			d.drop()
			return nil, err
		}
	} else {
		d.dsn = "sqlite:" + filepath.Join(b.dir, name+".db")
		b.logf("seeding %d users into %s", users, strings.TrimPrefix(d.dsn, "sqlite:"))
		if err := seedSQLite(ctx, strings.TrimPrefix(d.dsn, "sqlite:"), &d.plan); err != nil {
			return nil, err
		}
	}
	d.seedSecs = time.Since(began).Seconds()
	b.logf("seeded %d users in %.1fs", users, d.seedSecs)
	return d, nil
}

// start runs profiled on d.
func (b *bench) start(ctx context.Context, d *database) (*server, error) {
	var extra []string
	if isPostgres(b.c.db) && b.c.pgMaxConns > 0 {
		extra = append(extra, "--pg-max-conns", strconv.Itoa(b.c.pgMaxConns))
	}
	return startServer(ctx, b.bin, d.dsn, []string{"PROFILED_SECRET_KEY=" + b.key}, extra...)
}

// tokens returns the bearer tokens of a kind.
func tokensFor(p *seedPlan, kind string) []string {
	var out []string
	switch kind {
	case tokHeavy:
		for i := int64(0); i < p.HeavyUsers; i++ {
			out = append(out, p.Token(p.HeavyUser(i), 0))
		}
	case tokUnknown:
		for range 1000 {
			out = append(out, randomHex(32))
		}
	default:
		for _, u := range p.SampleUsers(10_000) {
			out = append(out, p.Token(u, 0))
		}
	}
	return out
}

// job builds the load of e against addr.
//
// Every segment first sends one request with each of its tokens, so that
// it measures the server's steady state, not its first sight of each
// user: a read sends itself, a write GET /v4/profile (in a full run the
// reads before it have seen the same tokens; alone, with --only, a write
// segment was a fifth to a half first sights).
func (b *bench) job(e endpoint, addr string, tokens []string, concurrency int, d time.Duration) Job {
	j := Job{Addr: addr, Concurrency: concurrency, Warmup: b.c.warmup, Duration: d, MaxRequests: b.c.requests,
		Method: e.Method, Path: e.Path, Headers: e.Headers, Body: e.Body, BodyKind: e.BodyKind,
		Tokens: tokens, Expect: e.Expect}
	if !e.Read {
		j.WarmPath = "/v4/profile"
	}
	return j
}

// table measures every endpoint on one database: the main run.
func (b *bench) table(ctx context.Context) error {
	c, rep := b.c, b.rep
	d, err := b.newDatabase(ctx, "profiled", c.users)
	if err != nil {
		return err
	}
	defer d.drop()
	rep.SeedSeconds = d.seedSecs
	// Start-up to ready, on the seeded (existing) database: the last
	// start stays up for the load.
	var srv *server
	for i := 0; i < c.startups; i++ {
		if srv != nil {
			if err := srv.Stop(); err != nil {
				return err
			}
		}
		if srv, err = b.start(ctx, d); err != nil {
			return err
		}
		rep.StartupRunsMs = append(rep.StartupRunsMs, float64(srv.Ready)/float64(time.Millisecond))
	}
	defer srv.Stop()
	rep.StartupMs = median(rep.StartupRunsMs)
	time.Sleep(time.Second)
	if rep.IdleRSSBytes, err = procStatus(srv.Pid(), "VmRSS"); err != nil {
		return err
	}
	b.logf("profiled is up at %s (ready in %.0f ms, idle RSS %s)", srv.URL, rep.StartupMs, fmtMB(rep.IdleRSSBytes))

	for _, e := range endpoints() {
		if !c.selected(e) {
			continue
		}
		tokens := tokensFor(&d.plan, e.Tokens)
		if e.Probe {
			got, err := capture(srv.URL, e, tokens[0])
			if err != nil {
				return err
			}
			if got.Status == 404 {
				rep.Rows = append(rep.Rows, Row{Endpoint: e.Name, Backend: rep.Backend,
					Skipped: "answers 404: that face is not built yet; this row fills in once it is"})
				continue
			}
		}
		if e.Read {
			row, bare, err := b.measureRead(ctx, srv, e, tokens)
			if err != nil {
				return err
			}
			rep.Rows = append(rep.Rows, row, bare)
			if e.Name == "GET /v4/profile" {
				rep.HalfRateOffered = row.RPS / 2
				if rep.HalfRate, rep.HalfRateBare, err = b.halfRate(ctx, srv, e, tokens, rep.HalfRateOffered); err != nil {
					return err
				}
			}
			continue
		}
		b.logf("measuring %s", e.Name)
		res, err := runJob(ctx, b.job(e, srv.Addr, tokens, c.writeConcurrency, c.writeDuration), srv.Pid())
		if err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, rowFrom(e.Name, rep.Backend, c.writeConcurrency, res))
	}
	if !srv.Alive() {
		return fmt.Errorf("profiled died during the run: %v\n%s", srv.waitErr, srv.stderr.String())
	}
	if rep.PeakRSSBytes, err = procStatus(srv.Pid(), "VmHWM"); err != nil {
		return err
	}
	return srv.Stop()
}

// measureRead runs e against profiled and against a bare server that
// replays profiled's answer, alternately (A B A B), so that drift of the
// machine falls on both alike.
func (b *bench) measureRead(ctx context.Context, srv *server, e endpoint, tokens []string) (Row, Row, error) {
	c := b.c
	ref, err := capture(srv.URL, e, tokens[0])
	if err != nil {
		return Row{}, Row{}, err
	}
	if ref.Status != e.Expect {
		return Row{}, Row{}, fmt.Errorf("%s answered %d, expected %d: %s", e.Name, ref.Status, e.Expect, ref.Body)
	}
	bare, err := startBare(ref)
	if err != nil {
		return Row{}, Row{}, err
	}
	defer bare.Close()
	var a, bb Result
	for round := 0; round < c.rounds; round++ {
		b.logf("measuring %s: round %d of %d, profiled", e.Name, round+1, c.rounds)
		r, err := runJob(ctx, b.job(e, srv.Addr, tokens, c.concurrency, c.duration), srv.Pid())
		if err != nil {
			return Row{}, Row{}, err
		}
		a.Merge(r)
		b.logf("measuring %s: round %d of %d, bare net/http", e.Name, round+1, c.rounds)
		if r, err = runJob(ctx, b.job(e, bare.Addr, tokens, c.concurrency, c.duration), os.Getpid()); err != nil {
			return Row{}, Row{}, err
		}
		bb.Merge(r)
	}
	row := rowFrom(e.Name, b.rep.Backend, c.concurrency, &a)
	bareRow := rowFrom(e.Name, "bare net/http", c.concurrency, &bb)
	if bareRow.RPS > 0 {
		row.Ratio, row.BareRPS = row.RPS/bareRow.RPS, bareRow.RPS
	}
	return row, bareRow, nil
}

// halfRate offers GET /v4/profile at a fixed rate, half the peak, to
// profiled and to a bare server replaying its answer, alternately (A B A
// B), and measures latency from when each request was due: the bare
// server's p99 at the same rate is what the machine and the load
// generator cost alone.
func (b *bench) halfRate(ctx context.Context, srv *server, e endpoint, tokens []string, rate float64) (*Row, *Row, error) {
	if rate <= 0 {
		return nil, nil, nil
	}
	ref, err := capture(srv.URL, e, tokens[0])
	if err != nil {
		return nil, nil, err
	}
	bare, err := startBare(ref)
	if err != nil {
		return nil, nil, err
	}
	defer bare.Close()
	var a, bb Result
	for round := 0; round < b.c.rounds; round++ {
		for _, target := range []struct {
			name string
			addr string
			pid  int
			into *Result
		}{{"profiled", srv.Addr, srv.Pid(), &a}, {"bare net/http", bare.Addr, os.Getpid(), &bb}} {
			b.logf("measuring %s at %.0f req/s (half its peak): round %d of %d, %s", e.Name, rate, round+1, b.c.rounds, target.name)
			j := b.job(e, target.addr, tokens, b.c.concurrency, b.c.duration+time.Second)
			j.Rate = rate
			j.MaxRequests = max(1, int(rate*b.c.duration.Seconds()))
			res, err := runJob(ctx, j, target.pid)
			if err != nil {
				return nil, nil, err
			}
			target.into.Merge(res)
		}
	}
	row := rowFrom(e.Name, b.rep.Backend, b.c.concurrency, &a)
	bareRow := rowFrom(e.Name, "bare net/http", b.c.concurrency, &bb)
	return &row, &bareRow, nil
}

// scalingSeries runs the reads on databases of each --scaling-users size,
// all served at once and measured in turn, round after round, so that
// drift of the machine falls on every size alike.
func (b *bench) scalingSeries(ctx context.Context) error {
	c, rep := b.c, b.rep
	rep.Concurrency, rep.WriteConcurrency = c.scalingConc, 0
	sizes := slices.Clone(c.scalingUsers)
	slices.Sort(sizes)
	type target struct {
		users int64
		d     *database
		srv   *server
	}
	var ts []*target
	defer func() {
		for _, t := range ts {
			if t.srv != nil {
				t.srv.Stop()
			}
			t.d.drop()
		}
	}()
	for _, n := range sizes {
		d, err := b.newDatabase(ctx, fmt.Sprintf("users%d", n), n)
		if err != nil {
			return err
		}
		t := &target{users: n, d: d}
		ts = append(ts, t)
		if n == sizes[len(sizes)-1] {
			rep.SeedSeconds, rep.Users = d.seedSecs, n
		}
		if t.srv, err = b.start(ctx, d); err != nil {
			return err
		}
	}
	for _, e := range endpoints() {
		if !e.Read || e.Probe || e.Tokens == tokUnknown || !c.selected(e) {
			continue
		}
		results := make([]Result, len(ts))
		for round := 0; round < c.rounds; round++ {
			for i, t := range ts {
				b.logf("measuring %s at %d users: round %d of %d", e.Name, t.users, round+1, c.rounds)
				r, err := runJob(ctx, b.job(e, t.srv.Addr, tokensFor(&t.d.plan, e.Tokens), c.scalingConc, c.duration), t.srv.Pid())
				if err != nil {
					return err
				}
				results[i].Merge(r)
			}
		}
		for i, t := range ts {
			row := rowFrom(e.Name, rep.Backend, c.scalingConc, &results[i])
			rep.Scaling = append(rep.Scaling, ScalingPoint{Users: t.users, Endpoint: e.Name, RPS: row.RPS,
				P50us: row.P50us, P99us: row.P99us, Errors: row.Errors, SeedSecs: t.d.seedSecs, ServerCPUus: row.ServerCPUus})
		}
	}
	return nil
}

// targets judges the run against the goals of issue 16 (the hot path)
// and those of issue 4 it did not replace.
func targets(r *Report) []Target {
	var out []Target
	yes := func(b bool) *bool { return &b }
	find := func(endpoint, backend string) *Row {
		for i := range r.Rows {
			if r.Rows[i].Endpoint == endpoint && r.Rows[i].Backend == backend && r.Rows[i].Skipped == "" {
				return &r.Rows[i]
			}
		}
		return nil
	}
	sqlite := r.Backend == "sqlite"
	ratio := func(endpoint, name string, goal float64) {
		if p := find(endpoint, r.Backend); p != nil && p.Ratio > 0 {
			out = append(out, Target{Name: fmt.Sprintf("%s >= %.2f of the bare server", name, goal),
				Measured: fmt.Sprintf("%.2f (%s vs %s req/s)", p.Ratio, fmtRate(p.RPS), fmtRate(p.BareRPS)), Met: yes(p.Ratio >= goal)})
		}
	}
	if sqlite {
		ratio("GET /v4/profile", "GET /v4/profile, SQLite,", 0.70)
		ratio("GET /auth/verify?scope= (forward auth)", "GET /auth/verify, SQLite,", 0.75)
	} else {
		ratio("GET /v4/profile", "GET /v4/profile, PostgreSQL,", 0.45)
	}
	if p := find("GET /v4/profile", r.Backend); p != nil && p.AllocsPerOp > 0 {
		out = append(out, Target{Name: "allocations per GET /v4/profile (twin) <= 30",
			Measured: fmt.Sprint(p.AllocsPerOp), Met: yes(p.AllocsPerOp <= 30)})
	}
	if h, bare := r.HalfRate, r.HalfRateBare; h != nil && bare != nil && sqlite && bare.P99us > 0 {
		kept := h.RPS >= 0.95*r.HalfRateOffered
		out = append(out, Target{Name: "p99 at half the peak rate, SQLite, <= 1.5x the bare server's p99 at the same rate",
			Measured: fmt.Sprintf("%.2fx (p99 %s vs %s at %s req/s offered, %s served)", h.P99us/bare.P99us,
				fmtLatency(h.P99us), fmtLatency(bare.P99us), fmtRate(r.HalfRateOffered), fmtRate(h.RPS)),
			Met: yes(h.P99us <= 1.5*bare.P99us && h.Errors == 0 && kept)})
	}
	if w := find("POST /v4/profile/sshkeys", r.Backend); w != nil {
		goal, clients, name := 6000.0, 32, "durable writes (POST /v4/profile/sshkeys), SQLite, 32 clients, >= 6,000/s"
		if !sqlite {
			goal, clients, name = 3000, 64, "durable writes (POST /v4/profile/sshkeys), PostgreSQL, 64 clients, >= 3,000/s"
		}
		m := fmt.Sprintf("%s/s with %d clients, %d errors", fmtRate(w.RPS), w.Concurrency, w.Errors)
		out = append(out, Target{Name: name, Measured: m, Met: yes(w.RPS >= goal && w.Errors == 0 && w.Concurrency >= clients)})
	}
	if w := find("PUT /v4/profile/preferences (1 KB)", r.Backend); w != nil && sqlite {
		m := fmt.Sprintf("%s/s with %d clients, %d errors", fmtRate(w.RPS), w.Concurrency, w.Errors)
		out = append(out, Target{Name: "PUT /v4/profile/preferences on SQLite >= 2,000/s, durable (issue 4)", Measured: m,
			Met: yes(w.RPS >= 2000 && w.Errors == 0)})
	}
	if r.IdleRSSBytes > 0 {
		out = append(out, Target{Name: "idle RSS <= 25 MB", Measured: fmtMB(r.IdleRSSBytes), Met: yes(r.IdleRSSBytes <= 25<<20)})
	}
	if r.StartupMs > 0 {
		out = append(out, Target{Name: "start-up to ready < 200 ms on an existing database (issue 4)",
			Measured: fmt.Sprintf("%.0f ms", r.StartupMs), Met: yes(r.StartupMs < 200)})
	}
	if len(r.Scaling) > 0 {
		first, last := map[string]ScalingPoint{}, map[string]ScalingPoint{}
		var names []string
		for _, p := range r.Scaling {
			if _, ok := first[p.Endpoint]; !ok {
				first[p.Endpoint] = p
				names = append(names, p.Endpoint)
			}
			last[p.Endpoint] = p
		}
		for _, n := range names {
			f, l := first[n], last[n]
			if f.Users == l.Users || f.P50us <= 0 {
				continue
			}
			ratio := l.P50us / f.P50us
			out = append(out, Target{Name: fmt.Sprintf("%s: p50 at %d users within 1.2x of %d users", n, l.Users, f.Users),
				Measured: fmt.Sprintf("%.2fx (p50 %s vs %s; p99 %.2fx)", ratio, fmtLatency(l.P50us), fmtLatency(f.P50us), l.P99us/f.P99us),
				Met:      yes(ratio <= 1.2)})
		}
	}
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := randRead(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

var randRead = rand.Read
