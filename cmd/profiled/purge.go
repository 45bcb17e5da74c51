package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/profiled/profiled/core"
)

// purgeInterval is how often serve deletes expired credentials and old
// history (core.PurgeExpired). Expired rows are refused and hidden at
// once; this only keeps the database from growing with every sign-in and
// refresh, so an hour is soon enough.
const purgeInterval = time.Hour

// runPurger deletes expired credentials at start and every purgeInterval
// until ctx ends. Every replica runs it; their deletes do not conflict.
// The returned func stops it and waits.
func runPurger(ctx context.Context, svc *core.Service, logger *slog.Logger) func() {
	pctx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(purgeInterval)
		defer tick.Stop()
		for {
			n, err := svc.PurgeExpired(pctx)
			switch {
			case pctx.Err() != nil:
				return
			case err != nil:
				logger.Warn("could not delete expired credentials and old history; trying again in an hour", slog.String("error", err.Error()))
			case n > 0:
				logger.Info("deleted expired credentials and old history", slog.Int64("rows", n))
			}
			select {
			case <-pctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() { stop(); <-stopped }
}
