package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/profiled/profiled/core"
)

// defaultPurgeInterval is how often serve deletes expired credentials and
// old history (core.PurgeExpired), unless --purge-interval says. Expired
// rows are refused and hidden at once; this only keeps the database from
// growing with every sign-in and refresh, so an hour is soon enough.
const defaultPurgeInterval = time.Hour

// minPurgeInterval keeps --purge-interval from turning the purge into a
// busy loop over the indexes it reads.
const minPurgeInterval = time.Minute

// runPurger deletes expired credentials at start and every interval (0:
// never, after the start) until ctx ends. Every replica runs it; their
// deletes do not conflict. The returned func stops it and waits.
func runPurger(ctx context.Context, svc *core.Service, logger *slog.Logger, interval time.Duration) func() {
	pctx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var next <-chan time.Time // nil: never
		if interval > 0 {
			tick := time.NewTicker(interval)
			defer tick.Stop()
			next = tick.C
		}
		for {
			n, err := svc.PurgeExpired(pctx)
			switch {
			case pctx.Err() != nil:
				return
			case err != nil:
				logger.Warn("could not delete expired credentials and old history; the next purge tries again",
					slog.String("error", err.Error()), slog.Duration("interval", interval))
			case n > 0:
				logger.Info("deleted expired credentials and old history", slog.Int64("rows", n))
			}
			select {
			case <-pctx.Done():
				return
			case <-next:
			}
		}
	}()
	return func() { stop(); <-stopped }
}
