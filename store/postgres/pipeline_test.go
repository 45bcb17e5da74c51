package postgres

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// countingConn counts the writes of a connection: pgx sends a query or a
// batch in one, so each is a round trip.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// TestRoundTrips holds the pipelining to the round trips it saves: a write
// transaction as the core makes them (a guarded insert whose id it reads,
// then an account event) takes two, preferences put first in a
// transaction two, a locked user's change three (the lock with BEGIN, the
// guarded update, COMMIT), and a transaction that sends nothing none. Each runs
// twice first, so that pgx has prepared its statements.
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var writes atomic.Int64
	var d net.Dialer
	s, _ := openTest(t, Options{MaxConns: 1, dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		return countingConn{c, &writes}, err
	}})
	u := newUser(t, s, "alice")
	key := core.SSHKey{UserID: u.ID, Label: "k", Key: "renamed", Fingerprint: "renamed", Created: time.Now()}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.CreateSSHKey(ctx, &key) }); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name string
		want int64
		fn   func(tx core.Tx) error
	}{
		{"an SSH key and its event", 1, func(tx core.Tx) error {
			k := core.SSHKey{UserID: u.ID, Label: "k", Key: "k", Fingerprint: "f", Created: time.Now()}
			if err := tx.CreateSSHKey(ctx, &k); err != nil {
				return err
			}
			return tx.CreateAccountEvent(ctx, core.AccountEvent{AccountID: u.AccountID, UserID: u.ID, Username: u.Username,
				Action: "user_ssh_key_add", EntityType: "user_ssh_key", EntityID: u.ID, EntityLabel: "k", Created: time.Now()})
		}},
		{"preferences", 2, func(tx core.Tx) error { return tx.PutPreferences(ctx, u.ID, "c", []byte(`{}`)) }},
		// The renamed key comes back from the UPDATE itself.
		{"an SSH key's rename", 2, func(tx core.Tx) error {
			_, err := tx.UpdateSSHKeyLabel(ctx, u.ID, key.ID, "renamed")
			return err
		}},
		// A rule that reads before it writes: the lock reads the row too.
		{"a locked user's change", 3, func(tx core.Tx) error {
			locked, err := tx.LockUser(ctx, u.ID)
			if err != nil {
				return err
			}
			locked.Timezone = "Europe/Paris"
			return tx.UpdateUser(ctx, locked)
		}},
		{"nothing", 0, func(core.Tx) error { return nil }},
	} {
		for range 2 {
			if err := s.Update(ctx, c.fn); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		before := writes.Load()
		if err := s.Update(ctx, c.fn); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := writes.Load() - before; got != c.want {
			t.Errorf("%s: %d round trips, want %d", c.name, got, c.want)
		}
	}
}
