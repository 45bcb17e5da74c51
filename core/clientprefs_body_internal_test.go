package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// bodyErr reads in and returns the *Error, failing if there is none.
func bodyErr(t *testing.T, in string) *Error {
	t.Helper()
	v, err := readClientPreferences(strings.NewReader(in), -1)
	if err == nil {
		t.Fatalf("readClientPreferences(%.80q) = %.80s, want an error", in, v)
	}
	e := AsError(err)
	if e == nil || e.Code == "" || e.Reason == "" {
		t.Fatalf("readClientPreferences(%.80q): %v is not a coded *Error", in, err)
	}
	return e
}

func TestReadClientPreferencesCompacts(t *testing.T) {
	for _, in := range []string{
		`{}`,
		" \t\r\n{ } \n",
		`{"a":1}`,
		`{ "theme" : "dark" , "n" : [ 1 , 2.5e-3 , -0 , -0.0E+10 , 123456789012345678901234567890 ] }`,
		`{"s":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00 é 😀 \ud800"}`,
		`{"o":{"a":{"b":[{},[],null,true,false,{"c":""}]}}, "e":[], "f":{}}`,
		`{"everything":[{"is":"up","to":123123,"the":["client"]}],"some":"value"}`,
		`{"":0}`,
		`{"a":"<>&\u2028"}`,
	} {
		got, err := readClientPreferences(strings.NewReader(in), -1)
		if err != nil {
			t.Errorf("readClientPreferences(%q): %v", in, err)
			continue
		}
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(in)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("readClientPreferences(%q) = %s, want %s", in, got, want.Bytes())
		}
	}
}

func TestReadClientPreferencesRefuses(t *testing.T) {
	cases := []struct{ in, code, field string }{
		{``, CodeInvalidJSON, ""},
		{"  \n", CodeInvalidJSON, ""},
		{`[]`, CodeNotAnObject, ""},
		{`"s"`, CodeNotAnObject, ""},
		{`null`, CodeNotAnObject, ""},
		{`{`, CodeInvalidJSON, ""},
		{`{"a"`, CodeInvalidJSON, "/a"},
		{`{"a":}`, CodeInvalidJSON, "/a"},
		{`{"a":1,}`, CodeInvalidJSON, ""},
		{`{"a":1 "b":2}`, CodeInvalidJSON, ""},
		{`{"a":01}`, CodeInvalidJSON, ""},
		{`{"a":1.}`, CodeInvalidJSON, "/a"},
		{`{"a":1e}`, CodeInvalidJSON, "/a"},
		{`{"a":-}`, CodeInvalidJSON, "/a"},
		{`{"a":+1}`, CodeInvalidJSON, "/a"},
		{`{"a":tru}`, CodeInvalidJSON, "/a"},
		{`{"a":nul`, CodeInvalidJSON, "/a"},
		{`{"a":"x}`, CodeInvalidJSON, "/a"},
		{"{\"a\":\"\x01\"}", CodeInvalidJSON, "/a"},
		{`{"a":"\x"}`, CodeInvalidJSON, "/a"},
		{`{"a":"\u12G4"}`, CodeInvalidJSON, "/a"},
		{"{\"a\":\"\xff\"}", CodeInvalidJSON, "/a"},
		{"{\"a\":\"\xed\xa0\x80\"}", CodeInvalidJSON, "/a"}, // a UTF-16 surrogate in UTF-8
		{"{\"\xc3\":1}", CodeInvalidJSON, ""},
		{`{"a":[1,2}`, CodeInvalidJSON, "/a"},
		{`{"a":{"b" 1}}`, CodeInvalidJSON, "/a"},
		{`{"a":{1:2}}`, CodeInvalidJSON, "/a"},
		{`{a:1}`, CodeInvalidJSON, ""},
		{`{"a":1}}`, CodeInvalidJSON, ""},
		{`{"a":1} {"b":2}`, CodeInvalidJSON, ""},
		{`{"a":1} x`, CodeInvalidJSON, ""},
		{`{"a":1,"a":2}`, CodeDuplicateKey, "/a"},
		{`{"a":1,"\u0061":2}`, CodeDuplicateKey, "/a"},
		{`{"a/b~":1,"a/b~":2}`, CodeDuplicateKey, "/a~1b~0"},
		{`{"a":` + strings.Repeat("[", maxPreferencesDepth) + strings.Repeat("]", maxPreferencesDepth) + `}`, CodeInvalidJSON, "/a"},
	}
	for _, c := range cases {
		e := bodyErr(t, c.in)
		if e.Code != c.code || e.Field != c.field {
			t.Errorf("readClientPreferences(%.60q): code %q field %q (%s), want %q %q", c.in, e.Code, e.Field, e.Reason, c.code, c.field)
		}
		if e.Code == CodeInvalidJSON && !strings.Contains(e.Reason, "byte") && c.in != "" && strings.TrimSpace(c.in) != "" {
			t.Errorf("readClientPreferences(%.60q): %q does not say where", c.in, e.Reason)
		}
	}
	// The deepest nesting encoding/json accepts is accepted.
	deep := `{"a":` + strings.Repeat("[", maxPreferencesDepth-1) + strings.Repeat("]", maxPreferencesDepth-1) + `}`
	if _, err := readClientPreferences(strings.NewReader(deep), -1); err != nil || !json.Valid([]byte(deep)) {
		t.Fatalf("nesting of %d: %v", maxPreferencesDepth, err)
	}
}

func keysObject(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + string(rune('a'+i)) + `":` + "1")
	}
	return b.String() + "}"
}

func TestReadClientPreferencesKeys(t *testing.T) {
	if _, err := readClientPreferences(strings.NewReader(keysObject(MaxPreferenceKeys)), -1); err != nil {
		t.Fatalf("%d keys: %v", MaxPreferenceKeys, err)
	}
	e := bodyErr(t, keysObject(MaxPreferenceKeys+1))
	if e.Kind != KindTooLarge || e.Code != CodeMaxKeys || e.Field != "/kk" {
		t.Fatalf("11 keys: %+v", e)
	}

	k128 := strings.Repeat("é", 64) // 128 bytes
	if _, err := readClientPreferences(strings.NewReader(`{"`+k128+`":1}`), -1); err != nil {
		t.Fatalf("128-byte key: %v", err)
	}
	// Escapes count decoded: 128 \u escapes make a 128-byte key.
	if _, err := readClientPreferences(strings.NewReader(`{"`+strings.Repeat(`\u0041`, 128)+`":1}`), -1); err != nil {
		t.Fatalf("128-byte escaped key: %v", err)
	}
	k129 := k128 + "x"
	e = bodyErr(t, `{"`+k129+`":1}`)
	if e.Kind != KindTooLarge || e.Code != CodeKeyTooLong || e.Field != "/"+k129 {
		t.Fatalf("129-byte key: %+v", e)
	}
	e = bodyErr(t, `{"`+strings.Repeat(`\u0041`, 129)+`":1}`)
	if e.Code != CodeKeyTooLong || e.Field != "/"+strings.Repeat("A", 129) {
		t.Fatalf("129-byte escaped key: %+v", e)
	}
	// A key too long to echo is refused without reading it to its end,
	// and the error quotes its beginning.
	r := &countingReader{r: io.MultiReader(strings.NewReader(`{"`), infinite('k'))}
	_, err := readClientPreferences(r, -1)
	e = AsError(err)
	if e == nil || e.Code != CodeKeyTooLong || e.Field != "" || !strings.Contains(e.Reason, `"kkkk`) {
		t.Fatalf("endless key: %v", err)
	}
	if r.n > 64<<10 {
		t.Fatalf("read %d bytes of an endless key", r.n)
	}
}

// infinite is an endless stream of one byte.
type infinite byte

func (b infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// stringValue is {"big":"xxx..."} whose value has n bytes of compact JSON.
func stringValue(n int64) io.Reader {
	return io.MultiReader(strings.NewReader(`{"big": "`), io.LimitReader(infinite('x'), n-2), strings.NewReader(`" }`))
}

func TestReadClientPreferencesValueSize(t *testing.T) {
	v, err := readClientPreferences(stringValue(MaxPreferenceValueBytes), -1)
	if err != nil {
		t.Fatalf("a value of %d bytes: %v", MaxPreferenceValueBytes, err)
	}
	if len(v) != MaxPreferenceValueBytes+len(`{"big":}`) {
		t.Fatalf("stored %d bytes", len(v))
	}
	r := &countingReader{r: stringValue(MaxPreferenceValueBytes + 1)}
	_, err = readClientPreferences(r, -1)
	e := AsError(err)
	if e == nil || e.Kind != KindTooLarge || e.Code != CodeValueTooLarge || e.Field != "/big" {
		t.Fatalf("a value of %d bytes: %v", MaxPreferenceValueBytes+1, err)
	}
	// Whitespace inside a value is not counted; in a string it is.
	spaced := io.MultiReader(strings.NewReader(`{"a":[`), io.LimitReader(infinite(' '), 2*MaxPreferenceValueBytes), strings.NewReader(`1]}`))
	if _, err := readClientPreferences(spaced, -1); err != nil {
		t.Fatalf("a small value padded with whitespace: %v", err)
	}

	// A value far larger than the limit is refused once the limit is
	// passed, without reading the rest.
	r = &countingReader{r: stringValue(100 << 20)}
	_, err = readClientPreferences(r, -1)
	if e := AsError(err); e == nil || e.Code != CodeValueTooLarge {
		t.Fatalf("a value of 100 MiB: %v", err)
	}
	if r.n > MaxPreferenceValueBytes+64<<10 {
		t.Fatalf("read %d bytes of a 100 MiB value before refusing it", r.n)
	}
}

func TestReadClientPreferencesBodySize(t *testing.T) {
	r := &countingReader{r: io.MultiReader(strings.NewReader(`{"a":1}`), infinite(' '))}
	_, err := readClientPreferences(r, -1)
	e := AsError(err)
	if e == nil || e.Kind != KindTooLarge || e.Code != CodeBodyTooLarge {
		t.Fatalf("endless whitespace: %v", err)
	}
	if r.n > MaxPreferencesBodyBytes+64<<10 {
		t.Fatalf("read %d bytes", r.n)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestReadClientPreferencesReadError(t *testing.T) {
	_, err := readClientPreferences(io.MultiReader(strings.NewReader(`{"a":`), failingReader{errors.New("connection reset")}), -1)
	if e := AsError(err); e == nil || e.Code != CodeUnreadableBody || e.Kind != KindInvalid {
		t.Fatalf("read error: %v", err)
	}
}

// oracle says what readClientPreferences must answer for in, using
// encoding/json: the compact object, or the code of the first broken rule.
// ok is false when in is not valid JSON (or not UTF-8): any error will do.
func oracle(in []byte) (out []byte, code string, ok bool) {
	if !json.Valid(in) || !utf8.Valid(in) {
		return nil, "", false
	}
	if t := bytes.TrimLeft(in, " \t\r\n"); t[0] != '{' {
		return nil, CodeNotAnObject, true
	}
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.Token()
	seen := map[string]bool{}
	for dec.More() {
		tok, _ := dec.Token()
		key := tok.(string)
		var raw json.RawMessage
		dec.Decode(&raw)
		switch {
		case len(key) > MaxPreferenceKeyBytes:
			return nil, CodeKeyTooLong, true
		case len(seen) == MaxPreferenceKeys:
			return nil, CodeMaxKeys, true
		case seen[key]:
			return nil, CodeDuplicateKey, true
		}
		seen[key] = true
		var c bytes.Buffer
		json.Compact(&c, raw)
		if c.Len() > MaxPreferenceValueBytes {
			return nil, CodeValueTooLarge, true
		}
	}
	var c bytes.Buffer
	json.Compact(&c, in)
	return c.Bytes(), "", true
}

// FuzzClientPreferencesBody checks the streaming reader against
// encoding/json: the same objects accepted, compacted to the same bytes,
// the same rules reported, and every refusal a coded *Error. Each input is
// also fed one byte per Read, to cross every buffer boundary.
func FuzzClientPreferencesBody(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":[1,{"b":null}],"c":"d\u00e9\n"}`, ` { "x" : -1.5e+3 } `,
		`{"a":1,"a":2}`, keysObject(11), `{"` + strings.Repeat("k", 129) + `":0}`, `[]`, `{"a":01}`,
		"{\"a\":\"\xff\"}", `{"a":"\ud800\udc00"}`, `{"a":tru}`, `{"a":1} x`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want, code, valid := oracle(in)
		// The length hint, right or wrong, changes nothing but allocations.
		for i, r := range []io.Reader{bytes.NewReader(in), &oneByte{in}, bytes.NewReader(in), bytes.NewReader(in)} {
			got, err := readClientPreferences(r, []int64{-1, int64(len(in)), 1, 3*int64(len(in)) + 100<<10}[i])
			if err != nil {
				e := AsError(err)
				if e == nil || e.Code == "" || e.Reason == "" {
					t.Fatalf("%q: uncoded error %v", in, err)
				}
				if valid && code == "" {
					t.Fatalf("%q: refused (%v), encoding/json accepts it", in, err)
				}
				if valid && e.Code != code {
					t.Fatalf("%q: code %q (%v), want %q", in, e.Code, err, code)
				}
				continue
			}
			if !valid || code != "" {
				t.Fatalf("%q: accepted as %q, want refusal (%q)", in, got, code)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%q: got %q, json.Compact makes %q", in, got, want)
			}
		}
	})
}

// oneByte returns its input one byte per Read.
type oneByte struct{ b []byte }

func (o *oneByte) Read(p []byte) (int, error) {
	if len(o.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = o.b[0]
	o.b = o.b[1:]
	return 1, nil
}
