package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smallDisk mounts a tmpfs of size bytes on a new directory, for the
// length of the test. It needs root (CI runs as root); elsewhere the test
// is skipped.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a small tmpfs for a full disk (%v): needs root", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// TestHealthzOnAFullDisk: with the disk under an SQLite database full,
// every write fails and /healthz says 503; once there is room again it
// says 200 (issue 11, item 18). The database is a real SQLite file on a
// real (small) file system.
func TestHealthzOnAFullDisk(t *testing.T) {
	disk := smallDisk(t, "4m")
	keyDir := t.TempDir()
	key := filepath.Join(keyDir, "profiled.key")
	if out, err := exec.Command("sh", "-c", "head -c 32 /dev/urandom > "+key+" && chmod 600 "+key).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	env := map[string]string{"PROFILED_DB": "sqlite:" + filepath.Join(disk, "profiled.db"), "PROFILED_SECRET_KEY_FILE": key}
	s := startServe(t, env)
	if status, body := call(t, "GET", s.base+"/healthz", "", ""); status != http.StatusOK {
		t.Fatalf("healthz with room: %d %s", status, body)
	}
	// Fill the disk.
	filler := filepath.Join(disk, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()
	// Writes now fail; so does the health check, at the latest once the
	// WAL has no room left to reuse.
	deadline := time.Now().Add(10 * time.Second)
	for {
		call(t, "PUT", s.base+"/v4/profile/preferences", s.token, `{"pad":"`+strings.Repeat("x", 4000)+`"}`)
		status, _ := call(t, "GET", s.base+"/healthz", "", "")
		if status == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz on a full disk: %d, want 503", status)
		}
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if status, body := call(t, "GET", s.base+"/healthz", "", ""); status != http.StatusOK {
		t.Fatalf("healthz with room again: %d %s", status, body)
	}
}
