package core

import (
	"context"
	"fmt"
)

// purgeBatch bounds the rows of each kind one transaction of PurgeExpired
// deletes, so that it never holds the database's writer for long.
const purgeBatch = 1000

// PurgeExpired deletes the credentials that have expired: tokens (the
// one-hour access tokens of every refresh and the sessions of every
// sign-in among them), refresh tokens, authorizations and trusted
// devices; the rate-limit counters whose window ended, which count as
// none; the logins and account events older than History, which no
// list shows; and the clients that registered themselves and hold no
// authorization UnusedRegistrationLifetime after (registration.go). No
// rule reads any of them (lists hide them, and each credential is
// refused as unknown), but without this every sign-in and
// refresh would leave a row forever. It deletes in transactions of at
// most purgeBatch rows of each kind until none is left or ctx ends (one
// transaction when there are fewer), and returns how many rows it
// deleted. Any number of processes may run it at once.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		now := s.clock()
		var n int64
		err := s.store.Update(ctx, func(tx Tx) error {
			var err error
			expired, err := tx.DeleteExpired(ctx, now, purgeBatch)
			if err != nil {
				return err
			}
			old, err := tx.DeleteHistory(ctx, now.Add(-History), purgeBatch)
			if err != nil {
				return err
			}
			unused, err := tx.DeleteUnusedRegistrations(ctx, now.Add(-UnusedRegistrationLifetime), purgeBatch)
			n = expired + old + unused
			return err
		})
		if err != nil {
			return total, fmt.Errorf("purge expired credentials: %w", err)
		}
		total += n
		// Fewer rows than one batch in all: no kind filled its batch, so
		// nothing expired before now is left, and another transaction
		// would only find nothing.
		if n < purgeBatch {
			return total, nil
		}
	}
}
