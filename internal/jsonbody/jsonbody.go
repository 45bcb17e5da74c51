// Package jsonbody reads one JSON object from a stream under limits (how
// many top-level keys, how long a key, how large a value, how large the
// whole body) and returns it compact, refusing at the first byte that breaks
// a limit, so a body that breaks one is never held whole. Errors name the
// JSON Pointer of the offending member. The core's per-client preferences
// give the limits and word the errors; this package is only the reading.
package jsonbody

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits bound an object.
type Limits struct {
	MaxKeys       int   // top-level keys
	MaxKeyBytes   int   // a key, in bytes of UTF-8 once its escapes are decoded
	MaxValueBytes int   // the value of one key, in bytes of its compact JSON
	MaxBodyBytes  int64 // the whole body as sent, whitespace included
}

const (
	// maxDepth is encoding/json's nesting limit, the object itself included.
	maxDepth = 10000
	// maxKeyEcho is how much of a key (as sent) is read, at least, to
	// name it in an error once it is known to be too long. Past it (or
	// past what MaxKeyBytes escaped could take), the error names a prefix.
	maxKeyEcho = 1024
)

// Problem says which rule a body broke.
type Problem int

const (
	InvalidJSON   Problem = iota + 1 // not JSON, or invalid UTF-8, or nested too deep
	NotAnObject                      // JSON, but not an object
	DuplicateKey                     // a top-level key given twice
	TooManyKeys                      // more than MaxKeys
	KeyTooLong                       // a key longer than MaxKeyBytes
	ValueTooLarge                    // a value larger than MaxValueBytes
	BodyTooLarge                     // more than MaxBodyBytes sent
	Unreadable                       // the stream failed before its end
)

// Error is a body refused: the problem, the JSON Pointer of the member at
// fault ("" for the whole body) and a sentence for people.
type Error struct {
	Problem Problem
	Pointer string
	Reason  string
}

func (e *Error) Error() string { return e.Reason }

// Read reads one JSON object from r and returns it compact (byte for
// byte what json.Compact makes of it), checking l as it reads: the first byte that breaks one ends the read,
// so a body that breaks a limit is never held whole. It also refuses
// invalid JSON, invalid UTF-8, nesting deeper than encoding/json allows and
// a key given twice. Errors are *Error; Pointer is the JSON Pointer of
// the offending top-level member ("/theme"), or empty for the whole body.
//
// size is the body's length if known (Content-Length), else -1. It is a
// hint: with it, the object is gathered in one allocation of that size,
// made once half of it has arrived, so a false length costs at most twice
// what was really sent. Memory: the compact object, plus a 32 KiB read
// buffer, plus (without size, or before half of it has arrived) the chunks
// it is gathered in before they are joined.
func Read(r io.Reader, size int64, l Limits) (out json.RawMessage, err error) {
	p := &prefsReader{r: r, buf: make([]byte, 32<<10), lim: l}
	if size > 0 {
		p.out.hint = int(min(size, l.MaxBodyBytes))
	}
	defer func() {
		if v := recover(); v != nil {
			pe, ok := v.(prefsFailure)
			if !ok {
				panic(v)
			}
			out, err = nil, pe.err
		}
	}()
	p.object()
	return p.out.bytes(), nil
}

// prefsFailure carries an error out of the recursive reader.
type prefsFailure struct{ err error }

// prefsReader is a JSON reader over a byte stream that copies what it
// reads, minus insignificant whitespace, to out.
type prefsReader struct {
	r        io.Reader
	buf      []byte
	pos, end int   // unread input is buf[pos:end]
	total    int64 // bytes read from r
	eof      bool

	out spool
	lim Limits

	key     string // JSON Pointer of the member whose value is being read
	inValue bool
	size    int // compact bytes of that value so far
}

func (p *prefsReader) fail(err *Error) { panic(prefsFailure{err}) }

// offset is the position, in bytes from the start of the body, of buf[pos].
func (p *prefsReader) offset() int64 { return p.total - int64(p.end-p.pos) }

func (p *prefsReader) syntax(format string, args ...any) {
	p.fail(&Error{Problem: InvalidJSON, Pointer: p.key,
		Reason: fmt.Sprintf("Request body is not valid JSON: %s at byte %d", fmt.Sprintf(format, args...), p.offset())})
}

// more reads input until at least n bytes are unread, or the input ends;
// it reports whether n bytes are there.
func (p *prefsReader) more(n int) bool {
	for p.end-p.pos < n {
		if p.eof {
			return false
		}
		if p.pos > 0 {
			p.end = copy(p.buf, p.buf[p.pos:p.end])
			p.pos = 0
		}
		m, err := p.r.Read(p.buf[p.end:])
		p.end += m
		p.total += int64(m)
		if p.total > p.lim.MaxBodyBytes {
			p.fail(&Error{Problem: BodyTooLarge,
				Reason: fmt.Sprintf("The request body is larger than %d bytes", p.lim.MaxBodyBytes)})
		}
		if errors.Is(err, io.EOF) {
			p.eof = true
		} else if err != nil {
			p.fail(&Error{Problem: Unreadable,
				Reason: fmt.Sprintf("The request body could not be read to its end (after %d bytes)", p.total)})
		}
	}
	return true
}

// nonSpace consumes whitespace and returns the next byte, consumed; ok is
// false at the end of the input.
func (p *prefsReader) nonSpace() (c byte, ok bool) {
	for {
		for p.pos < p.end {
			c = p.buf[p.pos]
			p.pos++
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				return c, true
			}
		}
		if !p.more(1) {
			return 0, false
		}
	}
}

// mustNonSpace is nonSpace where the input may not end.
func (p *prefsReader) mustNonSpace(expecting string) byte {
	c, ok := p.nonSpace()
	if !ok {
		p.syntax("unexpected end of input, expecting %s", expecting)
	}
	return c
}

// emit copies b to the output and counts it against the current value.
func (p *prefsReader) emit(b []byte) {
	p.out.write(b)
	if p.inValue {
		p.size += len(b)
		if p.size > p.lim.MaxValueBytes {
			p.valueTooLarge()
		}
	}
}

func (p *prefsReader) valueTooLarge() {
	p.fail(&Error{Problem: ValueTooLarge, Pointer: p.key,
		Reason: fmt.Sprintf("The value of %s is larger than %d bytes of JSON", quotePointer(p.key), p.lim.MaxValueBytes)})
}

// emitByte is emit for one byte, the common case of structure.
func (p *prefsReader) emitByte(c byte) {
	if !p.out.writeByte(c) {
		b := [1]byte{c}
		p.out.write(b[:])
	}
	if p.inValue {
		p.size++
		if p.size > p.lim.MaxValueBytes {
			p.valueTooLarge()
		}
	}
}

// object reads the top-level object and what follows it.
func (p *prefsReader) object() {
	c, ok := p.nonSpace()
	if !ok {
		p.fail(&Error{Problem: InvalidJSON, Reason: "The request body is empty: send a JSON object"})
	}
	if c != '{' {
		p.fail(&Error{Problem: NotAnObject, Reason: "The request body must be a JSON object"})
	}
	p.emitByte('{')
	seen := make(map[string]bool, p.lim.MaxKeys)
	c = p.mustNonSpace("a key or '}'")
	if c != '}' {
		for {
			if c != '"' {
				p.syntax("expecting a string key, found %q", c)
			}
			raw, name := p.topKey()
			if len(seen) == p.lim.MaxKeys {
				p.fail(&Error{Problem: TooManyKeys, Pointer: p.key,
					Reason: fmt.Sprintf("Preferences may have at most %d keys: %s is one too many", p.lim.MaxKeys, quotePointer(p.key))})
			}
			if seen[name] {
				p.fail(&Error{Problem: DuplicateKey, Pointer: p.key,
					Reason: fmt.Sprintf("The key %s is given twice", quotePointer(p.key))})
			}
			seen[name] = true
			p.emit(raw)
			if c = p.mustNonSpace("':'"); c != ':' {
				p.syntax("expecting ':' after a key, found %q", c)
			}
			p.emitByte(':')
			p.inValue, p.size = true, 0
			p.value(p.mustNonSpace("a value"), 1)
			p.inValue, p.key = false, ""
			c = p.mustNonSpace("',' or '}'")
			if c == '}' {
				break
			}
			if c != ',' {
				p.syntax("expecting ',' or '}' after a value, found %q", c)
			}
			p.emitByte(',')
			c = p.mustNonSpace("a key")
		}
	}
	p.emitByte('}')
	p.key = ""
	if c, ok := p.nonSpace(); ok {
		p.syntax("unexpected %q after the object", c)
	}
}

// topKey reads a top-level key whose opening quote was consumed. It
// returns the key as sent (quotes included) and decoded, after checking
// its length, and sets p.key to its JSON Pointer.
func (p *prefsReader) topKey() (raw []byte, name string) {
	kb := keyBuffer{b: make([]byte, 1, 64)}
	kb.b[0] = '"'
	p.key = ""
	// A key longer than this as sent decodes to more than MaxKeyBytes (an
	// escape takes at most 6 bytes for 1): stop reading it there.
	echo := max(maxKeyEcho, 6*p.lim.MaxKeyBytes+2)
	p.str(&kb, func() {
		if len(kb.b) > echo {
			p.fail(&Error{Problem: KeyTooLong,
				Reason: fmt.Sprintf("Keys may be at most %d bytes long: the key that begins %s is longer", p.lim.MaxKeyBytes, truncateKey(kb.b[1:]))})
		}
	})
	if err := json.Unmarshal(kb.b, &name); err != nil {
		p.syntax("invalid key")
	}
	p.key = pointer(name)
	if len(name) > p.lim.MaxKeyBytes {
		p.fail(&Error{Problem: KeyTooLong, Pointer: p.key,
			Reason: fmt.Sprintf("Keys may be at most %d bytes long: %s has %d", p.lim.MaxKeyBytes, quotePointer(p.key), len(name))})
	}
	return kb.b, name
}

// keyBuffer collects a key's bytes instead of emitting them.
type keyBuffer struct{ b []byte }

// truncateKey quotes the first bytes of a key as sent, for an error.
func truncateKey(b []byte) string {
	if len(b) > 64 {
		b = b[:64]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
		return fmt.Sprintf("%q...", string(b))
	}
	return fmt.Sprintf("%q", string(b))
}

// value reads one value whose first byte, c, was consumed; depth is the
// nesting depth of the container holding it.
func (p *prefsReader) value(c byte, depth int) {
	switch {
	case c == '{' || c == '[':
		if depth+1 > maxDepth {
			p.syntax("nested deeper than %d levels", maxDepth)
		}
		p.emitByte(c)
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		c = p.mustNonSpace("a value or a closing bracket")
		if c == closing {
			p.emitByte(c)
			return
		}
		for {
			if closing == '}' {
				if c != '"' {
					p.syntax("expecting a string key, found %q", c)
				}
				p.emitByte('"')
				p.str(nil, nil)
				if c = p.mustNonSpace("':'"); c != ':' {
					p.syntax("expecting ':' after a key, found %q", c)
				}
				p.emitByte(':')
				c = p.mustNonSpace("a value")
			}
			p.value(c, depth+1)
			c = p.mustNonSpace("',' or a closing bracket")
			if c == closing {
				p.emitByte(c)
				return
			}
			if c != ',' {
				p.syntax("expecting ',' or %q, found %q", closing, c)
			}
			p.emitByte(',')
			c = p.mustNonSpace("a value")
		}
	case c == '"':
		p.emitByte('"')
		p.str(nil, nil)
	case c == '-' || ('0' <= c && c <= '9'):
		p.number(c)
	case c == 't':
		p.literal(jsonTrue)
	case c == 'f':
		p.literal(jsonFalse)
	case c == 'n':
		p.literal(jsonNull)
	default:
		p.syntax("unexpected %q where a value should be", c)
	}
}

// literal reads the rest of true, false or null; its first byte was consumed.
func (p *prefsReader) literal(word []byte) {
	if !p.more(len(word)-1) || string(p.buf[p.pos:p.pos+len(word)-1]) != string(word[1:]) {
		p.syntax("invalid literal, expecting %s", word)
	}
	p.pos += len(word) - 1
	p.emit(word)
}

var (
	jsonTrue  = []byte("true")
	jsonFalse = []byte("false")
	jsonNull  = []byte("null")
	jsonQuote = []byte{'"'}
)

// digits copies a run of decimal digits and returns how many there were.
func (p *prefsReader) digits() int {
	n := 0
	for {
		i := p.pos
		for i < p.end && '0' <= p.buf[i] && p.buf[i] <= '9' {
			i++
		}
		if i > p.pos {
			n += i - p.pos
			chunk := p.buf[p.pos:i]
			p.pos = i
			p.emit(chunk)
		}
		if p.pos < p.end || !p.more(1) {
			return n
		}
	}
}

// peek returns the next byte without consuming it; ok is false at the end.
func (p *prefsReader) peek() (byte, bool) {
	if !p.more(1) {
		return 0, false
	}
	return p.buf[p.pos], true
}

// number reads a number whose first byte, c, was consumed.
func (p *prefsReader) number(first byte) {
	p.emitByte(first)
	lead := first
	if first == '-' {
		c, ok := p.peek()
		if !ok || c < '0' || c > '9' {
			p.syntax("a '-' must be followed by a digit")
		}
		p.pos++
		p.emitByte(c)
		lead = c
	}
	if lead != '0' { // no digit may follow a leading 0
		p.digits()
	}
	if c, ok := p.peek(); ok && c == '.' {
		p.pos++
		p.emitByte('.')
		if p.digits() == 0 {
			p.syntax("a '.' in a number must be followed by a digit")
		}
	}
	if c, ok := p.peek(); ok && (c == 'e' || c == 'E') {
		p.pos++
		p.emitByte(c)
		if c, ok := p.peek(); ok && (c == '+' || c == '-') {
			p.pos++
			p.emitByte(c)
		}
		if p.digits() == 0 {
			p.syntax("an exponent must have a digit")
		}
	}
}

// str reads the rest of a string whose opening quote was consumed (and
// emitted, or put in key), closing quote included. With key set, the bytes
// go to key.b and check runs after each addition; otherwise they are emitted.
func (p *prefsReader) str(key *keyBuffer, check func()) {
	out := func(b []byte) {
		if key != nil {
			key.b = append(key.b, b...)
			check()
		} else {
			p.emit(b)
		}
	}
	for {
		if p.pos == p.end && !p.more(1) {
			p.syntax("unexpected end of input in a string")
		}
		// The run of bytes that go out as they are: plain ASCII and whole,
		// valid UTF-8 sequences. Anything else goes to the switch below.
		i := p.pos
		for i < p.end {
			if plainString[p.buf[i]] {
				i++
				continue
			}
			if p.buf[i] < utf8.RuneSelf || !utf8.FullRune(p.buf[i:p.end]) {
				break
			}
			r, size := utf8.DecodeRune(p.buf[i:p.end])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		if i > p.pos {
			chunk := p.buf[p.pos:i]
			p.pos = i
			out(chunk)
			continue
		}
		switch b := p.buf[p.pos]; {
		case b == '"':
			p.pos++
			out(jsonQuote)
			return
		case b < 0x20:
			p.syntax("control character %q in a string must be escaped", b)
		case b == '\\':
			if !p.more(2) {
				p.syntax("unexpected end of input in an escape")
			}
			switch e := p.buf[p.pos+1]; e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				chunk := p.buf[p.pos : p.pos+2]
				p.pos += 2
				out(chunk)
			case 'u':
				if !p.more(6) {
					p.syntax("unexpected end of input in a \\u escape")
				}
				for _, h := range p.buf[p.pos+2 : p.pos+6] {
					if !isHex(h) {
						p.syntax("invalid \\u escape")
					}
				}
				chunk := p.buf[p.pos : p.pos+6]
				p.pos += 6
				out(chunk)
			default:
				p.syntax("invalid escape '\\%c'", e)
			}
		default: // the first byte of a multi-byte UTF-8 sequence
			p.more(utf8.UTFMax)
			r, size := utf8.DecodeRune(p.buf[p.pos:p.end])
			if r == utf8.RuneError && size == 1 {
				p.syntax("invalid UTF-8 in a string")
			}
			chunk := p.buf[p.pos : p.pos+size]
			p.pos += size
			out(chunk)
		}
	}
}

// plainString marks the bytes a string holds as they are: printable ASCII
// but '"' and '\\'. Others end a run: the closing quote, an escape, a
// control character (invalid) or the start of a multi-byte UTF-8 sequence.
var plainString = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// pointer is the JSON Pointer (RFC 6901) of a top-level member.
func pointer(key string) string {
	return "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(key)
}

// quotePointer names a member by its pointer in an error sentence.
func quotePointer(ptr string) string { return fmt.Sprintf("%q", ptr) }

// spool collects output in chunks, so that growing it never copies what
// it holds, and joins them once at the end; or, given the expected length,
// in one buffer of that length, allocated when half of it has arrived.
type spool struct {
	full   [][]byte
	cur    []byte
	n      int
	hint   int  // the expected length, 0 if unknown
	joined bool // cur is the one buffer
}

const (
	spoolFirst = 4 << 10
	spoolMax   = 4 << 20
	// spoolSmall is the largest expected length allocated at once.
	spoolSmall = 64 << 10
)

// joinBefore reports whether the one buffer must be made before n more bytes.
func (s *spool) joinBefore(n int) bool {
	return !s.joined && s.hint > 0 && (s.hint <= spoolSmall || 2*(s.n+n) >= s.hint)
}

func (s *spool) write(b []byte) {
	if s.joinBefore(len(b)) {
		s.join(s.hint)
	}
	s.n += len(b)
	if s.joined {
		s.cur = append(s.cur, b...)
		return
	}
	for len(b) > 0 {
		if len(s.cur) == cap(s.cur) {
			if s.cur != nil {
				s.full = append(s.full, s.cur)
			}
			s.cur = make([]byte, 0, min(max(2*cap(s.cur), spoolFirst), spoolMax))
		}
		n := copy(s.cur[len(s.cur):cap(s.cur)], b)
		s.cur = s.cur[:len(s.cur)+n]
		b = b[n:]
	}
}

// writeByte appends c if there is room without growing; it reports whether it did.
func (s *spool) writeByte(c byte) bool {
	if len(s.cur) == cap(s.cur) || s.joinBefore(1) {
		return false // write grows or joins
	}
	s.cur = append(s.cur, c)
	s.n++
	return true
}

// join moves everything into one buffer of at least capacity bytes.
func (s *spool) join(capacity int) {
	out := make([]byte, 0, max(capacity, s.n))
	for _, c := range s.full {
		out = append(out, c...)
	}
	s.cur, s.full, s.joined = append(out, s.cur...), nil, true
}

// bytes returns everything written, contiguous.
func (s *spool) bytes() []byte {
	if len(s.full) > 0 {
		s.join(s.n)
	}
	return s.cur
}
