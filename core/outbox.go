package core

import (
	"context"
	"errors"
	"time"
)

// Deliverer delivers one message of the outbox (the events webhook,
// mail). An error means not delivered: the message is tried again, unless
// the error is ErrUndeliverable. A message may be delivered more than
// once (a worker that dies after the delivery and before it notes it),
// never lost: receivers drop repeats by the message's id.
type Deliverer interface {
	Deliver(ctx context.Context, m OutboxMessage) error
}

// ErrUndeliverable is wrapped by a Deliverer's error that no later attempt
// can cure: a mail to an address the receiving server refuses for good
// (at RCPT TO, with an enhanced status of class 5.1: no such mailbox), a
// message that does not parse. RunOutbox drops
// such a message and tells OnError, where it would otherwise try it again
// every MaxBackoff forever and keep the outbox depth from ever falling
// back to zero. Failures an operator can cure (a server down, a password
// refused, a sender the server does not take) must not wrap it: their
// messages wait for the cure.
var ErrUndeliverable = errors.New("undeliverable")

// OutboxOptions tune RunOutbox; the zero value takes the defaults.
type OutboxOptions struct {
	Poll       time.Duration // how often an idle worker looks for work (1 s)
	Lease      time.Duration // how long a claim keeps a message from other workers (1 min)
	Timeout    time.Duration // the longest one delivery may take (10 s; less than Lease)
	Batch      int           // messages claimed at once (16)
	MaxBackoff time.Duration // the longest wait between attempts (1 h)
	// OnError, if set, is told of each failed delivery (the log): of one
	// dropped when err is ErrUndeliverable, else of one tried again.
	OnError func(m OutboxMessage, err error)
}

func (o *OutboxOptions) defaults() {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.Timeout <= 0 || o.Timeout >= o.Lease {
		o.Timeout = min(10*time.Second, o.Lease/2)
	}
	if o.Batch <= 0 {
		o.Batch = 16
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Hour
	}
}

// backoff is the wait after the attempts-th failed attempt: 1 s, 2 s,
// 4 s, ... up to max.
func backoff(attempts int, max time.Duration) time.Duration {
	d := time.Second
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// RunOutbox delivers the messages of topic with d until ctx ends, as one
// of any number of workers on any number of replicas: each claim leases
// what it takes, so no two workers deliver a message at once, and a
// worker that dies leaves its messages to the others once the lease ends.
// An idle worker looks for work every Poll, and at once when a change
// made through this Service queues some: a mail or an event goes out as
// soon as the change that queued it commits on this replica.
// A failed delivery is tried again after a backoff, for as long as it
// takes: the outbox depth (metrics) shows a receiver that stays down. An
// undeliverable one (ErrUndeliverable) is dropped.
func (s *Service) RunOutbox(ctx context.Context, topic string, d Deliverer, o OutboxOptions) error {
	o.defaults()
	for {
		n, err := s.deliverBatch(ctx, topic, d, o)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil || n < o.Batch {
			// Idle, or the database failed: wait before looking again.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(o.Poll):
			case <-s.wake.of(topic):
			}
		}
	}
}

// deliverBatch claims and delivers one batch, and returns its size.
func (s *Service) deliverBatch(ctx context.Context, topic string, d Deliverer, o OutboxOptions) (int, error) {
	var batch []OutboxMessage
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		batch, err = tx.ClaimOutbox(ctx, topic, s.now(), o.Lease, o.Batch)
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, m := range batch {
		dctx, cancel := context.WithTimeout(ctx, o.Timeout)
		derr := d.Deliver(dctx, m)
		cancel()
		if ctx.Err() != nil {
			return len(batch), nil // shutting down: the lease returns the rest
		}
		err := s.store.Update(ctx, func(tx Tx) error {
			if derr == nil || errors.Is(derr, ErrUndeliverable) {
				return tx.FinishOutbox(ctx, m.ID)
			}
			return tx.RetryOutbox(ctx, m.ID, s.now().Add(backoff(m.Attempts, o.MaxBackoff)), clean(derr.Error(), 500))
		})
		if derr != nil && o.OnError != nil {
			o.OnError(m, derr)
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return len(batch), err
		}
	}
	return len(batch), nil
}

// outboxWake is one signal per topic from the commits that queued work to
// the idle worker of the topic in this process. A signal is kept until a
// worker takes it, and one is enough however many commits sent it: the
// worker then claims everything that is due. Workers on other replicas
// learn of the work by polling.
type outboxWake struct{ topics map[string]chan struct{} }

func newOutboxWake() *outboxWake {
	w := &outboxWake{topics: map[string]chan struct{}{}}
	for _, topic := range []string{OutboxEvents, OutboxMail, OutboxRecovery, OutboxLogout} {
		w.topics[topic] = make(chan struct{}, 1)
	}
	return w
}

// of is the channel a worker of topic waits on; nil (never ready) for a
// topic no change queues, or without an outbox.
func (w *outboxWake) of(topic string) <-chan struct{} {
	if w == nil {
		return nil
	}
	return w.topics[topic]
}

func (w *outboxWake) signal(topic string) {
	select {
	case w.topics[topic] <- struct{}{}:
	default: // a signal is already waiting
	}
}

// wakingStore is the Service's store when it has an outbox: each Update
// that queued messages and committed wakes their topics' workers.
type wakingStore struct {
	Store
	wake *outboxWake
}

func (w wakingStore) Update(ctx context.Context, fn func(Tx) error) error {
	var queued []string
	err := w.Store.Update(ctx, func(tx Tx) error {
		queued = queued[:0] // a store may run fn again
		return fn(enqueueNoting{Tx: tx, queued: &queued})
	})
	if err == nil {
		for _, topic := range queued {
			w.wake.signal(topic)
		}
	}
	return err
}

// enqueueNoting is a Tx that notes the topics of the messages it queues.
type enqueueNoting struct {
	Tx
	queued *[]string
}

func (t enqueueNoting) Enqueue(ctx context.Context, m *OutboxMessage) error {
	err := t.Tx.Enqueue(ctx, m)
	if err == nil {
		*t.queued = append(*t.queued, m.Topic)
	}
	return err
}
