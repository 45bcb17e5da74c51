package testenv

import (
	"os"
	"os/exec"
	"sync"
	"testing"
)

// npmInstalls runs npm ci once per folder, for every test of a process.
var npmInstalls sync.Map // folder -> func() ([]byte, error)

// NodePackages readies the Node program in dir for a test: its packages
// installed with npm ci from its committed package-lock.json, once per
// process. Without Node the test is skipped, except under CI=true, where
// it fails: .ci/run installs Node.
func NodePackages(t *testing.T, dir string) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not installed: .ci/run installs it (apt-get install nodejs npm)")
		}
		t.Skip("node is not installed")
	}
	install, _ := npmInstalls.LoadOrStore(dir, sync.OnceValues(func() ([]byte, error) {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--prefer-offline")
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}))
	if out, err := install.(func() ([]byte, error))(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
}
