package core

import (
	"bytes"
	"strings"
	"testing"
)

// benchRead measures the checker on an object of ten keys with this value.
func benchRead(b *testing.B, value string) {
	var sb strings.Builder
	sb.WriteString("{")
	for i := range 10 {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`"k` + string(rune('a'+i)) + `":` + value)
	}
	sb.WriteString("}")
	in := []byte(sb.String())
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := readClientPreferences(bytes.NewReader(in), int64(len(in))); err != nil {
			b.Fatal(err)
		}
	}
}
func BenchmarkReadPreferencesASCII(b *testing.B) { benchRead(b, `"`+strings.Repeat("x", 1<<20)+`"`) }
func BenchmarkReadPreferencesUTF8(b *testing.B) {
	benchRead(b, `"`+strings.Repeat("é😀x", 1<<18)+`"`)
}
func BenchmarkReadPreferencesStructure(b *testing.B) {
	benchRead(b, "["+strings.Repeat(`{"a": [1, 2.5, -3e4, true, null], "b": "cdefgh\n"}, `, 1<<14)+"0]")
}
