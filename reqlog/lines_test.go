package reqlog

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// slogLine is what a slog handler writes for ln, through the attributes
// the middleware logged before Lines.
func slogLine(ln *line, text bool) string {
	var buf bytes.Buffer
	var h slog.Handler = slog.NewJSONHandler(&buf, nil)
	if text {
		h = slog.NewTextHandler(&buf, nil)
	}
	r := slog.NewRecord(ln.time, slog.LevelInfo, "request", 0)
	r.AddAttrs(
		slog.String("method", ln.method),
		slog.String("route", ln.route),
		slog.Int("status", ln.status),
		slog.Duration("duration", ln.duration),
		slog.Float64("duration_ms", float64(ln.duration.Microseconds())/1000),
		slog.Int64("bytes", ln.bytes),
		slog.Int64("user_id", ln.userID),
		slog.String("request_id", ln.requestID),
		slog.String("client", ln.client),
		slog.String("user_agent", ln.userAgent),
	)
	_ = h.Handle(context.Background(), r)
	return buf.String()
}

// TestLinesMatchSlog: Lines writes the very bytes slog's handlers write,
// for strings with everything JSON and the text format must escape or
// quote, and for durations and times of every size.
func TestLinesMatchSlog(t *testing.T) {
	strs := []string{"", "GET", "GET /v4/profile", "curl/8.5.0", `a"b\c`, "tab\there", "new\nline", "cr\r",
		"\x00\x01\x1f\x7f", "=", "a=b", "ünïcödé", "emoji 😀", "bad \xff utf8", "\u2028\u2029", "\u00a0nbsp",
		"\u200bzero width", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "{}", "<>&", "é\xc3"}
	durations := []time.Duration{0, 1, 999, time.Microsecond, 1234567, time.Millisecond, 999 * time.Millisecond,
		time.Second, 90 * time.Minute, 1000 * time.Second, 1<<62 + 12345}
	rng := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.FixedZone("", 2*3600+30*60), time.FixedZone("", -5*3600)}
	var lines Lines
	for i := range 3000 {
		pick := func() string {
			if i%3 == 0 {
				// Random bytes: every escape, valid or not.
				b := make([]byte, rng.IntN(12))
				for j := range b {
					b[j] = byte(rng.IntN(256))
				}
				return string(b)
			}
			return strs[rng.IntN(len(strs))]
		}
		ln := &line{
			time:   time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))]),
			method: pick(), route: pick(), status: rng.IntN(600), duration: durations[rng.IntN(len(durations))],
			bytes: rng.Int64N(1 << 40), userID: rng.Int64N(1<<62) - 1<<61, requestID: pick(), client: pick(), userAgent: pick(),
		}
		for _, text := range []bool{false, true} {
			lines.Text = text
			got := string(func() []byte {
				if text {
					return ln.appendText(nil)
				}
				return ln.appendJSON(nil)
			}())
			if want := slogLine(ln, text); got != want {
				t.Fatalf("text %v:\n got %q\nwant %q", text, got, want)
			}
		}
	}
	// The middleware's writer: one Write per line.
	var out bytes.Buffer
	lines = Lines{W: &out}
	lines.write(&line{time: time.Now(), method: "GET", route: "GET /x", status: 200})
	if strings.Count(out.String(), "\n") != 1 || !strings.Contains(out.String(), `"route":"GET /x"`) {
		t.Errorf("write: %q", out.String())
	}
}

// TestAppendMillis: the duration_ms of a JSON line is what strconv, and
// so slog and encoding/json, write for the float, for every duration of
// up to two seconds, around the powers of ten and two, and at random
// below and above the integer path's bound.
func TestAppendMillis(t *testing.T) {
	check := func(us int64) {
		want := strconv.AppendFloat(nil, float64(us)/1000, 'f', -1, 64)
		if got := appendMillis(nil, us); string(got) != string(want) {
			t.Fatalf("appendMillis(%d) = %s, want %s", us, got, want)
		}
	}
	for us := int64(0); us <= 2_000_000; us++ {
		check(us)
	}
	for p := int64(1); p > 0 && p < 1<<62; p *= 10 {
		for _, us := range []int64{p - 1, p, p + 1, p + 999} {
			check(us)
		}
	}
	for e := 0; e < 63; e++ {
		for _, d := range []int64{-1, 0, 1, 7} {
			check(int64(1)<<e + d)
		}
	}
	rng := rand.New(rand.NewPCG(4, 2))
	for range 1_000_000 {
		check(rng.Int64N(1 << 41))
	}
	check(-1)
	check(-1234)
}

// TestEventLinesMatchSlog: a security event's line from Lines is the very
// bytes slog's handlers write for its attributes (the ones
// SecurityEvents logs through slog), with and without a detail and a
// request, for strings with everything JSON and the text format escape.
func TestEventLinesMatchSlog(t *testing.T) {
	strs := []string{"", "ssh_key.added", "alice", `a"b\c`, "tab\there", "new\nline", "\x00\x1f\x7f", "a=b",
		"ünïcödé 😀", "bad \xff utf8", "\u2028\u2029", "\u00a0nbsp", "Mozilla/5.0 (X11)", "<>&"}
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func() string {
		if rng.IntN(3) == 0 {
			b := make([]byte, rng.IntN(12))
			for j := range b {
				b[j] = byte(rng.IntN(256))
			}
			return string(b)
		}
		return strs[rng.IntN(len(strs))]
	}
	for range 3000 {
		ev := &eventLine{time: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(time.FixedZone("", rng.IntN(25)*1800-12*3600)),
			event: pick(), userID: rng.Int64N(1<<62) - 1<<61, username: pick()}
		if rng.IntN(2) == 0 {
			ev.detail = pick()
		}
		if rng.IntN(2) == 0 {
			ev.request = &entry{id: pick(), client: pick(), userAgent: pick()}
		}
		for _, text := range []bool{false, true} {
			var buf bytes.Buffer
			var h slog.Handler = slog.NewJSONHandler(&buf, nil)
			got := ev.appendJSON(nil)
			if text {
				h, got = slog.NewTextHandler(&buf, nil), ev.appendText(nil)
			}
			r := slog.NewRecord(ev.time, slog.LevelInfo, "security event", 0)
			r.AddAttrs(ev.attrs()...)
			_ = h.Handle(context.Background(), r)
			if string(got) != buf.String() {
				t.Fatalf("text %v:\n got %q\nwant %q", text, got, buf.String())
			}
		}
	}
}
