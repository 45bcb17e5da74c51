package httpx

import (
	"context"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/profiled/profiled/core"
)

// ByteBudget bounds the bytes that large bodies and values hold in this
// process at once, across requests: a request reserves what it will hold
// before it holds it, waits at most MaxWait for room, and is answered 503
// with Retry-After past that. Twelve 100 MB preferences bodies at once
// reached 1.98 GB of RSS without it.
type ByteBudget struct {
	sem     *semaphore.Weighted
	size    int64
	MaxWait time.Duration
}

// DefaultByteBudget is the budget serve gives when no flag says otherwise:
// one largest preferences body (100 MiB, held about three times over while
// it is checked and stored) and room for smaller ones beside it.
const DefaultByteBudget = 512 << 20

// NewByteBudget makes a budget of size bytes.
func NewByteBudget(size int64) *ByteBudget {
	return &ByteBudget{sem: semaphore.NewWeighted(size), size: size, MaxWait: 2 * time.Second}
}

// Reserve reserves n bytes (at most the whole budget) and returns the
// function that gives them back. A nil budget reserves nothing.
func (b *ByteBudget) Reserve(ctx context.Context, n int64) (release func(), err error) {
	if b == nil || n <= 0 {
		return func() {}, nil
	}
	n = min(n, b.size)
	wctx, cancel := context.WithTimeout(ctx, b.MaxWait)
	defer cancel()
	if err := b.sem.Acquire(wctx, n); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &core.Error{Kind: core.KindUnavailable, RetryAfter: time.Second,
			Reason: "The server holds as many large bodies as it may at once: try again in a moment"}
	}
	return func() { b.sem.Release(n) }, nil
}
