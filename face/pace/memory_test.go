package pace_test

import (
	"bytes"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"
)

// heapInUse is the runtime's HeapInuse (bytes in spans holding objects,
// live or not yet swept), read without stopping the world.
func heapInUse(samples []metrics.Sample) uint64 {
	metrics.Read(samples)
	return samples[0].Value.Uint64() + samples[1].Value.Uint64()
}

// rss is the process's resident set in bytes (Linux), or 0. Unlike the
// heap, it counts memory outside Go's heap too, such as SQLite's (the
// pure-Go SQLite allocates its C heap outside the Go heap).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

// memoryPeak is how far above their level before fn the heap in use and
// the resident set rose while it ran.
type memoryPeak struct{ heap, rss int64 }

// measureMemory runs fn and samples HeapInuse and RSS every millisecond
// while it runs, after a GC that sets the baseline.
func measureMemory(fn func()) memoryPeak {
	names := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	runtime.GC()
	baseHeap, baseRSS := heapInUse(names), rss()
	var peakHeap, peakRSS uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		s := []metrics.Sample{{Name: names[0].Name}, {Name: names[1].Name}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			peakHeap, peakRSS = max(peakHeap, heapInUse(s)), max(peakRSS, rss())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	return memoryPeak{heap: int64(peakHeap) - int64(baseHeap), rss: int64(peakRSS) - int64(baseRSS)}
}
