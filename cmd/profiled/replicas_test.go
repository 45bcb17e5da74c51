package main

// TestReplicas is the multi-replica test of issue 3: three "profiled serve"
// processes of the real binary on one PostgreSQL schema behave as one
// server. A scripted workload, spread round-robin over them with the
// unmodified linodego client, checks after every acknowledged write that
// the next request to each replica reflects it, and that every revocation
// holds on every replica at once.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/linode/linodego"
	"github.com/pquerna/otp/totp"

	"github.com/profiled/profiled/internal/pgtest"
	"github.com/profiled/profiled/internal/testenv"
)

// replicaProc is one "profiled serve" child process.
type replicaProc struct {
	name string // A, B, C
	*process
}

// cluster is the replicas on one database, and what a test needs to make
// clients for them and to run the binary's other commands.
type cluster struct {
	t        *testing.T
	bin, dsn string
	environ  []string
	reps     []*replicaProc
	http     *http.Client
}

// startReplica starts "profiled serve" on a free loopback port and waits
// for its "listening on" line. The process is stopped when t ends: SIGTERM,
// then SIGKILL if it has not exited within 10 s.
func (c *cluster) startReplica(name string) (*replicaProc, error) {
	cmd := exec.Command(c.bin, "serve", "--addr", "127.0.0.1:0", "--drain", "0s", "--db", c.dsn,
		"--log-format", "text", "--pg-max-conns", "4")
	cmd.Env = c.environ
	p, err := spawnServe(c.t, cmd, 20*time.Second, (*process).terminate)
	if err != nil {
		return nil, fmt.Errorf("replica %s: %w", name, err)
	}
	return &replicaProc{name: name, process: p}, nil
}

// client is an unmodified linodego client for replica i acting with token.
func (c *cluster) client(i int, token string) *linodego.Client {
	return testenv.Linodego(c.http, c.reps[i].base, token)
}

// onEvery runs check against every replica, each with a fresh client, and
// fails the test naming the replica and what was being checked.
func (c *cluster) onEvery(t *testing.T, what, token string, check func(lc *linodego.Client) error) {
	t.Helper()
	for i, r := range c.reps {
		if err := check(c.client(i, token)); err != nil {
			t.Fatalf("replica %s, %s: %v", r.name, what, err)
		}
	}
}

// runBinary runs one of the binary's operator commands on the database.
func (c *cluster) runBinary(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(c.bin, append(args, "--db", c.dsn)...)
	cmd.Env = c.environ
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("profiled %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("profiled %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// newUser creates a user and a "*" token for it with the operator's
// commands, while the replicas run, and returns the token.
func (c *cluster) newUser(t *testing.T, name string) string {
	t.Helper()
	c.runBinary(t, "users", "create", "--username", name, "--email", name+"@example.com")
	return c.runBinary(t, "tokens", "create", "--username", name, "--label", "replicas")
}

// wantStatus is nil if err is an API error with status want.
func wantStatus(err error, want int) error {
	if got := testenv.APIStatus(err); got != want {
		return fmt.Errorf("got %v, want HTTP %d", err, want)
	}
	return nil
}

func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts three servers; skipped in -short mode")
	}
	began := time.Now()
	// Skips with a message when PostgreSQL is unreachable, fails under CI=true.
	dsn, schema := pgtest.Schema(t)
	key := make([]byte, 32)
	rand.Read(key)
	c := &cluster{
		t:   t,
		bin: buildProfiled(t),
		dsn: dsn,
		// One PROFILED_SECRET_KEY for every replica, nothing else of the
		// test's environment.
		environ: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PROFILED_SECRET_KEY=" + hex.EncodeToString(key)},
		http:    &http.Client{Timeout: 10 * time.Second},
	}
	built := time.Now()

	// Three replicas start together on an empty schema: they migrate it
	// under the advisory lock and race to bootstrap; one wins.
	names := []string{"A", "B", "C"}
	c.reps = make([]*replicaProc, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { c.reps[i], errs[i] = c.startReplica(name) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var admin string
	for _, r := range c.reps {
		if r.token != "" {
			if admin != "" {
				t.Fatalf("more than one replica printed a bootstrap token")
			}
			admin = r.token
		}
	}
	if admin == "" {
		t.Fatal("no replica printed the bootstrap token")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var users, tokens int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tokens)`).Scan(&users, &tokens); err != nil {
		t.Fatal(err)
	}
	if users != 1 || tokens != 1 {
		t.Fatalf("after three concurrent bootstraps: %d users and %d tokens in schema %s, want 1 and 1", users, tokens, schema)
	}
	for _, r := range c.reps {
		if status, body := call(t, "GET", r.base+"/healthz", "", ""); status != http.StatusOK {
			t.Fatalf("replica %s: GET /healthz = %d %s", r.name, status, body)
		}
	}
	c.onEvery(t, "the bootstrap token", admin, func(lc *linodego.Client) error {
		p, err := lc.GetProfile(ctx)
		if err == nil && p.Username != "admin" {
			err = fmt.Errorf("acts as %q, want admin", p.Username)
		}
		return err
	})
	started := time.Now()

	// rr hands out replicas round-robin for the workload's writes.
	next := 0
	rr := func() int { i := next % len(c.reps); next++; return i }

	t.Run("tokens", func(t *testing.T) {
		for round := range 6 {
			w := rr()
			tok, err := c.client(w, admin).CreateToken(ctx, linodego.TokenCreateOptions{Label: fmt.Sprintf("round-%d", round), Scopes: "account:read_write"})
			if err != nil {
				t.Fatalf("create token on replica %s: %v", c.reps[w].name, err)
			}
			c.onEvery(t, fmt.Sprintf("token %d created on %s", tok.ID, c.reps[w].name), admin, func(lc *linodego.Client) error {
				got, err := lc.GetToken(ctx, tok.ID)
				if err == nil && (got.Label != tok.Label || got.Scopes != "account:read_write") {
					err = fmt.Errorf("reads %+v", got)
				}
				return err
			})
			c.onEvery(t, fmt.Sprintf("the new token %d itself", tok.ID), tok.Token, func(lc *linodego.Client) error {
				_, err := lc.ListSSHKeys(ctx, nil)
				return err
			})
			// Revoke on the next replica, alternately with the admin token
			// and with the token itself.
			r := rr()
			revoker := admin
			if round%2 == 1 {
				revoker = tok.Token
			}
			if err := c.client(r, revoker).DeleteToken(ctx, tok.ID); err != nil {
				t.Fatalf("revoke token %d on replica %s: %v", tok.ID, c.reps[r].name, err)
			}
			c.onEvery(t, fmt.Sprintf("token %d revoked on %s", tok.ID, c.reps[r].name), tok.Token, func(lc *linodego.Client) error {
				_, err := lc.GetProfile(ctx)
				return wantStatus(err, http.StatusUnauthorized)
			})
			c.onEvery(t, fmt.Sprintf("token %d revoked on %s, read by admin", tok.ID, c.reps[r].name), admin, func(lc *linodego.Client) error {
				if _, err := lc.GetToken(ctx, tok.ID); testenv.APIStatus(err) != http.StatusNotFound {
					return fmt.Errorf("GET the revoked token: %v, want 404", err)
				}
				list, err := lc.ListTokens(ctx, nil)
				if err != nil {
					return err
				}
				for _, l := range list {
					if l.ID == tok.ID {
						return fmt.Errorf("the revoked token %d is listed", tok.ID)
					}
				}
				return nil
			})
		}
	})

	t.Run("ssh keys", func(t *testing.T) {
		for round := range 6 {
			w := rr()
			key := testenv.NewSSHKey(t, fmt.Sprintf("round%d@replicas", round))
			k, err := c.client(w, admin).CreateSSHKey(ctx, linodego.SSHKeyCreateOptions{Label: fmt.Sprintf("key-%d", round), SSHKey: key})
			if err != nil {
				t.Fatalf("create SSH key on replica %s: %v", c.reps[w].name, err)
			}
			c.onEvery(t, fmt.Sprintf("SSH key %d added on %s", k.ID, c.reps[w].name), admin, func(lc *linodego.Client) error {
				got, err := lc.GetSSHKey(ctx, k.ID)
				if err != nil {
					return err
				}
				if got.SSHKey != key {
					return fmt.Errorf("reads key %q", got.SSHKey)
				}
				list, err := lc.ListSSHKeys(ctx, nil)
				if err != nil {
					return err
				}
				if len(list) != 1 || list[0].ID != k.ID {
					return fmt.Errorf("lists %d keys, want only %d", len(list), k.ID)
				}
				return nil
			})
			// The same key again, on another replica, is a key of its own.
			again, err := c.client(rr(), admin).CreateSSHKey(ctx, linodego.SSHKeyCreateOptions{Label: "again", SSHKey: key})
			if err != nil || again.ID == k.ID {
				t.Fatalf("the same SSH key again on another replica: %+v, %v", again, err)
			}
			if err := c.client(rr(), admin).DeleteSSHKey(ctx, again.ID); err != nil {
				t.Fatalf("delete the second copy: %v", err)
			}
			d := rr()
			if err := c.client(d, admin).DeleteSSHKey(ctx, k.ID); err != nil {
				t.Fatalf("delete SSH key %d on replica %s: %v", k.ID, c.reps[d].name, err)
			}
			c.onEvery(t, fmt.Sprintf("SSH key %d deleted on %s", k.ID, c.reps[d].name), admin, func(lc *linodego.Client) error {
				if _, err := lc.GetSSHKey(ctx, k.ID); testenv.APIStatus(err) != http.StatusNotFound {
					return fmt.Errorf("GET the deleted key: %v, want 404", err)
				}
				list, err := lc.ListSSHKeys(ctx, nil)
				if err == nil && len(list) != 0 {
					err = fmt.Errorf("lists %d keys after the delete", len(list))
				}
				return err
			})
		}
	})

	answers := []linodego.SecurityQuestionsAnswerQuestion{
		{QuestionID: 2, Response: "Annabel"}, {QuestionID: 9, Response: "Lisbon"}, {QuestionID: 16, Response: "Le Guin"},
	}
	answer := func(t *testing.T, token string, on int) {
		t.Helper()
		if err := c.client(on, token).SecurityQuestionsAnswer(ctx, linodego.SecurityQuestionsAnswerOptions{SecurityQuestions: answers}); err != nil {
			t.Fatalf("answer security questions on replica %s: %v", c.reps[on].name, err)
		}
		c.onEvery(t, "security answers given on "+c.reps[on].name, token, func(lc *linodego.Client) error {
			qs, err := lc.SecurityQuestionsList(ctx)
			if err != nil {
				return err
			}
			for _, a := range answers {
				if got := qs.SecurityQuestions[a.QuestionID-1].Response; got != a.Response {
					return fmt.Errorf("question %d answered %q, want %q", a.QuestionID, got, a.Response)
				}
			}
			return nil
		})
	}

	t.Run("tfa", func(t *testing.T) {
		answer(t, admin, rr())
		// tfa-enable on A, confirm on B, replay the code on C.
		sec, err := c.client(0, admin).CreateTwoFactorSecret(ctx)
		if err != nil {
			t.Fatalf("tfa-enable on A: %v", err)
		}
		code, err := totp.GenerateCode(sec.Secret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.client(1, admin).ConfirmTwoFactor(ctx, linodego.ConfirmTwoFactorOptions{TFACode: code})
		if err != nil || res.Scratch == "" {
			t.Fatalf("tfa-enable-confirm on B with A's secret: %+v %v", res, err)
		}
		c.onEvery(t, "TFA confirmed on B", admin, func(lc *linodego.Client) error {
			p, err := lc.GetProfile(ctx)
			if err == nil && !p.TwoFactorAuth {
				err = errors.New("two_factor_auth is false")
			}
			return err
		})
		if _, err := c.client(2, admin).ConfirmTwoFactor(ctx, linodego.ConfirmTwoFactorOptions{TFACode: code}); testenv.APIStatus(err) != http.StatusBadRequest {
			t.Fatalf("the code accepted on B, replayed on C: %v, want 400", err)
		}
		var scratch int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM scratch_codes s JOIN users u ON u.id = s.user_id WHERE u.username = 'admin'`).Scan(&scratch); err != nil || scratch != 1 {
			t.Fatalf("scratch codes stored: %d %v, want 1", scratch, err)
		}
		d := rr()
		if err := c.client(d, admin).DisableTwoFactor(ctx); err != nil {
			t.Fatalf("tfa-disable on %s: %v", c.reps[d].name, err)
		}
		c.onEvery(t, "TFA disabled on "+c.reps[d].name, admin, func(lc *linodego.Client) error {
			p, err := lc.GetProfile(ctx)
			if err == nil && p.TwoFactorAuth {
				err = errors.New("two_factor_auth is still true")
			}
			return err
		})
	})

	t.Run("preferences", func(t *testing.T) {
		for round := range 6 {
			w := rr()
			want := linodego.ProfilePreferences{"round": float64(round), "theme": fmt.Sprintf("theme-%d", round),
				"sortKeys": map[string]any{"linodes": fmt.Sprintf("label-%d", round)}}
			if _, err := c.client(w, admin).UpdateProfilePreferences(ctx, want); err != nil {
				t.Fatalf("put preferences on replica %s: %v", c.reps[w].name, err)
			}
			c.onEvery(t, fmt.Sprintf("preferences of round %d put on %s", round, c.reps[w].name), admin, func(lc *linodego.Client) error {
				got, err := lc.GetProfilePreferences(ctx)
				if err == nil && !reflect.DeepEqual(*got, want) {
					err = fmt.Errorf("reads %v, want %v", *got, want)
				}
				return err
			})
		}
		// Whole objects PUT at once on all three: one of them is left, whole,
		// and every replica reads that one.
		const writers = 9
		values := make([]linodego.ProfilePreferences, writers)
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for w := range writers {
			v := linodego.ProfilePreferences{"writer": float64(w)}
			for k := range 30 {
				v[fmt.Sprintf("key%02d", k)] = strings.Repeat(strconv.Itoa(w), 50)
			}
			values[w] = v
			lc := c.client(w%len(c.reps), admin)
			wg.Go(func() { _, errs[w] = lc.UpdateProfilePreferences(ctx, v) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent PUTs: %v", err)
		}
		var agreed *linodego.ProfilePreferences
		c.onEvery(t, "preferences after concurrent PUTs", admin, func(lc *linodego.Client) error {
			got, err := lc.GetProfilePreferences(ctx)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(values, func(v linodego.ProfilePreferences) bool { return reflect.DeepEqual(*got, v) }) {
				return fmt.Errorf("reads preferences no writer PUT whole: %.200v", *got)
			}
			if agreed != nil && !reflect.DeepEqual(*got, *agreed) {
				return errors.New("reads different preferences than another replica")
			}
			agreed = got
			return nil
		})
	})

	t.Run("one attempt limit", func(t *testing.T) {
		// A user made by the operator's commands while the replicas run.
		tok := c.newUser(t, "guesser")
		c.onEvery(t, "a user created by the CLI", tok, func(lc *linodego.Client) error {
			p, err := lc.GetProfile(ctx)
			if err == nil && p.Username != "guesser" {
				err = fmt.Errorf("acts as %q", p.Username)
			}
			return err
		})
		answer(t, tok, rr())
		sec, err := c.client(rr(), tok).CreateTwoFactorSecret(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wrong := wrongTOTP(t, sec.Secret)
		// Five wrong codes spread over the three replicas are each checked...
		for i := range 5 {
			w := rr()
			if _, err := c.client(w, tok).ConfirmTwoFactor(ctx, linodego.ConfirmTwoFactorOptions{TFACode: wrong}); testenv.APIStatus(err) != http.StatusBadRequest {
				t.Fatalf("wrong code %d on replica %s: %v, want 400", i+1, c.reps[w].name, err)
			}
		}
		// ...and the 6th attempt overall is 429 on every replica, even
		// with the right code.
		right, err := totp.GenerateCode(sec.Secret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		c.onEvery(t, "the 6th attempt", tok, func(lc *linodego.Client) error {
			_, err := lc.ConfirmTwoFactor(ctx, linodego.ConfirmTwoFactorOptions{TFACode: right})
			if err := wantStatus(err, http.StatusTooManyRequests); err != nil {
				return err
			}
			var le *linodego.Error
			errors.As(err, &le)
			if le.Response == nil {
				return errors.New("no response with the 429")
			}
			secs, convErr := strconv.Atoi(le.Response.Header.Get("Retry-After"))
			if convErr != nil || secs < 1 || secs > 15*60 {
				return fmt.Errorf("Retry-After = %q, want 1 to 900 seconds", le.Response.Header.Get("Retry-After"))
			}
			return nil
		})
		c.onEvery(t, "TFA after the budget was spent", tok, func(lc *linodego.Client) error {
			p, err := lc.GetProfile(ctx)
			if err == nil && p.TwoFactorAuth {
				err = errors.New("two_factor_auth is true")
			}
			return err
		})

		// Racing wrong codes on all three replicas at once: exactly five
		// are checked, the rest are 429.
		tok2 := c.newUser(t, "swarm")
		answer(t, tok2, rr())
		sec2, err := c.client(rr(), tok2).CreateTwoFactorSecret(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wrong2 := wrongTOTP(t, sec2.Secret)
		const tries = 15
		statuses := make([]int, tries)
		var wg sync.WaitGroup
		for i := range tries {
			lc := c.client(i%len(c.reps), tok2)
			wg.Go(func() {
				_, err := lc.ConfirmTwoFactor(ctx, linodego.ConfirmTwoFactorOptions{TFACode: wrong2})
				statuses[i] = testenv.APIStatus(err)
			})
		}
		wg.Wait()
		counts := map[int]int{}
		for _, s := range statuses {
			counts[s]++
		}
		if counts[http.StatusBadRequest] != 5 || counts[http.StatusTooManyRequests] != tries-5 {
			t.Fatalf("%d wrong codes at once over three replicas: statuses %v, want 5 × 400 and %d × 429", tries, counts, tries-5)
		}
	})

	t.Logf("build %v, start of three replicas %v, workload %v",
		built.Sub(began).Round(time.Millisecond), started.Sub(built).Round(time.Millisecond), time.Since(started).Round(time.Millisecond))
	for _, r := range c.reps {
		if strings.Contains(r.stderr.String(), admin) {
			t.Errorf("replica %s logged the bootstrap token", r.name)
		}
	}
}

// wrongTOTP is a 6-digit code that no step near now accepts for secret.
func wrongTOTP(t *testing.T, secret string) string {
	t.Helper()
	near := map[string]bool{}
	for d := -3; d <= 3; d++ {
		code, err := totp.GenerateCode(secret, time.Now().Add(time.Duration(d)*30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		near[code] = true
	}
	for _, code := range []string{"000000", "111111", "123456", "999999"} {
		if !near[code] {
			return code
		}
	}
	t.Fatal("no wrong code")
	return ""
}
