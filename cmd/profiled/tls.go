package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// certificate is the TLS certificate serve presents, read again from its
// files on SIGHUP, so that a renewed certificate takes effect without a
// restart; connections made before keep theirs.
type certificate struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// loadCertificate reads the pair once, refusing to start on an error.
func loadCertificate(certFile, keyFile string) (*certificate, error) {
	c := &certificate{certFile: certFile, keyFile: keyFile}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *certificate) reload() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("--tls-cert %s, --tls-key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cur.Store(&pair)
	return nil
}

func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.cur.Load(), nil }

// config is the server's TLS configuration: TLS 1.2 at least, the
// certificate of the moment.
func (c *certificate) config() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.get}
}

// reloadOnHUP reads the certificate again at each SIGHUP until ctx ends;
// a pair that does not load is logged, and the one before kept.
func (c *certificate) reloadOnHUP(ctx context.Context, logger *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := c.reload(); err != nil {
					logger.Error("SIGHUP: the TLS certificate did not load; the one before stays", slog.String("error", err.Error()))
					continue
				}
				logger.Info("SIGHUP: the TLS certificate was read again", slog.String("cert", c.certFile))
			}
		}
	}()
}
