package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

var outboxTests = []struct {
	name string
	fn   func(*testing.T, core.Store)
}{
	{"Outbox", testOutbox},
	{"OutboxConcurrentClaims", testOutboxConcurrentClaims},
}

func enqueue(t *testing.T, s core.Store, topic, payload string, created time.Time) int64 {
	t.Helper()
	m := core.OutboxMessage{Topic: topic, Payload: []byte(payload), Created: created}
	update(t, s, func(tx core.Tx) error { return tx.Enqueue(t.Context(), &m) })
	if m.ID == 0 {
		t.Fatal("Enqueue set no id")
	}
	return m.ID
}

func claim(t *testing.T, s core.Store, topic string, now time.Time, lease time.Duration, limit int) []core.OutboxMessage {
	t.Helper()
	var got []core.OutboxMessage
	update(t, s, func(tx core.Tx) error {
		var err error
		got, err = tx.ClaimOutbox(t.Context(), topic, now, lease, limit)
		return err
	})
	return got
}

func messageIDs(ms []core.OutboxMessage) []int64 {
	out := []int64{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func testOutbox(t *testing.T, s core.Store) {
	ctx := t.Context()
	// What a rolled-back change enqueued is gone with it.
	boom := errors.New("the change failed")
	err := updateErr(t, s, func(tx core.Tx) error {
		if err := tx.Enqueue(ctx, &core.OutboxMessage{Topic: "event", Payload: []byte(`{}`), Created: t0}); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, "a failing Update", err, boom)
	n, err := s.OutboxDepth(ctx, "event")
	noErr(t, "OutboxDepth", err)
	equal(t, "depth after a rollback", n, 0)

	a := enqueue(t, s, "event", `{"n":1}`, t0)
	b := enqueue(t, s, "event", `{"n":2}`, t0)
	c := enqueue(t, s, "event", `{"n":3}`, t0)
	enqueue(t, s, "mail", `{}`, t0) // another topic: never claimed as an event
	n, err = s.OutboxDepth(ctx, "event")
	noErr(t, "OutboxDepth", err)
	equal(t, "depth", n, 3)

	// Oldest first, up to the limit, each with its claim counted.
	got := claim(t, s, "event", t0, time.Minute, 2)
	equal(t, "first claim", messageIDs(got), []int64{a, b})
	if len(got) == 2 && (string(got[0].Payload) != `{"n":1}` || got[0].Attempts != 1 || got[0].Topic != "event" || !got[0].Created.Equal(t0)) {
		t.Errorf("claimed %+v", got[0])
	}
	// While leased, they are nobody else's; the rest is.
	equal(t, "second claim", messageIDs(claim(t, s, "event", at(0).Add(30*time.Second), time.Minute, 10)), []int64{c})
	equal(t, "a claim while all are leased", messageIDs(claim(t, s, "event", at(0).Add(59*time.Second), time.Minute, 10)), []int64{})

	// a is delivered; b fails and waits for its retry; c's worker died:
	// its lease ends and c is claimed again.
	update(t, s, func(tx core.Tx) error { return tx.FinishOutbox(ctx, a) })
	wantErr(t, "finishing twice", updateErr(t, s, func(tx core.Tx) error { return tx.FinishOutbox(ctx, a) }), core.ErrNotFound)
	update(t, s, func(tx core.Tx) error { return tx.RetryOutbox(ctx, b, at(10), "503 Service Unavailable") })
	wantErr(t, "retrying a gone message", updateErr(t, s, func(tx core.Tx) error { return tx.RetryOutbox(ctx, a, at(10), "x") }), core.ErrNotFound)
	got = claim(t, s, "event", at(2), time.Hour, 10)
	equal(t, "after the lease", messageIDs(got), []int64{c})
	if len(got) == 1 && got[0].Attempts != 2 {
		t.Errorf("c's attempts = %d, want 2", got[0].Attempts)
	}
	got = claim(t, s, "event", at(10), time.Minute, 10)
	equal(t, "at the retry", messageIDs(got), []int64{b})
	if len(got) == 1 && (got[0].LastErr != "503 Service Unavailable" || got[0].Attempts != 2) {
		t.Errorf("b = %+v", got[0])
	}
	n, err = s.OutboxDepth(ctx, "event")
	noErr(t, "OutboxDepth", err)
	equal(t, "depth at the end", n, 2)
}

// testOutboxConcurrentClaims: workers claiming at once each take
// different messages, and together every one, once.
func testOutboxConcurrentClaims(t *testing.T, s core.Store) {
	const messages, workers = 60, 6
	for i := 0; i < messages; i++ {
		enqueue(t, s, "event", fmt.Sprintf(`{"n":%d}`, i), t0)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var got []core.OutboxMessage
				err := s.Update(t.Context(), func(tx core.Tx) error {
					var err error
					got, err = tx.ClaimOutbox(t.Context(), "event", t0, time.Hour, 4)
					return err
				})
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != messages {
		t.Errorf("%d messages claimed, want %d", len(seen), messages)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %d claimed %d times", id, n)
		}
	}
}
