package sqlite

import (
	"testing"

	"github.com/profiled/profiled/core"
)

// BenchmarkCachedTokenByHash: the answer from memory, from every core at
// once, as under load (the generation check and the cache's hit path).
func BenchmarkCachedTokenByHash(b *testing.B) {
	s, err := Open(b.Context(), b.TempDir()+"/profiled.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	u := core.User{Username: "bench"}
	tok := core.Token{Kind: core.TokenPersonal, Scopes: "*", Hash: core.HashToken("bench")}
	if err := s.Update(b.Context(), func(tx core.Tx) error {
		if err := tx.CreateUser(b.Context(), &u); err != nil {
			return err
		}
		tok.UserID = u.ID
		return tx.CreateToken(b.Context(), &tok)
	}); err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	s.TokenByHash(ctx, tok.Hash)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := s.TokenByHash(ctx, tok.Hash); err != nil {
				b.Fatal(err)
			}
		}
	})
}
