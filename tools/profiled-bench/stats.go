package main

import (
	"math"
	"time"
)

// Histogram records latencies in logarithmic buckets, each 1% wider than
// the one before, from 1 µs up: a percentile read from it is within 1% of
// the exact one, it merges across processes and segments by adding
// counts, and it stays small whatever the number of requests.
type Histogram struct {
	Counts map[int]int64 `json:"counts"` // bucket index → requests
	N      int64         `json:"n"`
	Sum    time.Duration `json:"sum"` // exact, for the mean
	Min    time.Duration `json:"min"`
	Max    time.Duration `json:"max"`
}

// Bucket geometry: bucket 0 holds everything up to histMin; bucket i > 0
// holds (histMin·g^(i-1), histMin·g^i].
const (
	histMin    = time.Microsecond
	histGrowth = 1.01
)

var logGrowth = math.Log(histGrowth)

// bucketOf returns the bucket index of d.
func bucketOf(d time.Duration) int {
	if d <= histMin {
		return 0
	}
	i := int(math.Ceil(math.Log(float64(d)/float64(histMin)) / logGrowth))
	// Guard against rounding at exact bucket edges.
	if bucketUpper(i-1) >= d {
		i--
	}
	return max(i, 1)
}

// bucketUpper is the largest latency bucket i holds.
func bucketUpper(i int) time.Duration {
	if i <= 0 {
		return histMin
	}
	return time.Duration(float64(histMin) * math.Pow(histGrowth, float64(i)))
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{Counts: map[int]int64{}} }

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	if h.Counts == nil {
		h.Counts = map[int]int64{}
	}
	h.Counts[bucketOf(d)]++
	if h.N == 0 || d < h.Min {
		h.Min = d
	}
	if d > h.Max {
		h.Max = d
	}
	h.N++
	h.Sum += d
}

// Merge adds o's latencies to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.N == 0 {
		return
	}
	if h.Counts == nil {
		h.Counts = map[int]int64{}
	}
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
	if h.N == 0 || o.Min < h.Min {
		h.Min = o.Min
	}
	h.Max = max(h.Max, o.Max)
	h.N += o.N
	h.Sum += o.Sum
}

// Mean is the exact mean latency.
func (h *Histogram) Mean() time.Duration {
	if h.N == 0 {
		return 0
	}
	return h.Sum / time.Duration(h.N)
}

// Quantile returns the latency below or at which a fraction q (0 < q <= 1)
// of the requests finished, by nearest rank: the value at rank ceil(q·n)
// of the sorted latencies. It is the upper edge of that value's bucket,
// clamped to the observed minimum and maximum, so it overstates the exact
// figure by at most 1% (latencies under 1 µs all count as 1 µs); the
// first and last ranks are exact. An empty histogram gives 0.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.N == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.N)))
	rank = min(max(rank, 1), h.N)
	switch rank { // the extremes are known exactly
	case 1:
		return h.Min
	case h.N:
		return h.Max
	}
	maxBucket := 0
	for i := range h.Counts {
		maxBucket = max(maxBucket, i)
	}
	var seen int64
	for i := 0; i <= maxBucket; i++ {
		seen += h.Counts[i]
		if seen >= rank {
			return min(max(bucketUpper(i), h.Min), h.Max)
		}
	}
	return h.Max
}

// exactQuantile is the nearest-rank percentile of sorted latencies, the
// definition Quantile approximates; the tests compare the two.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
