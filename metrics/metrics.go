// Package metrics is profiled's Prometheus exposition
// (github.com/prometheus/client_golang, the reference client): requests by
// face, route and status with latency histograms, security events (sign-in
// failures and lockouts among them), database pool statistics, and the Go
// runtime and process collectors. cmd/profiled serves it on
// --metrics-addr, a listener apart from the API's, so it need not be
// exposed where the API is.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/reqlog"
)

// Metrics holds profiled's collectors, on a registry of its own (not the
// process-global default one, so tests can build several).
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	events   *prometheus.CounterVec
	sms      *prometheus.CounterVec
	updates  *prometheus.HistogramVec
	delivery *prometheus.CounterVec
	keySets  *prometheus.CounterVec
	pools    *poolCollector
}

// latencyBuckets span 0.5 ms to 10 s, for requests and transactions
// alike: the same scale, so the two read side by side.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New builds the collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "profiled_http_requests_total",
			Help: "HTTP requests answered, by face, route pattern and status code.",
		}, []string{"face", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "profiled_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by face and route pattern.",
			Buckets: latencyBuckets,
		}, []string{"face", "route"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "profiled_security_events_total",
			Help: "Security events reported by the core (signin.failed and signin.locked among them), by event.",
		}, []string{"event"}),
		sms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "profiled_sms_total",
			Help: "Text messages handed to the SMS sender, by result: sent, or failed (the sender refused or did not answer).",
		}, []string{"result"}),
		updates: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "profiled_db_update_duration_seconds",
			Help:    "Time of a write transaction of the store, queueing and retries included, by result: committed, or rolled back.",
			Buckets: latencyBuckets,
		}, []string{"result"}),
		delivery: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "profiled_outbox_deliveries_total",
			Help: "Deliveries of outbox messages (the events webhook, mail), by topic and result: delivered, failed (tried again later), or dropped (can never be delivered, such as a mail to a mailbox the server says does not exist).",
		}, []string{"topic", "result"}),
		keySets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "profiled_client_key_set_reads_total",
			Help: "Reads of the key sets OAuth clients publish at their jwks_uri, by result: read, or failed (the client's assertions are refused until it answers).",
		}, []string{"result"}),
		pools: &poolCollector{},
	}
	m.reg.MustRegister(m.requests, m.latency, m.events, m.sms, m.updates, m.delivery, m.keySets, m.pools,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the exposition, in the text or protobuf format the scraper asks for.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Observe counts one answered request (a reqlog.Options.Observe).
func (m *Metrics) Observe(o reqlog.Observed) {
	face := FaceOf(o.Route)
	m.requests.WithLabelValues(face, o.Route, strconv.Itoa(o.Status)).Inc()
	m.latency.WithLabelValues(face, o.Route).Observe(o.Duration.Seconds())
}

// FaceOf names the face a route pattern ("GET /profile") belongs to: the
// Linode face owns every path the others do not (its patterns carry no
// /v4 prefix). Route patterns, not paths, label the series, so their
// number stays bounded whatever paths clients ask for; "unmatched" is every
// request no route took.
func FaceOf(route string) string {
	if route == "unmatched" {
		return "none"
	}
	_, path, _ := strings.Cut(route, " ")
	switch {
	case strings.HasPrefix(path, "/iam/"):
		return "iam"
	case strings.HasPrefix(path, "/user/"):
		return "preferences"
	case strings.HasPrefix(path, "/auth/"), strings.HasPrefix(path, "/oauth/"), path == "/logout",
		strings.HasPrefix(path, "/forgot/"), strings.HasPrefix(path, "/.well-known/"):
		return "signin"
	case path == "/livez", path == "/readyz", path == "/healthz":
		return "health"
	}
	return "linode"
}

// Events is a core.EventSink that counts each event and passes it on to next.
func (m *Metrics) Events(next core.EventSink) core.EventSink {
	return eventCounter{m: m, next: next}
}

type eventCounter struct {
	m    *Metrics
	next core.EventSink
}

func (c eventCounter) Event(ctx context.Context, e core.Event) {
	c.m.events.WithLabelValues(e.Name).Inc()
	if c.next != nil {
		c.next.Event(ctx, e)
	}
}

// SMS is a core.SMSSender that counts what next sends and fails to.
func (m *Metrics) SMS(next core.SMSSender) core.SMSSender { return smsCounter{m: m, next: next} }

type smsCounter struct {
	m    *Metrics
	next core.SMSSender
}

func (c smsCounter) SendSMS(ctx context.Context, to, message string) error {
	err := c.next.SendSMS(ctx, to, message)
	result := "sent"
	if err != nil {
		result = "failed"
	}
	c.m.sms.WithLabelValues(result).Inc()
	return err
}

// KeySetRead counts a read of a client's published key set, failed when
// err is not nil.
func (m *Metrics) KeySetRead(err error) {
	result := "read"
	if err != nil {
		result = "failed"
	}
	m.keySets.WithLabelValues(result).Inc()
}

// Store is st with the time of each write transaction measured.
func (m *Metrics) Store(st core.Store) core.Store { return timedStore{Store: st, m: m} }

// timedStore measures Update; the reads pass through (the request
// latency covers them).
type timedStore struct {
	core.Store
	m *Metrics
}

func (t timedStore) Update(ctx context.Context, fn func(core.Tx) error) error {
	start := time.Now()
	err := t.Store.Update(ctx, fn)
	result := "committed"
	if err != nil {
		result = "rolled_back"
	}
	t.m.updates.WithLabelValues(result).Observe(time.Since(start).Seconds())
	return err
}

// Deliveries is a core.Deliverer that counts what next delivers and fails
// to deliver, for topic.
func (m *Metrics) Deliveries(topic string, next core.Deliverer) core.Deliverer {
	return deliveryCounter{m: m, topic: topic, next: next}
}

type deliveryCounter struct {
	m     *Metrics
	topic string
	next  core.Deliverer
}

func (c deliveryCounter) Deliver(ctx context.Context, msg core.OutboxMessage) error {
	err := c.next.Deliver(ctx, msg)
	result := "delivered"
	switch {
	case errors.Is(err, core.ErrUndeliverable):
		result = "dropped"
	case err != nil:
		result = "failed"
	}
	c.m.delivery.WithLabelValues(c.topic, result).Inc()
	return err
}

// WatchOutbox exports the depth of topic's outbox, read at each scrape:
// a depth that grows is a receiver that does not take what it is sent.
func (m *Metrics) WatchOutbox(topic string, depth func(context.Context) (int, error)) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "profiled_outbox_depth",
		Help:        "Messages in the outbox not yet delivered, by topic (events, mail, recovery, backchannel-logout).",
		ConstLabels: prometheus.Labels{"topic": topic},
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := depth(ctx)
		if err != nil {
			return -1 // the database did not answer: not a depth
		}
		return float64(n)
	}))
}

// Pool is a snapshot of a database connection pool.
type Pool struct {
	Open, InUse, Idle, Max int64
	// Waits and WaitTime are how often, and how long in all, a request
	// waited for a connection: the sign that the pool is too small.
	Waits    int64
	WaitTime time.Duration
}

// WatchPool exports the pool that stat reports on, labelled pool=name
// (PostgreSQL's pool; SQLite's read and write pools).
func (m *Metrics) WatchPool(name string, stat func() Pool) {
	m.pools.mu.Lock()
	defer m.pools.mu.Unlock()
	m.pools.pools = append(m.pools.pools, watchedPool{name: name, stat: stat})
}

var (
	poolOpen  = prometheus.NewDesc("profiled_db_pool_connections", "Open database connections.", []string{"pool"}, nil)
	poolInUse = prometheus.NewDesc("profiled_db_pool_connections_in_use", "Database connections in use.", []string{"pool"}, nil)
	poolIdle  = prometheus.NewDesc("profiled_db_pool_connections_idle", "Idle database connections.", []string{"pool"}, nil)
	poolMax   = prometheus.NewDesc("profiled_db_pool_connections_max", "The most database connections the pool opens.", []string{"pool"}, nil)
	poolWaits = prometheus.NewDesc("profiled_db_pool_waits_total", "Times a request waited for a free connection.", []string{"pool"}, nil)
	poolWait  = prometheus.NewDesc("profiled_db_pool_wait_seconds_total", "Time requests waited for a free connection.", []string{"pool"}, nil)
)

// poolCollector reports every watched pool under the same descriptors.
type poolCollector struct {
	mu    sync.Mutex
	pools []watchedPool
}

type watchedPool struct {
	name string
	stat func() Pool
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolOpen, poolInUse, poolIdle, poolMax, poolWaits, poolWait} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	pools := c.pools
	c.mu.Unlock()
	for _, w := range pools {
		p := w.stat()
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(p.Open), w.name)
		ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(p.InUse), w.name)
		ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(p.Idle), w.name)
		ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(p.Max), w.name)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(p.Waits), w.name)
		ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, p.WaitTime.Seconds(), w.name)
	}
}
