package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// Twin is one handler's go test benchmark: the same request as an
// endpoint of the table, served by the real handler stack (request log,
// face, core, SQLite store on a file) into an httptest.ResponseRecorder.
type Twin struct {
	Name        string  `json:"name"`
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  int64   `json:"bytes_per_op"`
	AllocsPerOp int64   `json:"allocs_per_op"`
}

// twinPackages hold the twins, named BenchmarkTwin<Endpoint>, beside each
// face's handlers.
const twinPackages = "./face/..."

// runTwins runs every twin with -benchmem and returns them by name.
func runTwins(ctx context.Context, root, benchtime string) (map[string]Twin, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkTwin", "-benchmem",
		"-benchtime", benchtime, "-count", "1", twinPackages)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench: %w\n%s", err, out)
	}
	twins := parseBench(out)
	if len(twins) == 0 {
		return nil, fmt.Errorf("go test -bench printed no benchmark:\n%s", out)
	}
	return twins, nil
}

// benchLine matches a result line of go test -bench -benchmem, such as
// "BenchmarkTwinGetProfile-2   5000   61234 ns/op   5678 B/op   89 allocs/op".
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+([\d.]+) B/op\s+(\d+) allocs/op)?`)

// parseBench reads go test -bench output.
func parseBench(out []byte) map[string]Twin {
	twins := map[string]Twin{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		t := Twin{Name: m[1]}
		t.NsPerOp, _ = strconv.ParseFloat(m[2], 64)
		if m[3] != "" {
			b, _ := strconv.ParseFloat(m[3], 64)
			t.BytesPerOp = int64(b)
			t.AllocsPerOp, _ = strconv.ParseInt(m[4], 10, 64)
		}
		twins[t.Name] = t
	}
	return twins
}
