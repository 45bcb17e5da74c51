package core_test

// Concurrency and replica tests of the core's rules, on every backend
// (testenv.Backends: SQLite always, PostgreSQL when reachable). Each test
// builds two "replicas": two core.Service values over two separate store
// handles opened on one database (one SQLite file, or one PostgreSQL
// schema), as two profiled processes behind a load balancer would be. No
// mocks: whatever one replica writes, the other can only learn from the
// database.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/clientjwt"
	"github.com/profiled/profiled/internal/keytest"
	"github.com/profiled/profiled/internal/pgtest"
	"github.com/profiled/profiled/internal/testenv"
	"github.com/profiled/profiled/store/postgres"
	"github.com/profiled/profiled/store/sqlite"
)

// replicas is two Services on two store handles of one database, sharing
// a clock (as servers synced by NTP do) and the secret key (as replicas
// sharing PROFILED_SECRET_KEY do).
type replicas struct {
	t      *testing.T
	ctx    context.Context
	clock  *testenv.Clock
	stores [2]core.Store
	svc    [2]*core.Service
}

// A and B are the two replicas.
func (r *replicas) A() *core.Service { return r.svc[0] }
func (r *replicas) B() *core.Service { return r.svc[1] }

// newReplicas opens two handles on one fresh database of backend b.
// testenv.Backend opens a fresh database per call, so the second handle
// on the same database is opened here, the way each backend is shared.
func newReplicas(t *testing.T, b testenv.Backend) *replicas {
	t.Helper()
	ctx := context.Background()
	var open func() core.Store
	switch b.Name {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "profiled.db")
		open = func() core.Store {
			st, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatalf("sqlite.Open: %v", err)
			}
			return st
		}
	case "postgres":
		dsn, _ := pgtest.Schema(t)
		open = func() core.Store {
			st, err := postgres.Open(ctx, dsn, postgres.Options{Migrate: true, MaxConns: 4})
			if err != nil {
				t.Fatalf("postgres.Open: %v", err)
			}
			return st
		}
	default:
		t.Fatalf("no way to open a second handle on backend %q", b.Name)
	}
	r := &replicas{t: t, ctx: ctx, clock: testenv.NewClock(start)}
	box := testenv.TestKey()
	for i := range r.stores {
		st := open()
		t.Cleanup(func() { st.Close() })
		r.stores[i] = st
		r.svc[i] = core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: st, Box: box, SMS: &testenv.SMSInbox{}, Now: r.clock.Now, Rand: rand.Reader,
			ClientKeys: clientjwt.New(nil, nil)})
	}
	return r
}

// user creates a user through replica A and returns it acting through a
// fresh "*" token. An Actor carries no replica: either one serves it.
func (r *replicas) user(name string) core.Actor {
	r.t.Helper()
	a, _ := r.userRaw(name)
	return a
}

// userRaw is user, with the raw token too.
func (r *replicas) userRaw(name string) (core.Actor, string) {
	r.t.Helper()
	_, err := r.A().CreateUser(r.ctx, core.UserCreate{Username: name, Email: name + "@example.com"})
	noErr(r.t, err)
	_, raw, err := r.A().IssueToken(r.ctx, name, "test", core.AllScopes, nil)
	noErr(r.t, err)
	a, err := r.B().Authenticate(r.ctx, raw)
	noErr(r.t, err)
	return a, raw
}

// readyForTFA is a user who answered the security questions (through B)
// and holds a pending TOTP secret (from A).
func (r *replicas) readyForTFA(name string) (core.Actor, core.TFASecret) {
	r.t.Helper()
	a := r.user(name)
	_, err := r.B().AnswerSecurityQuestions(r.ctx, a, threeAnswers)
	noErr(r.t, err)
	sec, err := r.A().EnableTFA(r.ctx, a)
	noErr(r.t, err)
	return a, sec
}

// together runs fns at once: each goroutine waits at one barrier, so the
// calls race as closely as goroutines can.
func together(fns ...func()) {
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	for _, fn := range fns {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-gate
			fn()
		}()
	}
	ready.Wait()
	close(gate)
	done.Wait()
}

// forBackends runs test once per backend, each with its own database.
func forBackends(t *testing.T, test func(t *testing.T, r *replicas)) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { test(t, newReplicas(t, b)) })
	}
}

// TestReplicasConcurrentBootstrap: replicas that start together on an
// empty database all try to bootstrap; exactly one makes the admin and its
// token, the others make nothing and report no error.
func TestReplicasConcurrentBootstrap(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			for round := range 4 {
				r := newReplicas(t, b)
				var tokens [4]string
				var errs [4]error
				fns := make([]func(), len(tokens))
				for i := range fns {
					svc := r.svc[i%2]
					fns[i] = func() { tokens[i], errs[i] = svc.Bootstrap(r.ctx) }
				}
				together(fns...)
				won := 0
				var raw string
				for i, err := range errs {
					noErr(t, err)
					if tokens[i] != "" {
						won++
						raw = tokens[i]
					}
				}
				if won != 1 {
					t.Fatalf("round %d: %d of %d concurrent bootstraps returned a token, want 1", round, won, len(tokens))
				}
				for i, svc := range r.svc {
					a, err := svc.Authenticate(r.ctx, raw)
					noErr(t, err)
					if a.User.Username != "admin" {
						t.Fatalf("round %d: replica %d: the token acts as %q", round, i, a.User.Username)
					}
					n, err := r.stores[i].CountUsers(r.ctx)
					noErr(t, err)
					_, total, err := r.stores[i].ListTokens(r.ctx, a.User.ID, allRows)
					noErr(t, err)
					if n != 1 || total != 1 {
						t.Fatalf("round %d: replica %d sees %d users and %d admin tokens, want 1 and 1", round, i, n, total)
					}
				}
			}
		})
	}
}

// TestReplicasConcurrentConfirmTFA: two tfa-enable-confirm calls with the
// same valid code, one on each replica, at the same moment, enable TFA
// once: exactly one succeeds, the other is refused, and the one scratch
// code stored is the winner's. Repeated on several users, so the order of
// the race varies.
func TestReplicasConcurrentConfirmTFA(t *testing.T) {
	forBackends(t, func(t *testing.T, r *replicas) {
		for round := range 8 {
			a, sec := r.readyForTFA(fmt.Sprintf("racer%d", round))
			code := totpCode(t, sec.Secret, r.clock.Now())
			var scratch [2]string
			var errs [2]error
			together(
				func() { scratch[0], errs[0] = r.A().ConfirmTFA(r.ctx, a, code) },
				func() { scratch[1], errs[1] = r.B().ConfirmTFA(r.ctx, a, code) },
			)
			won := -1
			for i, err := range errs {
				if err == nil {
					if won >= 0 {
						t.Fatalf("round %d: both replicas confirmed TFA with one code (scratch codes %q and %q)", round, scratch[0], scratch[1])
					}
					won = i
				}
			}
			if won < 0 {
				t.Fatalf("round %d: neither replica confirmed a valid code: %v / %v", round, errs[0], errs[1])
			}
			lost := 1 - won
			wantErr(t, errs[lost], core.KindInvalid, "tfa_code")
			if scratch[lost] != "" {
				t.Fatalf("round %d: the refused confirm returned a scratch code", round)
			}
			for i, st := range r.stores {
				hashes, err := st.ScratchCodes(r.ctx, a.User.ID)
				noErr(t, err)
				if len(hashes) != 1 || !bytes.Equal(hashes[0], core.HashToken(scratch[won])) {
					t.Fatalf("round %d: replica %d sees %d scratch codes, want the winner's one", round, i, len(hashes))
				}
				u, err := st.UserByID(r.ctx, a.User.ID)
				noErr(t, err)
				if !u.TwoFactorAuth {
					t.Fatalf("round %d: replica %d sees TFA off after a confirm succeeded", round, i)
				}
				tfa, err := st.TFA(r.ctx, a.User.ID)
				noErr(t, err)
				if tfa.SecretEnc == nil || tfa.PendingSecretEnc != nil {
					t.Fatalf("round %d: replica %d sees TFA state %+v, want a confirmed secret and none pending", round, i, tfa)
				}
			}
		}
	})
}

// TestReplicasTOTPCodeUsedOnce: the pending secret from tfa-enable on one
// replica is confirmed on the other, and the code that was accepted there
// is refused when it is replayed on the first, in either direction.
func TestReplicasTOTPCodeUsedOnce(t *testing.T) {
	forBackends(t, func(t *testing.T, r *replicas) {
		for i, dir := range [][2]*core.Service{{r.A(), r.B()}, {r.B(), r.A()}} {
			first, second := dir[0], dir[1]
			a := r.user(fmt.Sprintf("replay%d", i))
			_, err := second.AnswerSecurityQuestions(r.ctx, a, threeAnswers)
			noErr(t, err)
			sec, err := second.EnableTFA(r.ctx, a) // the pending secret lives in the database
			noErr(t, err)
			code := totpCode(t, sec.Secret, r.clock.Now())
			scratch, err := first.ConfirmTFA(r.ctx, a, code)
			noErr(t, err)
			if scratch == "" {
				t.Fatal("confirm returned no scratch code")
			}
			_, err = second.ConfirmTFA(r.ctx, a, code)
			wantErr(t, err, core.KindInvalid, "tfa_code")
			// Still refused a step later, when the code is one step old and
			// within the skew the check allows.
			r.clock.Advance(30 * time.Second)
			_, err = second.ConfirmTFA(r.ctx, a, code)
			wantErr(t, err, core.KindInvalid, "tfa_code")
			u, err := second.Profile(r.ctx, a)
			noErr(t, err)
			if !u.TwoFactorAuth {
				t.Fatal("the other replica sees TFA off after the confirm")
			}
			st, err := r.stores[1-i].TFA(r.ctx, a.User.ID)
			noErr(t, err)
			if want := r.clock.Now().Add(-30*time.Second).Unix() / 30; st.LastStep != want {
				t.Fatalf("stored last step = %d, want %d, the step of the accepted code", st.LastStep, want)
			}
		}
	})
}

// TestReplicasConcurrentPutPreferences: PUTs of different whole objects
// at once, spread over both replicas, leave exactly one of them, byte for
// byte, never a mix; and both replicas read the same one.
func TestReplicasConcurrentPutPreferences(t *testing.T) {
	forBackends(t, func(t *testing.T, r *replicas) {
		a := r.user("prefs")
		const writers = 8
		for round := range 4 {
			values := make([]json.RawMessage, writers)
			for w := range values {
				// Every key in every object, each with the writer's mark:
				// a mix of two writes would show two marks.
				obj := map[string]any{"writer": w, "round": round}
				for k := range 40 {
					obj[fmt.Sprintf("key%02d", k)] = strings.Repeat(fmt.Sprintf("w%d-", w), 20)
				}
				b, err := json.Marshal(obj)
				noErr(t, err)
				values[w] = b
			}
			errs := make([]error, writers)
			fns := make([]func(), writers)
			for w := range fns {
				svc := r.svc[w%2]
				fns[w] = func() { _, errs[w] = svc.PutPreferences(r.ctx, a, values[w], nil) }
			}
			together(fns...)
			for w, err := range errs {
				if err != nil {
					t.Fatalf("round %d: writer %d: %v", round, w, err)
				}
			}
			var seen json.RawMessage
			for i, svc := range r.svc {
				got, err := svc.Preferences(r.ctx, a)
				noErr(t, err)
				match := -1
				for w, v := range values {
					if bytes.Equal(got, v) {
						match = w
					}
				}
				if match < 0 {
					t.Fatalf("round %d: replica %d reads preferences that no writer put (a mix?): %.200s", round, i, got)
				}
				if seen != nil && !bytes.Equal(seen, got) {
					t.Fatalf("round %d: the replicas read different preferences", round)
				}
				seen = got
			}
		}
	})
}

// TestReplicasIfMatch: writers on both replicas that read the same
// version and write with If-Match: exactly one wins each round, the others
// get PreconditionFailed, on SQLite and PostgreSQL (issue 11, item 13).
func TestReplicasIfMatch(t *testing.T) {
	forBackends(t, func(t *testing.T, r *replicas) {
		a := r.user("ifmatch")
		for round := range 4 {
			cur, err := r.A().Preferences(r.ctx, a)
			noErr(t, err)
			tag := core.PreferencesTag(cur)
			const writers = 6
			errs := make([]error, writers)
			fns := make([]func(), writers)
			for w := range fns {
				svc := r.svc[w%2]
				v := json.RawMessage(fmt.Sprintf(`{"round":%d,"writer":%d}`, round, w))
				fns[w] = func() {
					_, errs[w] = svc.PutPreferences(r.ctx, a, v, func(current string) bool { return current == tag })
				}
			}
			together(fns...)
			won := 0
			for _, err := range errs {
				switch core.KindOf(err) {
				case core.KindInternal:
					if err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
					won++
				case core.KindPreconditionFailed:
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d writers with one If-Match won, want 1", round, won)
			}
		}
	})
}

// TestReplicasShareAttemptLimit: wrong TFA codes tried through both
// replicas draw from one budget of 5: the 6th attempt overall is refused
// with TooManyRequests on either replica, even with the right code. When
// the attempts race, exactly 5 of them are checked.
func TestReplicasShareAttemptLimit(t *testing.T) {
	forBackends(t, func(t *testing.T, r *replicas) {
		t.Run("one after another", func(t *testing.T) {
			a, sec := r.readyForTFA("guesser")
			bad := wrongCode(t, sec.Secret, r.clock.Now())
			for i := range 5 {
				_, err := r.svc[i%2].ConfirmTFA(r.ctx, a, bad)
				wantErr(t, err, core.KindInvalid, "tfa_code")
			}
			good := totpCode(t, sec.Secret, r.clock.Now())
			for i, svc := range r.svc {
				_, err := svc.ConfirmTFA(r.ctx, a, good)
				ce := wantErr(t, err, core.KindTooManyRequests, "-")
				if ce.RetryAfter <= 0 || ce.RetryAfter > 15*time.Minute {
					t.Fatalf("replica %d: RetryAfter = %v, want within the 15-minute window", i, ce.RetryAfter)
				}
			}
			if u, err := r.B().Profile(r.ctx, a); err != nil || u.TwoFactorAuth {
				t.Fatalf("TFA on after the budget was spent: %+v %v", u, err)
			}
		})
		t.Run("at once", func(t *testing.T) {
			a, sec := r.readyForTFA("swarm")
			bad := wrongCode(t, sec.Secret, r.clock.Now())
			const tries = 12
			errs := make([]error, tries)
			fns := make([]func(), tries)
			for i := range fns {
				svc := r.svc[i%2]
				fns[i] = func() { _, errs[i] = svc.ConfirmTFA(r.ctx, a, bad) }
			}
			together(fns...)
			kinds := map[core.Kind]int{}
			for _, err := range errs {
				if err == nil {
					t.Fatal("a wrong code was accepted")
				}
				if core.AsError(err) == nil {
					t.Fatalf("an attempt failed inside: %v", err)
				}
				kinds[core.KindOf(err)]++
			}
			if kinds[core.KindInvalid] != 5 || kinds[core.KindTooManyRequests] != tries-5 {
				t.Fatalf("%d racing wrong codes: %d checked (Invalid) and %d refused (TooManyRequests), want 5 and %d",
					tries, kinds[core.KindInvalid], kinds[core.KindTooManyRequests], tries-5)
			}
		})
	})
}

// TestReplicasCreateRevokeTokens: tokens created on one replica and
// revoked on the other while both keep authenticating: once RevokeToken
// has returned, the token authenticates on neither replica, never again;
// a token never revoked keeps working. Two revocations of one token at
// once succeed once.
func TestReplicasCreateRevokeTokens(t *testing.T) {
	forBackends(t, func(t *testing.T, r *replicas) {
		a := r.user("churn")
		const creators, perCreator = 4, 6

		type issued struct {
			tok core.Token
			raw string
		}
		created := make(chan issued, creators*perCreator)
		var mu sync.Mutex
		revoked := map[int64]string{}
		kept := map[int64]string{}
		fail := make(chan string, 1000)
		failf := func(format string, args ...any) {
			select {
			case fail <- fmt.Sprintf(format, args...):
			default:
			}
		}

		var creating, revoking sync.WaitGroup
		for c := range creators {
			creating.Add(1)
			go func() {
				defer creating.Done()
				for i := range perCreator {
					svc := r.svc[(c+i)%2]
					tok, raw, err := svc.CreateToken(r.ctx, a, core.TokenCreate{Label: fmt.Sprintf("c%d-%d", c, i)})
					if err != nil {
						failf("create: %v", err)
						return
					}
					created <- issued{tok, raw}
				}
			}()
		}
		// Revokers take every other token as it appears, on the replica
		// that did not create it, and check it at once on both.
		for g := range 2 {
			revoking.Add(1)
			go func() {
				defer revoking.Done()
				for it := range created {
					if it.tok.ID%2 == 1 {
						mu.Lock()
						kept[it.tok.ID] = it.raw
						mu.Unlock()
						// A live token works on both replicas right away.
						for i, svc := range r.svc {
							if _, err := svc.Authenticate(r.ctx, it.raw); err != nil {
								failf("token %d, just created, fails on replica %d: %v", it.tok.ID, i, err)
							}
						}
						continue
					}
					if err := r.svc[g].RevokeToken(r.ctx, a, it.tok.ID); err != nil {
						failf("revoke %d: %v", it.tok.ID, err)
						continue
					}
					mu.Lock()
					revoked[it.tok.ID] = it.raw
					mu.Unlock()
					for i, svc := range r.svc {
						if _, err := svc.Authenticate(r.ctx, it.raw); core.KindOf(err) != core.KindUnauthorized {
							failf("token %d, revoked, on replica %d: Authenticate = %v, want Unauthorized", it.tok.ID, i, err)
						}
					}
				}
			}()
		}
		// Meanwhile, readers keep authenticating every revoked token on
		// both replicas: none may ever come back.
		stop := make(chan struct{})
		var reading sync.WaitGroup
		for i := range r.svc {
			reading.Add(1)
			go func() {
				defer reading.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					raws := make(map[int64]string, len(revoked))
					for id, raw := range revoked {
						raws[id] = raw
					}
					mu.Unlock()
					for id, raw := range raws {
						if _, err := r.svc[i].Authenticate(r.ctx, raw); core.KindOf(err) != core.KindUnauthorized {
							failf("revoked token %d authenticated again on replica %d: %v", id, i, err)
						}
					}
					time.Sleep(time.Millisecond)
				}
			}()
		}
		creating.Wait()
		close(created)
		revoking.Wait()
		close(stop)
		reading.Wait()
		close(fail)
		for msg := range fail {
			t.Error(msg)
		}
		if t.Failed() {
			return
		}
		if len(revoked)+len(kept) != creators*perCreator || len(revoked) == 0 || len(kept) == 0 {
			t.Fatalf("%d revoked and %d kept, want %d in all, some of each", len(revoked), len(kept), creators*perCreator)
		}

		// Both replicas list exactly the acting token and the kept ones.
		for i, svc := range r.svc {
			page, err := svc.Tokens(r.ctx, a, allRows)
			noErr(t, err)
			ids := map[int64]bool{}
			for _, tok := range page.Data {
				ids[tok.ID] = true
			}
			if len(ids) != len(kept)+1 || !ids[a.Token.ID] {
				t.Fatalf("replica %d lists %d tokens, want the %d kept and the acting one", i, len(ids), len(kept))
			}
			for id, raw := range kept {
				if !ids[id] {
					t.Fatalf("replica %d does not list kept token %d", i, id)
				}
				if _, err := svc.Authenticate(r.ctx, raw); err != nil {
					t.Fatalf("kept token %d fails on replica %d: %v", id, i, err)
				}
			}
			for id := range revoked {
				if ids[id] {
					t.Fatalf("replica %d lists revoked token %d", i, id)
				}
			}
		}

		// Two revocations of one token at once, one per replica: one
		// succeeds, the other finds nothing to revoke.
		for id, raw := range kept {
			var errs [2]error
			together(
				func() { errs[0] = r.A().RevokeToken(r.ctx, a, id) },
				func() { errs[1] = r.B().RevokeToken(r.ctx, a, id) },
			)
			if (errs[0] == nil) == (errs[1] == nil) {
				t.Fatalf("token %d revoked on both replicas at once: %v / %v, want one success and one NotFound", id, errs[0], errs[1])
			}
			for _, err := range errs {
				if err != nil {
					wantErr(t, err, core.KindNotFound, "-")
				}
			}
			for i, svc := range r.svc {
				if _, err := svc.Authenticate(r.ctx, raw); core.KindOf(err) != core.KindUnauthorized {
					t.Fatalf("token %d revoked twice at once still authenticates on replica %d: %v", id, i, err)
				}
			}
		}

		// A token revoking itself on one replica while a client keeps
		// using it on the other: once the revocation is acknowledged, the
		// token is refused on both, at once and from then on.
		self, selfRaw := r.userRaw("selfrevoker")
		var revokeErr error
		revokedAt := make(chan struct{})
		var afterAck []error
		together(
			func() {
				revokeErr = r.A().RevokeToken(r.ctx, self, self.Token.ID)
				close(revokedAt)
			},
			func() {
				for {
					select {
					case <-revokedAt:
						// Acknowledged: every request from now on fails.
						for _, svc := range r.svc {
							_, err := svc.Authenticate(r.ctx, selfRaw)
							afterAck = append(afterAck, err)
						}
						return
					default:
					}
					if actor, err := r.B().Authenticate(r.ctx, selfRaw); err == nil {
						_, _, _ = r.B().CreateToken(r.ctx, actor, core.TokenCreate{Label: "meanwhile"})
					}
				}
			},
		)
		noErr(t, revokeErr)
		for i, err := range afterAck {
			if core.KindOf(err) != core.KindUnauthorized {
				t.Fatalf("replica %d: the self-revoked token authenticates after the revocation was acknowledged: %v", i, err)
			}
		}
		tokens, err := r.B().Tokens(r.ctx, self, allRows)
		noErr(t, err)
		for _, tok := range tokens.Data {
			if tok.ID == self.Token.ID {
				t.Fatal("the self-revoked token is still listed")
			}
		}
	})
}

// TestReplicasSigningKeys: the keys that sign ID tokens are the store's,
// so replicas that make their first key at once agree on which one signs,
// a rotation on one is the other's too, and what the store holds of a
// private key is sealed, not the key.
func TestReplicasSigningKeys(t *testing.T) {
	forBackends(t, func(t *testing.T, r *replicas) {
		var sets [2][]core.SigningKey
		together(func() {
			var err error
			sets[0], err = r.A().SigningKeys(r.ctx)
			noErr(t, err)
		}, func() {
			var err error
			sets[1], err = r.B().SigningKeys(r.ctx)
			noErr(t, err)
		})
		// Each replica may have made one; both see every key made.
		a, err := r.A().SigningKeys(r.ctx)
		noErr(t, err)
		b, err := r.B().SigningKeys(r.ctx)
		noErr(t, err)
		if len(a) == 0 || len(a) > 2 || len(a) != len(b) {
			t.Fatalf("A has %d keys, B %d", len(a), len(b))
		}
		for i := range a {
			if a[i].ID != b[i].ID || !a[i].Private.Equal(b[i].Private) {
				t.Fatalf("key %d: A has %s, B %s", i, a[i].ID, b[i].ID)
			}
		}
		rotated, _, err := r.B().RotateSigningKey(r.ctx)
		noErr(t, err)
		a, err = r.A().SigningKeys(r.ctx)
		noErr(t, err)
		if a[0].ID != rotated.ID || !a[0].Private.Equal(rotated.Private) {
			t.Fatalf("A's newest key is %s, B rotated to %s", a[0].ID, rotated.ID)
		}
		stored, err := r.stores[0].SigningKeys(r.ctx)
		noErr(t, err)
		for _, k := range stored {
			if _, err := x509.ParsePKCS8PrivateKey(k.Sealed); err == nil {
				t.Fatalf("the store holds key %s in the clear", k.ID)
			}
		}
		// Another key file cannot open them.
		other := core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: r.stores[1], Box: otherKey(t), Now: r.clock.Now})
		if _, err := other.SigningKeys(r.ctx); err == nil || !strings.Contains(err.Error(), "key file") {
			t.Fatalf("keys opened with another key file: %v", err)
		}
	})
}

func otherKey(t *testing.T) *core.SecretBox {
	box, err := core.NewSecretBox(bytes.Repeat([]byte{7}, 32))
	noErr(t, err)
	return box
}

// TestReplicasDeviceCodes: the device grant's limits and decisions hold
// across replicas when the requests arrive at once: a user typing codes
// gets DeviceCodeAttempts looked at, however they are spread; of polls
// sent together one is in time and the rest are told to slow down; of an
// approval and a denial at once one counts; of polls for an approved
// code at once, one gets the tokens.
func TestReplicasDeviceCodes(t *testing.T) {
	forBackends(t, func(t *testing.T, r *replicas) {
		noErr(t, r.A().SetPassword(r.ctx, r.user("bob").User.ID, alicePassword))
		res, err := r.A().SignIn(r.ctx, core.SignInRequest{Username: "bob", Password: alicePassword, IP: "192.0.2.1"})
		noErr(t, err)
		bob, err := r.B().Authenticate(r.ctx, res.SessionSecret)
		noErr(t, err)
		cli, _, err := r.A().CreateOAuthClient(r.ctx, core.OAuthClientCreate{Label: "CLI", Website: "https://cli.example",
			RedirectURIs: []string{"http://127.0.0.1/cb"}, Public: true, DeviceGrant: true})
		noErr(t, err)
		poll := func(svc *core.Service, code string) (core.TokenGrant, error) {
			return svc.OAuthToken(r.ctx, core.TokenRequest{GrantType: core.GrantTypeDeviceCode, ClientID: cli.ID, DeviceCode: code})
		}
		oauthCodes := func(errs []error) map[string]int {
			out := map[string]int{}
			for _, err := range errs {
				switch oe := core.AsOAuthError(err); {
				case err == nil:
					out["ok"]++
				case oe != nil:
					out[oe.Code]++
				default:
					t.Fatalf("a poll failed inside: %v", err)
				}
			}
			return out
		}

		// atOnce sends n calls together, alternating the replicas, and
		// returns their errors.
		atOnce := func(n int, call func(svc *core.Service) error) []error {
			errs := make([]error, n)
			fns := make([]func(), n)
			for i := range fns {
				svc := r.svc[i%2]
				fns[i] = func() { errs[i] = call(svc) }
			}
			together(fns...)
			return errs
		}

		t.Run("user codes at once", func(t *testing.T) {
			errs := atOnce(2*core.DeviceCodeAttempts, func(svc *core.Service) error {
				_, err := svc.DeviceRequest(r.ctx, bob, "BBBB-BBBB")
				return err
			})
			kinds := map[core.Kind]int{}
			for _, err := range errs {
				kinds[core.KindOf(err)]++
			}
			if kinds[core.KindInvalid] != core.DeviceCodeAttempts || kinds[core.KindTooManyRequests] != core.DeviceCodeAttempts {
				t.Fatalf("%d codes typed at once on two replicas: %v, want %d looked at (Invalid) and the rest 429",
					len(errs), kinds, core.DeviceCodeAttempts)
			}
		})
		r.clock.Advance(core.DeviceCodeWindow)

		da, err := r.A().DeviceAuthorize(r.ctx, core.DeviceAuthorizeRequest{ClientID: cli.ID, IP: "192.0.2.7"})
		noErr(t, err)
		t.Run("polls at once", func(t *testing.T) {
			errs := atOnce(8, func(svc *core.Service) error { _, err := poll(svc, da.DeviceCode); return err })
			if got := oauthCodes(errs); got[core.OAuthAuthorizationPending] != 1 || got[core.OAuthSlowDown] != len(errs)-1 {
				t.Fatalf("%d polls at once: %v, want one in time (authorization_pending) and the rest slow_down", len(errs), got)
			}
		})
		t.Run("an approval and a denial at once", func(t *testing.T) {
			var approveErr, denyErr error
			together(func() { _, approveErr = r.A().DecideDevice(r.ctx, bob, da.UserCode, granting(core.AllScopes)) },
				func() { _, denyErr = r.B().DecideDevice(r.ctx, bob, da.UserCode, nil) })
			if (approveErr == nil) == (denyErr == nil) {
				t.Fatalf("approve: %v, deny: %v; want exactly one to count", approveErr, denyErr)
			}
		})
		t.Run("polls at once for an approved code", func(t *testing.T) {
			approved, err := r.B().DeviceAuthorize(r.ctx, core.DeviceAuthorizeRequest{ClientID: cli.ID, IP: "192.0.2.7"})
			noErr(t, err)
			_, err = r.A().DecideDevice(r.ctx, bob, approved.UserCode, granting(core.AllScopes))
			noErr(t, err)
			errs := atOnce(6, func(svc *core.Service) error { _, err := poll(svc, approved.DeviceCode); return err })
			if got := oauthCodes(errs); got["ok"] != 1 || got[core.OAuthInvalidGrant] != len(errs)-1 {
				t.Fatalf("%d polls at once for an approved code: %v, want one with the tokens and the rest invalid_grant", len(errs), got)
			}
			apps, err := r.B().Apps(r.ctx, bob, core.ListQuery{Page: 1, PageSize: 100})
			noErr(t, err)
			if len(apps.Data) != 1 {
				t.Fatalf("bob has %d authorizations, want the one the device got", len(apps.Data))
			}
		})
	})
}

// TestReplicasClientAssertionsOnce: one client assertion (private_key_jwt)
// sent to two replicas at once, many times, authenticates exactly one
// request: its jti is spent in the database, not in a replica's memory.
func TestReplicasClientAssertionsOnce(t *testing.T) {
	forBackends(t, func(t *testing.T, r *replicas) {
		key := keytest.New(t, "k1")
		c, _, err := r.A().CreateOAuthClient(r.ctx, core.OAuthClientCreate{Label: "Bank", Website: "https://bank.example",
			RedirectURIs: []string{"https://bank.example/cb"}, JWKS: key.JWKS(t)})
		noErr(t, err)
		auth := core.ClientAuth{Assertion: key.Assertion(t, c.ID, keyedAudience, "once", r.clock.Now()), Audiences: []string{keyedAudience}}
		const n = 10
		errs := make([]error, n)
		fns := make([]func(), n)
		for i := range fns {
			svc := r.svc[i%2]
			fns[i] = func() { _, errs[i] = svc.Introspect(r.ctx, auth, "nothing") }
		}
		together(fns...)
		codes := map[string]int{}
		for _, err := range errs {
			switch oe := core.AsOAuthError(err); {
			case err == nil:
				codes["ok"]++
			case oe != nil:
				codes[oe.Code]++
			default:
				t.Fatalf("an introspection failed inside: %v", err)
			}
		}
		if codes["ok"] != 1 || codes[core.OAuthInvalidClient] != n-1 {
			t.Fatalf("one assertion %d times at once on two replicas: %v, want one ok and the rest invalid_client", n, codes)
		}
	})
}

// TestReplicasConfirmSecondFactor: a session of a trusted device types
// its second factor (stepup.go). One code sent to both replicas at once
// is taken once, and both replicas then see the session holding the
// factor, though each had it in its token cache; wrong codes sent at
// once to both are judged no more often than the sign-in limits allow.
func TestReplicasConfirmSecondFactor(t *testing.T) {
	forBackends(t, func(t *testing.T, r *replicas) {
		onDevice := func(name string) (core.Actor, string, string) {
			t.Helper()
			a, sec := r.readyForTFA(name)
			_, err := r.B().ConfirmTFA(r.ctx, a, totpCode(t, sec.Secret, r.clock.Now()))
			noErr(t, err)
			noErr(t, r.A().SetPassword(r.ctx, a.User.ID, alicePassword))
			r.clock.Advance(30 * time.Second)
			res, err := r.A().SignIn(r.ctx, core.SignInRequest{Username: name, Password: alicePassword, RememberMe: true})
			noErr(t, err)
			done, err := r.B().SignInTFA(r.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: totpCode(t, sec.Secret, r.clock.Now())})
			noErr(t, err)
			r.clock.Advance(30 * time.Second)
			res, err = r.A().SignIn(r.ctx, core.SignInRequest{Username: name, Password: alicePassword, DeviceSecret: done.DeviceSecret})
			noErr(t, err)
			session, err := r.B().Authenticate(r.ctx, res.SessionSecret)
			noErr(t, err)
			return session, res.SessionSecret, sec.Secret
		}

		session, secret, totpSecret := onDevice("stepper")
		for _, svc := range r.svc { // each replica's cache holds the session
			a, err := svc.Authenticate(r.ctx, secret)
			noErr(t, err)
			if a.Token.AuthMethods.Has("mfa") {
				t.Fatal("a trusted device's session holds the second factor")
			}
		}
		code := totpCode(t, totpSecret, r.clock.Now())
		errs := make([]error, 10)
		fns := make([]func(), len(errs))
		for i := range fns {
			svc := r.svc[i%2]
			fns[i] = func() { errs[i] = svc.ConfirmSecondFactor(r.ctx, session, code, "192.0.2.9") }
		}
		together(fns...)
		taken := 0
		for _, err := range errs {
			switch {
			case err == nil:
				taken++
			case core.KindOf(err) != core.KindUnauthorized && core.KindOf(err) != core.KindTooManyRequests:
				t.Fatalf("a confirmation: %v", err)
			}
		}
		if taken != 1 {
			t.Fatalf("one code sent 10 times at once was taken %d times", taken)
		}
		for i, svc := range r.svc {
			a, err := svc.Authenticate(r.ctx, secret)
			noErr(t, err)
			if !a.Token.AuthMethods.Has("mfa") || a.Token.ID != session.Token.ID {
				t.Fatalf("replica %d sees the session as %+v after its second factor", i, a.Token)
			}
		}

		guesser, _, _ := onDevice("guesser")
		errs = make([]error, 16)
		fns = make([]func(), len(errs))
		for i := range fns {
			svc := r.svc[i%2]
			fns[i] = func() { errs[i] = svc.ConfirmSecondFactor(r.ctx, guesser, "000000", "192.0.2.10") }
		}
		together(fns...)
		kinds := map[core.Kind]int{}
		for _, err := range errs {
			if err == nil || core.AsError(err) == nil {
				t.Fatalf("a wrong code: %v", err)
			}
			kinds[core.KindOf(err)]++
		}
		if kinds[core.KindUnauthorized] > 6 || kinds[core.KindUnauthorized]+kinds[core.KindTooManyRequests] != len(errs) {
			t.Fatalf("%d wrong codes at once: %v judged or refused, want at most 6 judged", len(errs), kinds)
		}
	})
}
