package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/profiled/profiled/backchannel"
	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/auth"
	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/face/iam"
	"github.com/profiled/profiled/face/linode"
	"github.com/profiled/profiled/face/pace"
	"github.com/profiled/profiled/internal/clientjwt"
	"github.com/profiled/profiled/metrics"
	"github.com/profiled/profiled/reqlog"
	"github.com/profiled/profiled/sms"
	"github.com/profiled/profiled/webhook"
)

// The server's limits. A request has ReadTimeout to arrive in full and
// WriteTimeout from then to be answered; bodies are further bounded by
// the face (linode.DefaultMaxBodyBytes).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// shutdownTimeout is how long requests in flight get to finish after
	// SIGTERM or SIGINT before their connections are closed.
	shutdownTimeout = 20 * time.Second
	// healthTimeout bounds the database check of /healthz.
	healthTimeout = 2 * time.Second
	// defaultDrain is how long /readyz fails before shutdown: a few of the
	// usual 5 to 10 s health-check intervals of load balancers would be
	// longer; this covers one, which is what orchestrators wait.
	defaultDrain = 5 * time.Second
	// defaultRequestTimeout bounds a request's work: under writeTimeout,
	// and above readTimeout, so a large body read in full still has time
	// to be stored.
	defaultRequestTimeout = 45 * time.Second
)

var serveCommand = command{
	name:    "serve",
	short:   "run the HTTP server",
	args:    "[--addr 127.0.0.1:8080] [--sms-webhook URL] [--preferences-client ID]... [--db DSN]",
	summary: "Run the HTTP server: the Linode API v4 /profile (under /v4 and /v4beta), sign-in under /auth/, OAuth under /oauth/,\nthe IAM API under /iam/v1/, the per-client preferences of the PACE User API (/user/{version}/preferences/{clientId})\nand GET /livez, /readyz (503 while draining after SIGTERM) and /healthz. On an empty database it creates the user admin and prints a token for it, once.",
	setup: func(fs *flagSet) func(context.Context, *env) error {
		db := dbFlags(fs)
		key := keyFlags(fs)
		var addr, webhook, logFormat, tokenFile string
		var trustProxy, registration bool
		var requestTimeout, drain, purgeInterval time.Duration
		var budget int64
		var origins originsValue
		var tlsCert, tlsKey, metricsAddr, eventsURL, eventsSecret string
		fs.envString(&addr, "addr", "PROFILED_ADDR", "127.0.0.1:8080", "the `HOST:PORT` to listen on (port 0: any free port)")
		fs.envString(&webhook, "sms-webhook", "PROFILED_SMS_WEBHOOK", "",
			"the `URL` that receives each text message as a JSON POST of {\"to\": \"+E164\", \"message\": \"...\"}; unset: messages are only logged (development)")
		fs.envString(&logFormat, "log-format", "PROFILED_LOG_FORMAT", "json", "the `FORMAT` of the log on stderr: json or text")
		fs.envString(&tokenFile, "bootstrap-token-file", "PROFILED_BOOTSTRAP_TOKEN_FILE", "",
			"where the first start on an empty database writes admin's token (mode 0600), when stdout is not a terminal; default: profiled-bootstrap-token beside the SQLite database, or in the working directory")
		fs.BoolVar(&trustProxy, "trust-proxy-headers", false,
			"behind a load balancer: take the client address for sign-in limits and login records from the last X-Forwarded-For entry, and TLS from X-Forwarded-Proto")
		fs.twin("trust-proxy-headers", "PROFILED_TRUST_PROXY_HEADERS")
		fs.BoolVar(&registration, "oauth-registration", false,
			"let OAuth applications register themselves at POST /oauth/register (RFC 7591), as Model Context Protocol clients do: anyone may then make a client, "+
				"which the consent page shows as unchecked, 20 per address and 1,000 in all an hour; off, only the operator and accounts register them")
		fs.twin("oauth-registration", "PROFILED_OAUTH_REGISTRATION")
		fs.envInt64(&budget, "large-bytes-in-flight", "PROFILED_LARGE_BYTES_IN_FLIGHT", httpx.DefaultByteBudget,
			"the `BYTES` that large request bodies and values (preferences of 1 MiB and more) may hold at once in this process; past it such requests wait up to 2 s, then get 503")
		fs.Var(&origins, "cors-origin", "an `ORIGIN` (https://console.example.com) of a browser console that may call every face, the sign-in API and the token endpoint included, with credentials; repeat it, or separate several with commas. Unset: the API faces answer any origin (\"*\"), without credentials")
		fs.twin("cors-origin", "PROFILED_CORS_ORIGINS")
		fs.envString(&tlsCert, "tls-cert", "PROFILED_TLS_CERT", "", "serve HTTPS with the certificate (chain) in this PEM `FILE`, read again on SIGHUP; with --tls-key")
		fs.envString(&tlsKey, "tls-key", "PROFILED_TLS_KEY", "", "the PEM `FILE` of the certificate's private key; with --tls-cert")
		fs.envString(&metricsAddr, "metrics-addr", "PROFILED_METRICS_ADDR", "",
			"serve Prometheus metrics at GET /metrics on this `HOST:PORT`, apart from the API (keep it private); unset: no metrics")
		fs.envString(&eventsURL, "events-url", "PROFILED_EVENTS_URL", "",
			"POST each security event, signed, to this `URL` (from a durable outbox: retried until it answers 2xx, never lost); needs --events-secret")
		fs.envString(&eventsSecret, "events-secret", "PROFILED_EVENTS_SECRET", "",
			"the `SECRET` (16 bytes or more) whose HMAC-SHA256 of each event's body is its X-Profiled-Signature; prefer the environment variable to the flag")
		fs.envDuration(&drain, "drain", "PROFILED_DRAIN", defaultDrain,
			"after SIGTERM, how long /readyz answers 503 while the server still serves, so that load balancers stop sending before it closes its listener")
		fs.envDuration(&requestTimeout, "request-timeout", "PROFILED_REQUEST_TIMEOUT", defaultRequestTimeout,
			"the longest a request's work may take, its database calls included: past it the request answers 503 (a database link that hangs holds no request longer); 0 for none")
		fs.envDuration(&purgeInterval, "purge-interval", "PROFILED_PURGE_INTERVAL", defaultPurgeInterval,
			"how often to delete expired credentials and logins and events older than 90 days (also at start): 1m or more; 0 for at start only")
		iamConf := iamFlags(fs)
		mail := mailFlags(fs)
		quotas := quotaFlags(fs)
		clients := clientsFlag(fs)
		return func(ctx context.Context, e *env) error {
			return serve(ctx, e, serveConfig{db: db, key: key, addr: addr, webhook: webhook, logFormat: logFormat, trustProxy: trustProxy, iam: iamConf, clients: *clients, tokenFile: tokenFile, requestTimeout: requestTimeout, budget: budget, drain: drain, origins: origins, tlsCert: tlsCert, tlsKey: tlsKey, metricsAddr: metricsAddr, eventsURL: eventsURL, eventsSecret: eventsSecret, mail: mail, quotas: quotas, purgeInterval: purgeInterval,
				registration: registration})
		}
	},
}

type serveConfig struct {
	db        *dbConfig
	quotas    *quotaConfig
	key       *keyConfig
	addr      string
	webhook   string
	logFormat string
	// trustProxy: the auth face believes X-Forwarded-For and X-Forwarded-Proto.
	trustProxy bool
	iam        *iamConfig
	// clients: the OAuth clients whose preferences namespaces exist (--preferences-client).
	clients clientsValue
	// tokenFile: where the bootstrap token goes when stdout is no terminal.
	tokenFile string
	// requestTimeout bounds each request's work (httpx.Deadline).
	requestTimeout time.Duration
	// purgeInterval is runPurger's (0: at start only).
	purgeInterval time.Duration
	// budget bounds the bytes large bodies hold at once (httpx.ByteBudget).
	budget int64
	// drain is how long /readyz says 503 after SIGTERM before the listener closes.
	drain time.Duration
	// origins are the consoles of --cors-origin.
	origins []string
	// tlsCert and tlsKey serve HTTPS when set.
	tlsCert, tlsKey string
	// metricsAddr serves the Prometheus metrics when set.
	metricsAddr string
	// eventsURL receives the security events, signed with eventsSecret.
	eventsURL, eventsSecret string
	// mail sends the notifications, when it names an SMTP server.
	mail *mailConfig
	// registration lets applications register themselves (RFC 7591).
	registration bool
}

// servingGCPercent is the GOGC of a serving profiled when the operator
// sets none. Its live heap is small (2-3 MB), so the runtime's default of
// 100 collects after every 3 MB of allocation, which at 25,000 requests/s
// was 40 collections a second, each taking one of two CPUs for 3-7 ms of
// marking. At 400 (tools/profiled-bench, A B A B on two CPUs): GET
// /v4/profile 0.65-0.70 -> 0.74-0.77 of the bare server, its p50 at half
// the peak rate 190-290 -> 120-130 µs; idle RSS unchanged (23 MB), the
// peak under the harness's load 54 -> 70 MB.
const servingGCPercent = 400

func serve(ctx context.Context, e *env, c serveConfig) error {
	if _, set := os.LookupEnv("GOGC"); !set {
		defer debug.SetGCPercent(debug.SetGCPercent(servingGCPercent))
	}
	// The log is written in batches (one write per request was the
	// largest part of the hot path's kernel time); warnings go at once.
	logBuf := reqlog.NewBuffer(e.stderr, 50*time.Millisecond)
	defer logBuf.Close()
	logger, err := newLogger(logBuf, c.logFormat)
	if err != nil {
		return err
	}
	logger = slog.New(reqlog.FlushingHandler(logger.Handler(), logBuf, slog.LevelWarn))
	var sender core.SMSSender
	if c.webhook != "" {
		u, err := url.Parse(c.webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--sms-webhook must be an absolute http:// or https:// URL")
		}
		sender = &sms.Webhook{URL: c.webhook}
	} else {
		sender = sms.Log{Logger: logger}
	}
	if c.purgeInterval != 0 && c.purgeInterval < minPurgeInterval {
		return usagef("--purge-interval (PROFILED_PURGE_INTERVAL) must be %s or more, or 0 for a purge at start only, not %s", minPurgeInterval, c.purgeInterval)
	}
	if err := c.iam.validate(); err != nil {
		return err
	}
	if c.eventsURL != "" {
		u, err := url.Parse(c.eventsURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--events-url must be an absolute http:// or https:// URL")
		}
		if len(c.eventsSecret) < 16 {
			return usagef("--events-url needs --events-secret (PROFILED_EVENTS_SECRET) of 16 bytes or more, which signs each event: make one with `openssl rand -hex 32`")
		}
	}
	mailSender, err := c.mail.sender()
	if err != nil {
		return err
	}
	if c.mail.signup && c.iam.publicURL == "" {
		return usagef("--signup needs --public-url: the verification mail links to it")
	}
	var cert *certificate
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together: give both, or neither for plain HTTP behind a proxy that terminates TLS")
	}
	if c.tlsCert != "" {
		if cert, err = loadCertificate(c.tlsCert, c.tlsKey); err != nil {
			return err
		}
	}
	idp, err := c.iam.provider()
	if err != nil {
		return err
	}
	clients, err := clientDirectory(c.clients)
	if err != nil {
		return usagef("--preferences-client: %v", err)
	}
	st, box, created, err := openWithKey(ctx, e, c.key, c.db, applyMigrations)
	if err != nil {
		return err
	}
	defer st.Close()
	// PostgreSQL: tokens answered from memory between notifications of
	// change (store/postgres/authwatch.go); SQLite does so by itself.
	if w, ok := st.(interface{ WatchTokens(context.Context) error }); ok {
		if err := w.WatchTokens(ctx); err != nil {
			return fmt.Errorf("watch tokens on %s: %w", c.db, err)
		}
	}
	if created != "" {
		logger.Warn(keyCreatedNotice(created))
	}
	if msg := keyBesideDatabase(c.key, c.db, e.getenv); msg != "" {
		logger.Warn(msg)
	}
	// The request lines and the INFO security events are written beside
	// the log's handler, in its format, to the same buffer.
	lines := &reqlog.Lines{W: logBuf, Text: strings.EqualFold(c.logFormat, "text")}
	var events core.EventSink = reqlog.SecurityEvents{Log: logger, Lines: lines}
	var observe func(reqlog.Observed)
	var store core.Store = st
	var deliverer core.Deliverer
	// A client's jwks_uri that fails refuses its assertions: the operator
	// hears of it here, and in the metrics below.
	clientKeys := clientjwt.New(nil, nil)
	keySetRead := func(err error) {}
	clientKeys.OnRead = func(uri string, err error) {
		keySetRead(err)
		if err != nil {
			logger.Warn("a client's key set could not be read at its jwks_uri: its client_assertions are refused until it answers "+
				"(profiled oauth-clients list --json names the client)", slog.String("jwks_uri", uri), slog.String("error", err.Error()))
		}
	}
	// counted wraps the deliverer of back-channel logouts, which needs the
	// service, made below, in the metrics.
	counted := func(d core.Deliverer) core.Deliverer { return d }
	if c.eventsURL != "" {
		deliverer = &webhook.Events{URL: c.eventsURL, Secret: []byte(c.eventsSecret)}
	}
	if c.metricsAddr != "" {
		m := metrics.New()
		if deliverer != nil {
			deliverer = m.Deliveries(core.OutboxEvents, deliverer)
			m.WatchOutbox(core.OutboxEvents, func(ctx context.Context) (int, error) { return st.OutboxDepth(ctx, core.OutboxEvents) })
		}
		if mailSender != nil {
			mailSender = m.Deliveries(core.OutboxMail, mailSender)
			m.WatchOutbox(core.OutboxMail, func(ctx context.Context) (int, error) { return st.OutboxDepth(ctx, core.OutboxMail) })
		}
		counted = func(d core.Deliverer) core.Deliverer { return m.Deliveries(core.OutboxLogout, d) }
		m.WatchOutbox(core.OutboxLogout, func(ctx context.Context) (int, error) { return st.OutboxDepth(ctx, core.OutboxLogout) })
		watchStore(m, st)
		keySetRead = m.KeySetRead
		events, observe = m.Events(events), m.Observe
		store, sender = m.Store(st), m.SMS(sender)
		mctx, stopMetrics := context.WithCancel(ctx)
		defer stopMetrics()
		addr, err := serveMetrics(mctx, c.metricsAddr, m, logger)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "profiled: metrics on http://%s/metrics\n", addr)
	}
	// The clients whose preferences namespaces exist: the registered ones,
	// and those named on the command line.
	directory := core.ClientDirectories{core.RegisteredClients{Store: store}, clients}
	cfg := core.Config{Store: store, Box: box, SMS: sender, Clients: directory, ClientKeys: clientKeys, Events: events, EventsOutbox: deliverer != nil,
		Mail: mailSender != nil, PublicURL: c.iam.publicURL, Signup: c.mail.signup, Quotas: c.quotas.core(), Logouts: true,
		Registration: c.registration}
	if idp != nil {
		cfg.Identity = idp
		discover(ctx, idp, c.iam.issuer, logger)
	}
	svc := core.New(cfg)
	defer runPurger(ctx, svc, logger, c.purgeInterval)() // before the store closes
	defer runWorker(ctx, svc, core.OutboxLogout, counted(&backchannel.Logouts{Tokens: svc}), logger, "a back-channel logout")()
	if deliverer != nil {
		defer runWorker(ctx, svc, core.OutboxEvents, deliverer, logger, "an event")() // before the store closes
	}
	if mailSender != nil {
		defer runWorker(ctx, svc, core.OutboxMail, mailSender, logger, "a mail")()
		defer runWorker(ctx, svc, core.OutboxRecovery, svc.RecoveryRequests(), logger, "a recovery request")()
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (choose another --addr, or stop what uses it)", c.addr, err)
	}
	defer ln.Close()
	base := baseURL(ln.Addr(), cert != nil)

	token, err := svc.Bootstrap(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap the first user: %w", err)
	}
	if token != "" {
		if err := showBootstrap(e.stdout, token, base, bootstrapTokenPath(c)); err != nil {
			return err
		}
	}
	if c.webhook == "" {
		logger.Warn("no --sms-webhook (PROFILED_SMS_WEBHOOK) set: text messages, verification codes included, are written to this log instead of being sent")
	}

	var draining atomic.Bool
	srv := &http.Server{
		Handler: newHandler(svc, logger, handlerConfig{trustProxy: c.trustProxy, requestTimeout: c.requestTimeout,
			lines:  lines,
			budget: httpx.NewByteBudget(c.budget), draining: &draining, origins: c.origins, iam: c.iam.iamOptions(logger), observe: observe}),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	if cert != nil {
		srv.TLSConfig = cert.config()
		cert.reloadOnHUP(ctx, logger)
		go func() { served <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { served <- srv.Serve(ln) }()
	}
	fmt.Fprintf(e.stdout, "profiled: listening on %s\n", base)
	logger.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("db", c.db.String()), slog.String("version", versionString()))

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Drain: /readyz fails, so load balancers stop sending, while the
	// server still answers what they sent meanwhile; then shut down.
	draining.Store(true)
	if c.drain > 0 {
		logger.Info("draining", slog.String("for", c.drain.String()))
		select {
		case <-time.After(c.drain):
		case err := <-served:
			return fmt.Errorf("serve: %w", err)
		}
	}
	logger.Info("shutting down", slog.String("grace", shutdownTimeout.String()))
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// handlerConfig is what newHandler wires the faces with.
type handlerConfig struct {
	trustProxy     bool
	requestTimeout time.Duration
	budget         *httpx.ByteBudget
	draining       *atomic.Bool
	origins        []string
	iam            iam.Options
	observe        func(reqlog.Observed) // the metrics, or nil
	lines          *reqlog.Lines         // the request lines, written beside the log; nil: through it
}

// newHandler is the whole HTTP API: the health checks, sign-in and OAuth
// under /auth/ and /oauth/, the IAM face under /iam/v1/, the PACE face
// under /user/, and every other path to the Linode face, which answers
// unknown routes with its own 404.
func newHandler(svc *core.Service, logger *slog.Logger, c handlerConfig) http.Handler {
	mux := httpx.NewMounts()
	mux.Handle("GET /healthz", healthz(svc.Store(), logger, nil))
	mux.Handle("GET /readyz", healthz(svc.Store(), logger, c.draining))
	mux.Handle("GET /livez", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqlog.SetRoute(r.Context(), "GET /livez")
		writeHealth(w, http.StatusOK, "ok")
	}))
	signIn := auth.New(svc, auth.Options{Logger: logger, TrustProxyHeaders: c.trustProxy, PublicURL: c.iam.PublicURL, CORSOrigins: c.origins})
	for _, p := range auth.Paths {
		mux.Handle(p, signIn)
	}
	iamOpts := c.iam
	iamOpts.CORSOrigins = c.origins
	mux.Handle(iam.Prefix+"/", iam.New(svc, iamOpts))
	mux.Handle("/user/", pace.New(svc, pace.Options{Logger: logger, Budget: c.budget, CORSOrigins: c.origins}))
	mux.Handle("/", linode.New(svc, linode.Options{Logger: logger, MaxBodyBytes: linode.DefaultMaxBodyBytes, CORSOrigins: c.origins}))
	// The faces' subtrees skip the mux's lookup (httpx.Mounts.Shortcut).
	faces := mux.Shortcut("/v4/", "/auth/", "/oauth/", iam.Prefix+"/", "/user/")
	return reqlog.WithOptions(logger, reqlog.Options{TrustProxyHeaders: c.trustProxy, Observe: c.observe, Lines: c.lines},
		httpx.SecurityHeaders(c.trustProxy, httpx.Deadline(c.requestTimeout, faces)))
}

// healthz answers 200 {"status":"ok"} while the database answers reads
// and takes writes, and 503 otherwise, for load balancers and
// orchestrators: a full disk fails every write while reads still work.
// With draining (GET /readyz), it also answers 503 {"status":"draining"}
// from SIGTERM on. GET /livez says only that the process serves.
func healthz(st core.Store, logger *slog.Logger, draining *atomic.Bool) http.Handler {
	route := "GET /healthz"
	if draining != nil {
		route = "GET /readyz"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqlog.SetRoute(r.Context(), route)
		if draining != nil && draining.Load() {
			writeHealth(w, http.StatusServiceUnavailable, "draining")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		status, body := http.StatusOK, "ok"
		if err := checkStore(ctx, st); err != nil {
			logger.LogAttrs(r.Context(), slog.LevelError, "health check: the database does not answer",
				slog.String("error", err.Error()), slog.String("request_id", reqlog.RequestID(r.Context())))
			status, body = http.StatusServiceUnavailable, "unavailable"
		}
		writeHealth(w, status, body)
	})
}

func writeHealth(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"status": body})
}

// checkStore reads from the database and writes to it: a counter row of
// its own, counted in a one-second window, the smallest write a store makes.
func checkStore(ctx context.Context, st core.Store) error {
	if err := st.Ping(ctx); err != nil {
		return err
	}
	return st.Update(ctx, func(tx core.Tx) error {
		_, _, err := tx.HitLimit(ctx, "healthz:write", time.Second, time.Now())
		return err
	})
}

// newLogger writes structured logs to w, as JSON unless format is "text".
func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch strings.ToLower(format) {
	case "", "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	}
	return nil, usagef("--log-format (PROFILED_LOG_FORMAT) must be json or text, not %q", format)
}

// baseURL is the URL a client on this machine uses to reach addr: an
// unspecified host (0.0.0.0, ::) is reached on loopback.
func baseURL(addr net.Addr, tls bool) string {
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if ip.To4() != nil {
			host = "127.0.0.1"
		} else {
			host = "::1"
		}
	}
	return scheme + net.JoinHostPort(host, port)
}

// showBootstrap hands over the first token, the only time it is ever
// shown: on stdout when that is a terminal (a person reads it); otherwise
// (a service manager, whose journal would keep stdout) into the file path,
// readable by its owner only, and stdout says where. Never in the log.
func showBootstrap(w io.Writer, token, base, path string) error {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		printBootstrap(w, token, base)
		return nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("bootstrap token file: %w", err)
	}
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write the first token to %s: %w (choose another place with --bootstrap-token-file)", abs, err)
	}
	_, err = fmt.Fprintln(f, token)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(abs, 0o600) // an existing file keeps its mode through O_TRUNC
	}
	if err != nil {
		return fmt.Errorf("write the first token to %s: %w", abs, err)
	}
	fmt.Fprintf(w, "profiled: the database was empty, so it now has the user \"admin\", whose token (every scope, \"*\") is in %s (mode 0600).\n"+
		"Read it, keep it like a password, and delete the file: TOKEN=$(cat %s) && rm %s\n"+
		"Then, for example: curl -H \"Authorization: Bearer $TOKEN\" %s/v4/profile\n", abs, abs, abs, base)
	return nil
}

// bootstrapTokenPath is where showBootstrap writes the token for a server
// without a terminal.
func bootstrapTokenPath(c serveConfig) string {
	if c.tokenFile != "" {
		return c.tokenFile
	}
	if !c.db.isPostgres() {
		return filepath.Join(filepath.Dir(c.db.sqlitePath()), "profiled-bootstrap-token")
	}
	return "profiled-bootstrap-token"
}

// printBootstrap shows the first token to a person at a terminal.
func printBootstrap(w io.Writer, token, base string) {
	fmt.Fprintf(w, `profiled: the database was empty, so it now has the user "admin" and a token with every scope ("*").
The token is shown only this once; keep it secret, like a password:

    TOKEN=%s

Use it as a bearer token, for example:

    curl -H "Authorization: Bearer $TOKEN" %s/v4/profile

Make more users and tokens with "profiled users create" and "profiled tokens create".

`, token, base)
}

// quotaConfig holds the --quota-* flags.
type quotaConfig struct{ sshKeys, tokens, oauthClients, users, preferenceBytes int64 }

func quotaFlags(fs *flagSet) *quotaConfig {
	c := &quotaConfig{}
	d := core.DefaultQuotas
	fs.envInt64(&c.sshKeys, "quota-ssh-keys", "PROFILED_QUOTA_SSH_KEYS", int64(d.SSHKeys),
		"each user keeps at most `N` SSH keys: past it, adding one answers 400, saying to delete one first")
	fs.envInt64(&c.tokens, "quota-tokens", "PROFILED_QUOTA_TOKENS", int64(d.PersonalTokens),
		"each user keeps at most `N` live personal access tokens: past it, creating one answers 400 (the command line's tokens create counts toward it, but may pass it)")
	fs.envInt64(&c.oauthClients, "quota-oauth-clients", "PROFILED_QUOTA_OAUTH_CLIENTS", int64(d.OAuthClients),
		"each account registers at most `N` OAuth clients through /account/oauth-clients: past it, registering one answers 400")
	fs.envInt64(&c.users, "quota-users", "PROFILED_QUOTA_USERS", int64(d.AccountUsers),
		"an account may have at most `N` users, its owners included, when one more is added through /account/users: past it, adding one answers 400 (the command line's users create may pass it)")
	fs.envInt64(&c.preferenceBytes, "quota-preferences-bytes", "PROFILED_QUOTA_PREFERENCES_BYTES", int64(d.PreferenceBytes),
		"each user's preferences, in every namespace together (/v4/profile/preferences and every client's), take at most `BYTES`: past it, a PUT answers 409 (400 on the Linode face)")
	return c
}

func (c *quotaConfig) core() core.Quotas {
	return core.Quotas{SSHKeys: int(c.sshKeys), PersonalTokens: int(c.tokens), OAuthClients: int(c.oauthClients), AccountUsers: int(c.users),
		PreferenceBytes: int(c.preferenceBytes)}
}
