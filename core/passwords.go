package core

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password hashing: argon2id (RFC 9106) in the PHC string format
// $argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>, so the parameters travel
// with each hash and can be raised later: a hash made with weaker
// parameters is replaced at the next successful sign-in.
//
// The parameters are above OWASP's Password Storage Cheat Sheet minimum
// (m=19456 KiB, t=2, p=1) in memory, which is what makes GPU and ASIC
// guessing expensive, while keeping t=2: 64 MiB is RFC 9106's
// recommendation for memory-constrained settings, and costs about 150 ms
// of one core of the reference machine (2 cores) per hash. argonWork
// bounds how many run at once and how many requests wait for one.
const (
	argonMemory  = 64 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password policy.
const (
	MinPasswordLength = 12  // characters (runes)
	MaxPasswordLength = 256 // characters (runes)
)

// argonWork bounds the argon2id computations of the whole process: as
// many at once as there are cores (each takes one core and 64 MiB), and
// eight times that waiting, each at most argonMaxWait. Past that, and for
// a request whose client has gone, no work starts: 300 sign-ins sent and
// abandoned at once cost 24 s of CPU before it.
var argonWork = newWorkGate(max(2, runtime.GOMAXPROCS(0)), 8*max(2, runtime.GOMAXPROCS(0)), argonMaxWait)

const argonMaxWait = 2 * time.Second

// errBusy is the answer when argonWork is full.
var errBusy = &Error{Kind: KindUnavailable, RetryAfter: time.Second,
	Reason: "The server is busy checking passwords: try again in a second"}

// workGate runs at most cap(slots) functions at once, with at most
// maxWaiting callers waiting for a slot, each at most maxWait.
type workGate struct {
	slots      chan struct{}
	waiting    atomic.Int64
	maxWaiting int64
	maxWait    time.Duration
	done       atomic.Int64 // functions run, for tests and metrics
}

func newWorkGate(running, waiting int, maxWait time.Duration) *workGate {
	return &workGate{slots: make(chan struct{}, running), maxWaiting: int64(waiting), maxWait: maxWait}
}

// do runs fn when a slot is free. It returns ctx's error, without running
// fn, once ctx is done (the client went away), and errBusy when too many
// wait or the wait is too long.
func (g *workGate) do(ctx context.Context, fn func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if g.waiting.Add(1) > g.maxWaiting {
		g.waiting.Add(-1)
		return errBusy
	}
	timer := time.NewTimer(g.maxWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		g.waiting.Add(-1)
	case <-ctx.Done():
		g.waiting.Add(-1)
		return ctx.Err()
	case <-timer.C:
		g.waiting.Add(-1)
		return errBusy
	}
	defer func() { <-g.slots }()
	if err := ctx.Err(); err != nil {
		return err
	}
	g.done.Add(1)
	fn()
	return nil
}

// PasswordHashesRun is how many argon2id computations the process ran.
func PasswordHashesRun() int64 { return argonWork.done.Load() }

//go:embed common-passwords.txt.gz
var commonPasswordsGz []byte

// commonPasswords is the set of common-passwords.txt.gz, lowercased (see
// common-passwords.NOTICE for where it comes from).
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	zr, err := gzip.NewReader(bytes.NewReader(commonPasswordsGz))
	if err != nil {
		panic(fmt.Sprintf("core: common passwords: %v", err))
	}
	set := make(map[string]struct{}, 32000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if w := sc.Text(); w != "" {
			set[w] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		panic(fmt.Sprintf("core: common passwords: %v", err))
	}
	return set
})

// CommonPasswordCount is how many passwords the embedded list refuses.
func CommonPasswordCount() int { return len(commonPasswords()) }

// ValidatePassword is the one password policy of every face and the CLI:
// 12 to 256 characters, not one of the common passwords shipped with the
// binary, and not the user's username or email (case-insensitively). u
// may be the zero User when there is no user yet beyond the one given.
func ValidatePassword(field, pw string, u User) error {
	if !utf8.ValidString(pw) {
		return Invalid(field, "%s must be valid UTF-8 text", field)
	}
	if err := checkText(field, pw); err != nil {
		return err
	}
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLength || n > MaxPasswordLength {
		return Invalid(field, "%s must be %d to %d characters", field, MinPasswordLength, MaxPasswordLength)
	}
	lower := strings.ToLower(pw)
	if _, common := commonPasswords()[lower]; common {
		return Invalid(field, "%s is one of the most common passwords and would be guessed quickly: choose another", field)
	}
	if (u.Username != "" && lower == strings.ToLower(u.Username)) || (u.Email != "" && lower == strings.ToLower(u.Email)) {
		return Invalid(field, "%s may not be your username or email address", field)
	}
	return nil
}

// PasswordCost is the memory and the passes of argon2id. Production uses
// ProductionPasswordCost, always; tests that do not pin the production
// parameters pass a lower one in Config.PasswordCost (as dex's conformance
// suite uses bcrypt.MinCost), which took the core's tests from 12-17 s to
// a few.
type PasswordCost struct {
	MemoryKiB uint32
	Passes    uint32
}

// ProductionPasswordCost is the cost of every password hash profiled
// serves: 64 MiB, 2 passes (see the constants above).
var ProductionPasswordCost = PasswordCost{MemoryKiB: argonMemory, Passes: argonTime}

// HashPassword returns the argon2id PHC string of pw with a fresh salt and
// the production parameters.
func HashPassword(pw string) (string, error) {
	return hashPassword(context.Background(), pw, ProductionPasswordCost)
}

// hashPassword is HashPassword for a request, at cost: see argonWork.
func hashPassword(ctx context.Context, pw string, cost PasswordCost) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	key, err := argonKey(ctx, pw, salt, cost.Passes, cost.MemoryKiB, argonThreads, argonKeyLen)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, cost.MemoryKiB, cost.Passes, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

func argonKey(ctx context.Context, pw string, salt []byte, t, m uint32, p uint8, keyLen uint32) ([]byte, error) {
	var key []byte
	err := argonWork.do(ctx, func() { key = argon2.IDKey([]byte(pw), salt, t, m, p, keyLen) })
	return key, err
}

// phc is a parsed argon2id PHC string.
type phc struct {
	m, t uint32
	p    uint8
	salt []byte
	key  []byte
}

var errBadPHC = errors.New("password hash: not an argon2id PHC string this binary reads")

func parsePHC(s string) (phc, error) {
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, errBadPHC
	}
	var h phc
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return phc{}, errBadPHC
		}
		switch k {
		case "m":
			h.m = uint32(n)
		case "t":
			h.t = uint32(n)
		case "p":
			if n > 255 {
				return phc{}, errBadPHC
			}
			h.p = uint8(n)
		default:
			return phc{}, errBadPHC
		}
	}
	enc := base64.RawStdEncoding
	var err1, err2 error
	h.salt, err1 = enc.DecodeString(parts[4])
	h.key, err2 = enc.DecodeString(parts[5])
	// Bounds keep a corrupt row from asking for gigabytes.
	if err1 != nil || err2 != nil || h.m < 8 || h.m > 4*1024*1024 || h.t < 1 || h.t > 100 || h.p < 1 ||
		len(h.salt) < 8 || len(h.key) < 16 || len(h.key) > 64 {
		return phc{}, errBadPHC
	}
	return h, nil
}

// CheckPassword compares pw with a PHC string in constant time. rehash
// reports a match whose parameters are below the current ones, which the
// caller should replace with HashPassword(pw).
func CheckPassword(hash, pw string) (ok, rehash bool, err error) {
	return checkPassword(context.Background(), hash, pw, ProductionPasswordCost)
}

// checkPassword is CheckPassword for a request, rehash judged against
// cost: see argonWork.
func checkPassword(ctx context.Context, hash, pw string, cost PasswordCost) (ok, rehash bool, err error) {
	h, err := parsePHC(hash)
	if err != nil {
		return false, false, err
	}
	key, err := argonKey(ctx, pw, h.salt, h.t, h.m, h.p, uint32(len(h.key)))
	if err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare(key, h.key) == 1
	rehash = h.m < cost.MemoryKiB || h.t < cost.Passes || h.p < argonThreads || len(h.key) < argonKeyLen
	return ok, ok && rehash, nil
}

// dummyHash is compared against when a username is unknown, so that the
// answer takes as long as for a known user with a wrong password: one per
// cost, made once.
func dummyHash(cost PasswordCost) string {
	dummies.mu.Lock()
	defer dummies.mu.Unlock()
	if h, ok := dummies.m[cost]; ok {
		return h
	}
	h, err := hashPassword(context.Background(), rand.Text(), cost)
	if err != nil {
		panic(err)
	}
	dummies.m[cost] = h
	return h
}

var dummies = struct {
	mu sync.Mutex
	m  map[PasswordCost]string
}{m: map[PasswordCost]string{}}

// SetPassword checks pw against the policy and the user, and stores its
// hash. It is the one way to set a password, for the CLI and every face.
func (s *Service) SetPassword(ctx context.Context, userID int64, pw string) error {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return notFound(err, "load user")
	}
	hash, err := s.checkedHash(ctx, pw, u)
	if err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error { return s.setPassword(ctx, tx, userID, hash) })
}

// ResetPassword is the operator's reset of a user's password (the CLI's
// users set-password), for a user who forgot theirs: the new password must
// pass the policy, and every sign-in session and trusted device of the
// user ends, so whoever knew the old one is signed out.
func (s *Service) ResetPassword(ctx context.Context, username, pw string) error {
	u, err := s.store.UserByUsername(ctx, username)
	if err != nil {
		return notFound(err, "load user")
	}
	hash, err := s.checkedHash(ctx, pw, u)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		if _, err := tx.LockUser(ctx, u.ID); err != nil {
			return notFound(err, "lock user")
		}
		if err := s.setPassword(ctx, tx, u.ID, hash); err != nil {
			return err
		}
		note(Event{Name: EventPasswordReset, UserID: u.ID, Username: u.Username, Detail: "operator"})
		return s.endSessions(ctx, tx, u.ID, 0)
	})
}

// checkedHash checks pw against the policy for u and hashes it.
func (s *Service) checkedHash(ctx context.Context, pw string, u User) (string, error) {
	if err := ValidatePassword("password", pw, u); err != nil {
		return "", err
	}
	return hashPassword(ctx, pw, s.cost)
}

// endSessions deletes the user's sign-in sessions but the token keep (0:
// none kept), telling the relying parties they signed in to, and every
// trusted device: a device trusted under the old password must not skip
// the second factor under the new one.
func (s *Service) endSessions(ctx context.Context, tx Tx, userID, keep int64) error {
	devices, _, err := tx.ListDevices(ctx, userID, ListQuery{Page: 1})
	if err != nil {
		return err
	}
	for _, d := range devices {
		if err := tx.DeleteDevice(ctx, userID, d.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	toks, err := sessionsOf(ctx, tx, userID)
	if err != nil {
		return err
	}
	for _, t := range toks {
		if t.ID == keep {
			continue
		}
		if err := s.endSession(ctx, tx, t); err != nil {
			return notFound(err, "end session")
		}
	}
	return nil
}

// VerifyPassword reports whether pw is the user's password, in constant
// time, taking as long for a user without a password as for one with. A
// match made with old parameters is rehashed. It does not count attempts:
// callers that take guesses from the network limit them (SignIn does).
func (s *Service) VerifyPassword(ctx context.Context, userID int64, pw string) (bool, error) {
	hash, err := s.store.PasswordHash(ctx, userID)
	known := err == nil
	if errors.Is(err, ErrNotFound) {
		hash = dummyHash(s.cost)
	} else if err != nil {
		return false, fmt.Errorf("password hash: %w", err)
	}
	ok, rehash, err := checkPassword(ctx, hash, pw, s.cost)
	if err != nil {
		return false, err
	}
	if !known || !ok {
		return false, nil
	}
	if rehash {
		if fresh, err := hashPassword(ctx, pw, s.cost); err == nil {
			// Best effort: the sign-in succeeds even if the upgrade fails.
			_ = s.store.Update(ctx, func(tx Tx) error { return tx.SetPasswordHash(ctx, userID, fresh, time.Time{}) })
		}
	}
	return true, nil
}
