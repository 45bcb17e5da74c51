package main

import (
	"path/filepath"
	"testing"
)

func TestKeyBesideDatabase(t *testing.T) {
	dir := t.TempDir()
	db := &dbConfig{dsn: "sqlite:" + filepath.Join(dir, "profiled.db")}
	none := func(string) string { return "" }
	for _, tc := range []struct {
		name string
		file string
		env  func(string) string
		warn bool
	}{
		{"the default key file", "", none, true},
		{"a key file in the same folder", filepath.Join(dir, "other.key"), none, true},
		{"a key file elsewhere", filepath.Join(t.TempDir(), "profiled.key"), none, false},
		{"the key in the environment", "", func(k string) string {
			if k == "PROFILED_SECRET_KEY" {
				return "x"
			}
			return ""
		}, false},
	} {
		if got := keyBesideDatabase(&keyConfig{file: tc.file}, db, tc.env) != ""; got != tc.warn {
			t.Errorf("%s: warns %v, want %v", tc.name, got, tc.warn)
		}
	}
}
