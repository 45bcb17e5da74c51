package iam_test

// The twin of tools/profiled-bench's GET /iam/v1/users/me/ row (see
// face/linode's bench_test.go for the others): the request through the
// request log and the face, as cmd/profiled mounts it, on a real SQLite
// file, into an httptest.ResponseRecorder, with -benchmem.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/iam"
	"github.com/profiled/profiled/internal/testenv"
	"github.com/profiled/profiled/reqlog"
)

func BenchmarkTwinIAMUsersMe(b *testing.B) {
	ctx := context.Background()
	st := testenv.OpenSQLite(b)
	svc := core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: st, Box: testenv.TestKey(), SMS: &testenv.SMSInbox{}})
	if _, err := svc.CreateUser(ctx, core.UserCreate{Username: "bench", Email: "bench@example.com"}); err != nil {
		b.Fatal(err)
	}
	_, raw, err := svc.IssueToken(ctx, "bench", "laptop", core.AllScopes, nil)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	mux := http.NewServeMux()
	mux.Handle(iam.Prefix+"/", iam.New(svc, iam.Options{Logger: log}))
	h := reqlog.WithOptions(log, reqlog.Options{Lines: &reqlog.Lines{W: io.Discard}}, mux) // as serve runs it
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		reqs[i] = httptest.NewRequest("GET", iam.Prefix+"/users/me/", nil)
		reqs[i].Header.Set("Authorization", "Bearer "+raw)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, reqs[i])
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
