package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/keytest"
	"github.com/profiled/profiled/internal/pgtest"
)

var metricsLine = regexp.MustCompile(`^profiled: metrics on (http://\S+)$`)

// metricsURL is where serve, with --metrics-addr, said the metrics are.
func (s *server) metricsURL(t *testing.T) string {
	t.Helper()
	for _, line := range strings.Split(s.stdout.String(), "\n") {
		if m := metricsLine.FindStringSubmatch(line); m != nil {
			return m[1]
		}
	}
	t.Fatalf("serve did not say where the metrics are:\n%s", s.stdout)
	return ""
}

// scrape fetches and parses the exposition as Prometheus does.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the exposition does not parse: %v", err)
	}
	return families
}

// sample finds the metric of family name whose labels include want.
func sample(families map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := families[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func TestMetrics(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		_, db := tempDB(t)
		testMetrics(t, map[string]string{"PROFILED_DB": db}, "sqlite_write", 1)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, _ := pgtest.Schema(t)
		testMetrics(t, map[string]string{"PROFILED_DB": dsn, "PROFILED_SECRET_KEY": strings.Repeat("0123456789abcdef", 4)},
			"postgres", 0)
	})
}

// testMetrics serves with env, makes requests, and checks what the
// metrics say of them; pool is the pool to find, of size poolMax (0: any).
func testMetrics(t *testing.T, env map[string]string, pool string, poolMax float64) {
	s := startServe(t, env, "--metrics-addr", "127.0.0.1:0", "--bootstrap-token-file", t.TempDir()+"/token")
	metricsAt := s.metricsURL(t)

	if status, _ := call(t, "POST", s.base+"/auth/login", "", `{"username":"admin","password":"not the password at all"}`); status != http.StatusUnauthorized {
		t.Fatalf("a wrong password: %d", status)
	}
	for i := 0; i < 3; i++ {
		profileUsername(t, s.base, s.token)
	}
	if status, body := call(t, "POST", s.base+"/v4/profile/phone-number", s.token, `{"iso_code":"US","phone_number":"650-253-0000"}`); status != http.StatusOK {
		t.Fatalf("POST /v4/profile/phone-number: %d %s", status, body)
	}
	// A client whose jwks_uri fails: its assertion is refused, and the
	// read is counted and logged, naming the URL.
	gone := httptest.NewServer(http.NotFoundHandler())
	defer gone.Close()
	out := mustRun(t, env, "oauth-clients", "create", "--label", "Bank", "--website", "https://bank.example",
		"--redirect-uri", "https://bank.example/cb", "--jwks-uri", gone.URL+"/jwks.json")
	bank := regexp.MustCompile(`client_id=(\S+)`).FindStringSubmatch(out)
	if bank == nil {
		t.Fatalf("create --jwks-uri printed %q", out)
	}
	assertion := keytest.New(t, "k1").Assertion(t, bank[1], s.base+"/oauth/introspect", "jti-1", time.Now())
	resp, err := http.PostForm(s.base+"/oauth/introspect", url.Values{"token": {"x"}, "client_assertion_type": {core.ClientAssertionType},
		"client_assertion": {assertion}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(s.stderr.String(), gone.URL+"/jwks.json") {
		t.Errorf("an assertion of a client whose jwks_uri fails: %d; log:\n%s", resp.StatusCode, s.stderr)
	}

	// The metrics are not on the API's listener.
	if status, _ := call(t, "GET", s.base+"/metrics", "", ""); status != http.StatusNotFound {
		t.Errorf("GET /metrics on the API listener = %d, want 404", status)
	}

	// A request is counted once it is answered: the last one may still be
	// on its way to the counter when the client has its answer.
	var fams map[string]*dto.MetricFamily
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		fams = scrape(t, metricsAt)
		m := sample(fams, "profiled_http_requests_total", map[string]string{"face": "none", "route": "unmatched", "status": "404"})
		if m != nil || time.Now().After(deadline) {
			break
		}
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"profiled_http_requests_total", map[string]string{"face": "signin", "route": "POST /auth/login", "status": "401"}, 1},
		{"profiled_http_requests_total", map[string]string{"face": "linode", "route": "GET /profile", "status": "200"}, 3},
		{"profiled_security_events_total", map[string]string{"event": "signin.failed"}, 1},
		{"profiled_sms_total", map[string]string{"result": "sent"}, 1},
		{"profiled_client_key_set_reads_total", map[string]string{"result": "failed"}, 1},
	} {
		m := sample(fams, tc.name, tc.labels)
		if m == nil || m.GetCounter().GetValue() != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, m, tc.want)
		}
	}
	// Bootstrap, the failed sign-in and the code sent wrote.
	if u := sample(fams, "profiled_db_update_duration_seconds", map[string]string{"result": "committed"}); u == nil || u.GetHistogram().GetSampleCount() == 0 {
		t.Errorf("no committed write transaction measured: %v", u)
	}
	h := sample(fams, "profiled_http_request_duration_seconds", map[string]string{"face": "linode", "route": "GET /profile"})
	if h == nil || h.GetHistogram().GetSampleCount() != 3 || h.GetHistogram().GetSampleSum() <= 0 {
		t.Errorf("latency histogram of GET /v4/profile = %v", h)
	}
	if m := sample(fams, "profiled_db_pool_connections_max", map[string]string{"pool": pool}); m == nil ||
		m.GetGauge().GetValue() <= 0 || (poolMax != 0 && m.GetGauge().GetValue() != poolMax) {
		t.Errorf("the %s pool's size = %v, want %v", pool, m, poolMax)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "profiled_db_pool_connections_in_use"} {
		if fams[name] == nil {
			t.Errorf("no %s in the exposition", name)
		}
	}
}
