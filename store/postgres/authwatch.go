package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlstore"
)

// authChannel is what migration 00099's triggers notify when a token or a
// user changes.
const authChannel = "profiled_auth"

// authWatchApplication names the watcher's session in pg_stat_activity.
const authWatchApplication = "profiled auth watch"

// authWatchVersion is the first schema version with those triggers.
const authWatchVersion = 99

// idleBeat is how often the watcher reads its notifications while no
// request waits: often enough that they never pile up in PostgreSQL's
// queue or the socket.
const idleBeat = 100 * time.Millisecond

// authWatch lets a replica answer tokens from memory (sqlstore.TokenCache)
// and still refuse a token at the very next request after any replica, or
// the CLI, acknowledged its revocation.
//
// It holds one connection of its own that LISTENs on authChannel; every
// notification starts a new generation. Memory alone cannot prove that no
// notification is still on its way, so a request that would be answered
// from memory first waits for a fence: an empty query on that connection
// sent after the request arrived. PostgreSQL sends a session the
// notifications of every transaction committed before it reads a query
// ahead of that query's ReadyForQuery (PostgresMain, since 14), and the
// committing session signals listeners before its client hears of the
// commit; so once the fence returns, every change acknowledged before the
// request has been counted. Requests that arrive while a fence is out share
// the next one, which is what makes this cheaper than a query per request:
// under load one round trip answers many requests. When the connection is
// down the fence fails and every lookup goes to the database; a new
// connection starts a new generation, since notifications were missed.
type authWatch struct {
	cfg   *pgx.ConnConfig
	cache *sqlstore.TokenCache
	gen   atomic.Uint64

	mu      sync.Mutex
	healthy bool
	started uint64        // fences sent
	done    uint64        // fences answered; a fence is answered in order
	beat    chan struct{} // closed when a fence is answered or fails
	wake    chan struct{} // a request waits for a fence

	stop    context.CancelFunc
	stopped chan struct{}
	ready   chan struct{} // closed when the watcher first listens
	once    sync.Once
}

func newAuthWatch(cfg *pgx.ConnConfig) *authWatch {
	w := &authWatch{cfg: cfg.Copy(), cache: sqlstore.NewTokenCache(),
		beat: make(chan struct{}), wake: make(chan struct{}, 1), stopped: make(chan struct{}), ready: make(chan struct{})}
	w.cfg.RuntimeParams["application_name"] = authWatchApplication
	w.cfg.OnNotification = func(*pgconn.PgConn, *pgconn.Notification) { w.gen.Add(1) }
	return w
}

// start runs the watcher until close.
func (w *authWatch) start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	go w.run(ctx)
}

func (w *authWatch) close() {
	w.stop()
	<-w.stopped
}

func (w *authWatch) run(ctx context.Context) {
	defer close(w.stopped)
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := w.listen(ctx)
		w.setHealthy(false)
		if ctx.Err() != nil {
			return
		}
		_ = err // the pool's own queries report an unreachable database
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listen connects, LISTENs, and answers fences until the connection fails.
func (w *authWatch) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, w.cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+authChannel); err != nil {
		return err
	}
	// Whatever changed while nobody listened is unknown: start afresh.
	w.gen.Add(1)
	w.setHealthy(true)
	w.once.Do(func() { close(w.ready) })
	idle := time.NewTicker(idleBeat)
	defer idle.Stop()
	for {
		select {
		case <-w.wake:
		case <-idle.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		w.mu.Lock()
		w.started++
		n := w.started
		w.mu.Unlock()
		// The empty query: PostgreSQL answers it with EmptyQueryResponse
		// and ReadyForQuery, the notifications ahead of them; pgx hands
		// those to OnNotification while it reads.
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := conn.PgConn().Exec(fctx, "").ReadAll()
		cancel()
		if err != nil {
			return fmt.Errorf("auth watch fence: %w", err)
		}
		w.mu.Lock()
		w.done = n
		close(w.beat)
		w.beat = make(chan struct{})
		w.mu.Unlock()
	}
}

func (w *authWatch) setHealthy(ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.healthy != ok {
		w.healthy = ok
		if !ok {
			close(w.beat) // the waiters fall back to the database
			w.beat = make(chan struct{})
		}
	}
}

// errNoFence says the watcher's connection is down.
var errNoFence = errors.New("the auth watch is not connected")

// fence waits until every change acknowledged before it was called has
// been counted, and returns the generation then.
func (w *authWatch) fence(ctx context.Context) (uint64, error) {
	w.mu.Lock()
	if !w.healthy {
		w.mu.Unlock()
		return 0, errNoFence
	}
	target := w.started + 1 // sent after now
	beat := w.beat
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	for {
		select {
		case <-beat:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		w.mu.Lock()
		if !w.healthy {
			w.mu.Unlock()
			return 0, errNoFence
		}
		if w.done >= target {
			w.mu.Unlock()
			return w.gen.Load(), nil
		}
		beat = w.beat
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// tokenByHash answers a remembered token once a fence shows it is still
// current, and looks up the others, remembering them. A lookup needs no
// fence: it reads what is committed now, and the generation read before it
// ends with any later change.
func (w *authWatch) tokenByHash(ctx context.Context, hash []byte,
	lookup func(context.Context, []byte) (core.Token, core.User, error)) (core.Token, core.User, error) {
	at, tok, u, hit := w.cache.Get(hash)
	if hit {
		gen, err := w.fence(ctx)
		if err != nil {
			return lookup(ctx, hash)
		}
		if gen == at {
			return tok, u, nil
		}
	}
	w.mu.Lock()
	healthy := w.healthy
	w.mu.Unlock()
	gen := w.gen.Load()
	tok, u, err := lookup(ctx, hash)
	if err == nil && healthy {
		w.cache.Put(gen, hash, tok, u)
	}
	return tok, u, err
}
