package sqlite

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/profiled/profiled/core"
)

// BenchmarkConcurrentUpdates is PUT /profile/preferences' write, by 32
// goroutines at once, each on its own user: the durable write rate of
// one SQLite file (synchronous=FULL: every acknowledged write is synced).
func BenchmarkConcurrentUpdates(b *testing.B) {
	s, err := Open(b.Context(), b.TempDir()+"/profiled.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	const users = 64
	ids := make([]int64, users)
	for i := range ids {
		u := core.User{Username: fmt.Sprintf("user%d", i), AuthorizedKeys: []string{}}
		if err := s.Update(ctx, func(tx core.Tx) error { return tx.CreateUser(ctx, &u) }); err != nil {
			b.Fatal(err)
		}
		ids[i] = u.ID
	}
	value := json.RawMessage(`{"theme":"dark","sidebar":true}`)
	var next atomic.Int64
	b.SetParallelism(16) // 32 goroutines on 2 CPUs
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := ids[int(next.Add(1))%users]
			err := s.Update(ctx, func(tx core.Tx) error { return tx.PutPreferences(ctx, id, "", value) })
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
