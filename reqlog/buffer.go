package reqlog

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Buffer collects log lines and writes them in batches: at most every
// interval, as soon as 64 KiB are waiting, at once for a line at Warn or
// above (through FlushingHandler), and at Close. Writing each request's
// line on its own cost a write(2) per request, the largest part of the
// kernel time of the hot path (issue 16); batching keeps every line and
// its order. The writing is done by a goroutine of its own on a swapped
// buffer, so that a request never waits for the log's reader (a pipe to a
// slow journal) unless 4 MiB are already waiting, which bounds memory. A
// kill -9 loses at most the last interval's lines.
type Buffer struct {
	w io.Writer

	mu      sync.Mutex // guards pending and closed
	pending []byte
	closed  bool // by Close: each line is written at once

	wmu   sync.Mutex // one writer at a time, in order; guards spare
	spare []byte

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

const (
	bufferBatch = 64 << 10 // a batch is written as soon as it is this big
	bufferLimit = 4 << 20  // past this, Write writes out itself
)

// NewBuffer starts a Buffer in front of w, flushed every interval.
func NewBuffer(w io.Writer, interval time.Duration) *Buffer {
	b := &Buffer{w: w, pending: make([]byte, 0, bufferBatch), spare: make([]byte, 0, bufferBatch),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-b.kick:
			case <-b.stop:
				return
			}
			_ = b.Flush()
		}
	}()
	return b
}

// Write queues p, one whole line from a slog handler or Lines; after
// Close it is written at once.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.pending = append(b.pending, p...)
	n, closed := len(b.pending), b.closed
	b.mu.Unlock()
	switch {
	case closed || n >= bufferLimit:
		if err := b.Flush(); err != nil {
			return 0, err
		}
	case n >= bufferBatch:
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// Flush writes out what is waiting.
func (b *Buffer) Flush() error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	b.mu.Lock()
	out := b.pending
	b.pending = b.spare[:0]
	b.mu.Unlock()
	var err error
	if len(out) > 0 {
		_, err = b.w.Write(out)
	}
	if cap(out) > bufferLimit {
		out = make([]byte, 0, bufferBatch) // a burst's buffer is not kept
	}
	b.spare = out[:0]
	return err
}

// Close stops the timer and writes out what is waiting.
func (b *Buffer) Close() error {
	b.once.Do(func() {
		close(b.stop)
		<-b.done
	})
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return b.Flush()
}

// FlushingHandler writes out b after every record at level or above, so
// that warnings and errors are not held back with the request lines.
func FlushingHandler(h slog.Handler, b *Buffer, level slog.Level) slog.Handler {
	return flushing{Handler: h, b: b, level: level}
}

type flushing struct {
	slog.Handler
	b     *Buffer
	level slog.Level
}

func (f flushing) Handle(ctx context.Context, r slog.Record) error {
	err := f.Handler.Handle(ctx, r)
	if r.Level >= f.level {
		if ferr := f.b.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (f flushing) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushing{Handler: f.Handler.WithAttrs(attrs), b: f.b, level: f.level}
}

func (f flushing) WithGroup(name string) slog.Handler {
	return flushing{Handler: f.Handler.WithGroup(name), b: f.b, level: f.level}
}
