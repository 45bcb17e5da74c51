package reqlog

import (
	"io"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Lines writes each request's line itself, byte for byte as slog's JSON
// handler (or, with Text, its text handler) would write the same record,
// without a record: through slog, the line cost as much CPU as the rest of
// a cached GET /v4/profile's handler (about 3 µs a request measured,
// issue 16), most of it the record's attributes, json.Marshal of the one
// float, and the handler's generic paths. TestLinesMatchSlog holds the
// two to the same bytes.
type Lines struct {
	W    io.Writer // one Write per line, as a slog handler does
	Text bool
}

// line is one request's fields, in the order they are logged.
type line struct {
	time      time.Time
	method    string
	route     string
	status    int
	duration  time.Duration
	bytes     int64
	userID    int64
	requestID string
	client    string
	userAgent string
}

var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (l *Lines) write(ln *line) {
	bp := lineBuffers.Get().(*[]byte)
	if l.Text {
		l.put(bp, ln.appendText((*bp)[:0]))
	} else {
		l.put(bp, ln.appendJSON((*bp)[:0]))
	}
}

func (l *Lines) writeEvent(ev *eventLine) {
	bp := lineBuffers.Get().(*[]byte)
	if l.Text {
		l.put(bp, ev.appendText((*bp)[:0]))
	} else {
		l.put(bp, ev.appendJSON((*bp)[:0]))
	}
}

// put writes the line b and keeps its buffer for the next one.
func (l *Lines) put(bp *[]byte, b []byte) {
	_, _ = l.W.Write(b)
	if cap(b) <= 4<<10 {
		*bp = b
		lineBuffers.Put(bp)
	}
}

// durationMillis is the duration_ms field: whole microseconds in
// milliseconds.
func (ln *line) durationMillis() float64 { return float64(ln.duration.Microseconds()) / 1000 }

// appendMillis appends us/1000 as JSON writes that float64: what
// json.Marshal writes from 0 to 1e21 is the shortest decimal, without an
// exponent, strconv.AppendFloat(b, float64(us)/1000, 'f', -1, 64). Below
// 2^40 µs (35 years), where doubles are closer together than 0.0005, that
// decimal is us/1000 written out, with at most three fraction digits and
// no trailing zeros, which integers make in a quarter of the time (21
// against 80 ns, hot; the float had 2% of GET /auth/verify's CPU samples
// under the harness's load). TestAppendMillis holds the two to the same
// bytes.
func appendMillis(b []byte, us int64) []byte {
	if us < 0 || us >= 1<<40 {
		return strconv.AppendFloat(b, float64(us)/1000, 'f', -1, 64)
	}
	b = strconv.AppendInt(b, us/1000, 10)
	frac := us % 1000
	if frac == 0 {
		return b
	}
	d := [4]byte{'.', byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := len(d)
	for d[n-1] == '0' {
		n--
	}
	return append(b, d[:n]...)
}

// appendJSONStart starts a JSON line at level INFO as slog's handler does,
// up to its message; appendTextStart the same in the text format.
func appendJSONStart(b []byte, t time.Time, msg string) []byte {
	b = append(b, `{"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":`...)
	return appendJSONString(b, msg)
}

func appendTextStart(b []byte, t time.Time, msg string) []byte {
	b = append(b, "time="...)
	b = t.Truncate(time.Millisecond).AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, " level=INFO msg="...)
	return appendTextString(b, msg)
}

// appendJSONRequest appends the fields a line has of its request;
// appendTextRequest the same in the text format.
func appendJSONRequest(b []byte, id, client, userAgent string) []byte {
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"client":`...)
	b = appendJSONString(b, client)
	b = append(b, `,"user_agent":`...)
	return appendJSONString(b, userAgent)
}

func appendTextRequest(b []byte, id, client, userAgent string) []byte {
	b = append(b, " request_id="...)
	b = appendTextString(b, id)
	b = append(b, " client="...)
	b = appendTextString(b, client)
	b = append(b, " user_agent="...)
	return appendTextString(b, userAgent)
}

func (ln *line) appendJSON(b []byte) []byte {
	b = appendJSONStart(b, ln.time, "request")
	b = append(b, `,"method":`...)
	b = appendJSONString(b, ln.method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, ln.route)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(ln.status), 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(ln.duration), 10)
	b = append(b, `,"duration_ms":`...)
	b = appendMillis(b, ln.duration.Microseconds())
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, ln.bytes, 10)
	b = append(b, `,"user_id":`...)
	b = strconv.AppendInt(b, ln.userID, 10)
	b = appendJSONRequest(b, ln.requestID, ln.client, ln.userAgent)
	return append(b, "}\n"...)
}

func (ln *line) appendText(b []byte) []byte {
	b = appendTextStart(b, ln.time, "request")
	b = append(b, " method="...)
	b = appendTextString(b, ln.method)
	b = append(b, " route="...)
	b = appendTextString(b, ln.route)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(ln.status), 10)
	b = append(b, " duration="...)
	b = appendTextString(b, ln.duration.String())
	b = append(b, " duration_ms="...)
	b = strconv.AppendFloat(b, ln.durationMillis(), 'g', -1, 64)
	b = append(b, " bytes="...)
	b = strconv.AppendInt(b, ln.bytes, 10)
	b = append(b, " user_id="...)
	b = strconv.AppendInt(b, ln.userID, 10)
	b = appendTextRequest(b, ln.requestID, ln.client, ln.userAgent)
	return append(b, '\n')
}

// eventLine is one security event's fields at level INFO, in the order
// SecurityEvents logs them; detail is left out when empty, and the
// request's fields outside a request.
type eventLine struct {
	time     time.Time
	event    string
	userID   int64
	username string
	detail   string
	request  *entry
}

func (ev *eventLine) appendJSON(b []byte) []byte {
	b = appendJSONStart(b, ev.time, "security event")
	b = append(b, `,"event":`...)
	b = appendJSONString(b, ev.event)
	b = append(b, `,"user_id":`...)
	b = strconv.AppendInt(b, ev.userID, 10)
	b = append(b, `,"username":`...)
	b = appendJSONString(b, ev.username)
	if ev.detail != "" {
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, ev.detail)
	}
	if r := ev.request; r != nil {
		b = appendJSONRequest(b, r.id, r.client, r.userAgent)
	}
	return append(b, "}\n"...)
}

func (ev *eventLine) appendText(b []byte) []byte {
	b = appendTextStart(b, ev.time, "security event")
	b = append(b, " event="...)
	b = appendTextString(b, ev.event)
	b = append(b, " user_id="...)
	b = strconv.AppendInt(b, ev.userID, 10)
	b = append(b, " username="...)
	b = appendTextString(b, ev.username)
	if ev.detail != "" {
		b = append(b, " detail="...)
		b = appendTextString(b, ev.detail)
	}
	if r := ev.request; r != nil {
		b = appendTextRequest(b, r.id, r.client, r.userAgent)
	}
	return append(b, '\n')
}

// jsonSafe reports whether an ASCII byte stands for itself inside a JSON
// string: all but the control characters, '"' and '\'.
func jsonSafe(c byte) bool { return c >= 0x20 && c != '"' && c != '\\' }

// appendJSONString appends s as a JSON string: control characters,
// quotes and backslashes escaped, invalid UTF-8 as U+FFFD, and U+2028 and
// U+2029 escaped so that the line stays one line of JavaScript too.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe(c) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendTextString appends s as slog's text handler does: as it is when
// nothing in it could be mistaken for a separator, else Go-quoted.
func appendTextString(b []byte, s string) []byte {
	if textNeedsQuotes(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func textNeedsQuotes(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c != '\\' && (c == ' ' || c == '=' || !jsonSafe(c)) {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}
