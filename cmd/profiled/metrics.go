package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/metrics"
	"github.com/profiled/profiled/store/postgres"
	"github.com/profiled/profiled/store/sqlite"
)

// watchStore exports the connection pools of st.
func watchStore(m *metrics.Metrics, st core.Store) {
	switch st := st.(type) {
	case *postgres.Store:
		m.WatchPool("postgres", func() metrics.Pool {
			s := st.PoolStat()
			return metrics.Pool{Open: int64(s.TotalConns()), InUse: int64(s.AcquiredConns()), Idle: int64(s.IdleConns()),
				Max: int64(s.MaxConns()), Waits: s.EmptyAcquireCount(), WaitTime: s.AcquireDuration()}
		})
	case *sqlite.Store:
		for _, name := range []string{"sqlite_write", "sqlite_read"} {
			m.WatchPool(name, func() metrics.Pool {
				w, r := st.PoolStats()
				s := w
				if name == "sqlite_read" {
					s = r
				}
				return metrics.Pool{Open: int64(s.OpenConnections), InUse: int64(s.InUse), Idle: int64(s.Idle),
					Max: int64(s.MaxOpenConnections), Waits: s.WaitCount, WaitTime: s.WaitDuration}
			})
		}
	}
}

// serveMetrics serves GET /metrics on addr until ctx ends, and returns
// the address it listens on.
func serveMetrics(ctx context.Context, addr string, m *metrics.Metrics, logger *slog.Logger) (string, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on --metrics-addr %s: %w (choose another, or stop what uses it)", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics listener stopped", slog.String("error", err.Error()))
		}
	}()
	context.AfterFunc(ctx, func() { srv.Close() })
	return ln.Addr().String(), nil
}
