package core

import (
	"context"
	"time"
)

// OutboxMessage is work that must happen after a change (deliver an event
// to the webhook; the mail of the next issue): written in the same
// transaction as the change, so the change and the promise of its
// consequence commit together, then delivered by a worker until it
// succeeds. The outbox holds messages until they are delivered.
type OutboxMessage struct {
	ID       int64
	Topic    string // OutboxEvents
	Payload  []byte // what to deliver, as the topic's deliverer reads it
	Created  time.Time
	Attempts int    // claims so far, this one included
	LastErr  string // why the last attempt failed, for the operator
}

// OutboxWriter is the outbox's part of a Tx.
type OutboxWriter interface {
	// Enqueue adds m (Topic, Payload, Created) to the outbox, due at once,
	// and sets m.ID.
	Enqueue(ctx context.Context, m *OutboxMessage) error
	// ClaimOutbox takes up to limit messages of topic that are due at now,
	// oldest first, and makes them not due again before now+lease, so that
	// no other worker, on any replica, takes them while this one delivers.
	// Attempts counts the claim. A worker that dies mid-delivery leaves its
	// messages to be claimed again once the lease ends.
	ClaimOutbox(ctx context.Context, topic string, now time.Time, lease time.Duration, limit int) ([]OutboxMessage, error)
	// FinishOutbox deletes a delivered message; ErrNotFound if it is gone.
	FinishOutbox(ctx context.Context, id int64) error
	// RetryOutbox makes a message due again at notBefore, noting why it failed.
	RetryOutbox(ctx context.Context, id int64, notBefore time.Time, lastErr string) error
}

// OutboxReader is the outbox's part of a Reader.
type OutboxReader interface {
	// OutboxDepth counts the messages of topic not yet delivered.
	OutboxDepth(ctx context.Context, topic string) (int, error)
}
