package reqlog

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Buffer collects log lines and writes them in batches: at most every
// interval, when 64 KiB are waiting, at once for a line at Warn or above
// (through FlushingHandler), and at Close. Writing each request's line on
// its own cost a write(2) per request, the largest part of the kernel time
// of the hot path (issue 16); batching keeps every line and its order.
// A kill -9 loses at most the last interval's lines.
type Buffer struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
	once sync.Once

	closed bool // by Close: each line is written at once
}

// NewBuffer starts a Buffer in front of w, flushed every interval.
func NewBuffer(w io.Writer, interval time.Duration) *Buffer {
	b := &Buffer{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				b.Flush()
			case <-b.stop:
				return
			}
		}
	}()
	return b
}

// Write queues p, one whole line from a slog handler; after Close it is
// written at once.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.w.Write(p)
	if err == nil && b.closed {
		err = b.w.Flush()
	}
	return n, err
}

// Flush writes out what is waiting.
func (b *Buffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Flush()
}

// Close stops the timer and writes out what is waiting.
func (b *Buffer) Close() error {
	b.once.Do(func() {
		close(b.stop)
		<-b.done
	})
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return b.w.Flush()
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
