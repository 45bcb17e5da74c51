package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

func testPreferences(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	_, err := s.Preferences(ctx, a.ID, "cloud")
	wantErr(t, "Preferences never stored", err, core.ErrNotFound)

	// Stored byte for byte: key order and spacing are the client's.
	v1 := json.RawMessage(`{"theme": "dark",  "a":[1,2]}`)
	update(t, s, func(tx core.Tx) error { return tx.PutPreferences(ctx, a.ID, "cloud", v1) })
	got, err := s.Preferences(ctx, a.ID, "cloud")
	noErr(t, "Preferences", err)
	equal(t, "Preferences", string(got), string(v1))

	v2 := json.RawMessage(`{"theme":"light"}`)
	update(t, s, func(tx core.Tx) error { return tx.PutPreferences(ctx, a.ID, "cloud", v2) })
	got, err = s.Preferences(ctx, a.ID, "cloud")
	noErr(t, "Preferences", err)
	equal(t, "Preferences after a second put", string(got), string(v2))

	_, err = s.Preferences(ctx, a.ID, "other-client")
	wantErr(t, "Preferences of another client", err, core.ErrNotFound)
	_, err = s.Preferences(ctx, b.ID, "cloud")
	wantErr(t, "Preferences of another user", err, core.ErrNotFound)

	update(t, s, func(tx core.Tx) error { return tx.PutPreferences(ctx, b.ID, "cloud", json.RawMessage(`{}`)) })
	got, err = s.Preferences(ctx, a.ID, "cloud")
	noErr(t, "Preferences", err)
	equal(t, "Preferences after another user's put", string(got), string(v2))
}

func testSecurityAnswers(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	got, err := s.SecurityAnswers(ctx, a.ID)
	noErr(t, "SecurityAnswers", err)
	equal(t, "SecurityAnswers before any", len(got), 0)

	three := []core.SecurityAnswer{{QuestionID: 7, AnswerEnc: []byte("seven")}, {QuestionID: 2, AnswerEnc: []byte("two")}, {QuestionID: 5, AnswerEnc: []byte{0, 1, 2}}}
	update(t, s, func(tx core.Tx) error { return tx.SetSecurityAnswers(ctx, a.ID, three) })
	got, err = s.SecurityAnswers(ctx, a.ID)
	noErr(t, "SecurityAnswers", err)
	equal(t, "SecurityAnswers, in the order set", got, three)

	two := []core.SecurityAnswer{{QuestionID: 1, AnswerEnc: []byte("one")}, {QuestionID: 7, AnswerEnc: []byte("new seven")}}
	update(t, s, func(tx core.Tx) error { return tx.SetSecurityAnswers(ctx, a.ID, two) })
	got, err = s.SecurityAnswers(ctx, a.ID)
	noErr(t, "SecurityAnswers", err)
	equal(t, "SecurityAnswers after replacing", got, two)

	got, err = s.SecurityAnswers(ctx, b.ID)
	noErr(t, "SecurityAnswers", err)
	equal(t, "another user's SecurityAnswers", len(got), 0)

	// One question answered twice is refused, and the old answers stay.
	dup := []core.SecurityAnswer{{QuestionID: 3, AnswerEnc: []byte("a")}, {QuestionID: 3, AnswerEnc: []byte("b")}}
	wantErr(t, "SetSecurityAnswers with a repeated question", updateErr(t, s, func(tx core.Tx) error { return tx.SetSecurityAnswers(ctx, a.ID, dup) }), core.ErrDuplicate)
	got, err = s.SecurityAnswers(ctx, a.ID)
	noErr(t, "SecurityAnswers", err)
	equal(t, "SecurityAnswers after a refused set", got, two)

	update(t, s, func(tx core.Tx) error { return tx.SetSecurityAnswers(ctx, a.ID, nil) })
	got, err = s.SecurityAnswers(ctx, a.ID)
	noErr(t, "SecurityAnswers", err)
	equal(t, "SecurityAnswers after clearing", len(got), 0)
}

func testTFA(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	got, err := s.TFA(ctx, a.ID)
	noErr(t, "TFA of a user who never set it", err)
	equal(t, "TFA of a user who never set it", got, core.TFAState{})

	pending := core.TFAState{PendingSecretEnc: []byte("pending"), PendingExpiry: at(15)}
	update(t, s, func(tx core.Tx) error { return tx.SetTFA(ctx, a.ID, pending) })
	got, err = s.TFA(ctx, a.ID)
	noErr(t, "TFA", err)
	equal(t, "TFA pending", got, pending)

	on := core.TFAState{SecretEnc: []byte("secret"), LastStep: 58_000_000}
	update(t, s, func(tx core.Tx) error { return tx.SetTFA(ctx, a.ID, on) })
	got, err = s.TFA(ctx, a.ID)
	noErr(t, "TFA", err)
	equal(t, "TFA on", got, on)

	got, err = s.TFA(ctx, b.ID)
	noErr(t, "TFA", err)
	equal(t, "another user's TFA", got, core.TFAState{})

	// Setting the zero state turns it all off; empty secrets read as nil.
	update(t, s, func(tx core.Tx) error { return tx.SetTFA(ctx, a.ID, core.TFAState{SecretEnc: []byte{}}) })
	got, err = s.TFA(ctx, a.ID)
	noErr(t, "TFA", err)
	equal(t, "TFA off", got, core.TFAState{})
}

func testScratchCodes(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	codes, err := s.ScratchCodes(ctx, a.ID)
	noErr(t, "ScratchCodes", err)
	equal(t, "ScratchCodes before any", len(codes), 0)

	h1, h2, h3 := []byte("hash-1"), []byte("hash-2"), []byte("hash-3")
	update(t, s, func(tx core.Tx) error { return tx.SetScratchCodes(ctx, a.ID, [][]byte{h1, h2}) })
	codes, err = s.ScratchCodes(ctx, a.ID)
	noErr(t, "ScratchCodes", err)
	equal(t, "ScratchCodes", codes, [][]byte{h1, h2})

	wantErr(t, "another user's UseScratchCode", updateErr(t, s, func(tx core.Tx) error { return tx.UseScratchCode(ctx, b.ID, h1) }), core.ErrNotFound)
	update(t, s, func(tx core.Tx) error { return tx.UseScratchCode(ctx, a.ID, h1) })
	wantErr(t, "UseScratchCode twice", updateErr(t, s, func(tx core.Tx) error { return tx.UseScratchCode(ctx, a.ID, h1) }), core.ErrNotFound)
	wantErr(t, "UseScratchCode of an unknown code", updateErr(t, s, func(tx core.Tx) error { return tx.UseScratchCode(ctx, a.ID, h3) }), core.ErrNotFound)
	codes, err = s.ScratchCodes(ctx, a.ID)
	noErr(t, "ScratchCodes", err)
	equal(t, "ScratchCodes after one use", codes, [][]byte{h2})

	// Replacing drops the unused ones.
	update(t, s, func(tx core.Tx) error { return tx.SetScratchCodes(ctx, a.ID, [][]byte{h3}) })
	codes, err = s.ScratchCodes(ctx, a.ID)
	noErr(t, "ScratchCodes", err)
	equal(t, "ScratchCodes after replacing", codes, [][]byte{h3})
	wantErr(t, "UseScratchCode of a replaced code", updateErr(t, s, func(tx core.Tx) error { return tx.UseScratchCode(ctx, a.ID, h2) }), core.ErrNotFound)

	// A repeated hash is used one at a time.
	update(t, s, func(tx core.Tx) error { return tx.SetScratchCodes(ctx, b.ID, [][]byte{h1, h1}) })
	update(t, s, func(tx core.Tx) error { return tx.UseScratchCode(ctx, b.ID, h1) })
	codes, err = s.ScratchCodes(ctx, b.ID)
	noErr(t, "ScratchCodes", err)
	equal(t, "ScratchCodes after using one of two equal", codes, [][]byte{h1})

	update(t, s, func(tx core.Tx) error { return tx.SetScratchCodes(ctx, a.ID, nil) })
	codes, err = s.ScratchCodes(ctx, a.ID)
	noErr(t, "ScratchCodes", err)
	equal(t, "ScratchCodes after clearing", len(codes), 0)
}

func testPhoneVerification(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	_, err := s.PhoneVerification(ctx, a.ID)
	wantErr(t, "PhoneVerification before any", err, core.ErrNotFound)

	v := core.PhoneVerification{Phone: "+33612345678", ISOCode: "FR", CodeEnc: []byte("code"), Expiry: at(10)}
	update(t, s, func(tx core.Tx) error { return tx.SetPhoneVerification(ctx, a.ID, v) })
	got, err := s.PhoneVerification(ctx, a.ID)
	noErr(t, "PhoneVerification", err)
	equal(t, "PhoneVerification", got, v)
	_, err = s.PhoneVerification(ctx, b.ID)
	wantErr(t, "another user's PhoneVerification", err, core.ErrNotFound)

	v2 := core.PhoneVerification{Phone: "+15555550100", ISOCode: "US", CodeEnc: []byte("code2"), Expiry: at(20)}
	update(t, s, func(tx core.Tx) error { return tx.SetPhoneVerification(ctx, a.ID, v2) })
	got, err = s.PhoneVerification(ctx, a.ID)
	noErr(t, "PhoneVerification", err)
	equal(t, "PhoneVerification after replacing", got, v2)

	update(t, s, func(tx core.Tx) error { return tx.DeletePhoneVerification(ctx, b.ID) }) // none pending: no error
	_, err = s.PhoneVerification(ctx, a.ID)
	noErr(t, "PhoneVerification after another user's delete", err)
	update(t, s, func(tx core.Tx) error { return tx.DeletePhoneVerification(ctx, a.ID) })
	_, err = s.PhoneVerification(ctx, a.ID)
	wantErr(t, "PhoneVerification after delete", err, core.ErrNotFound)
	update(t, s, func(tx core.Tx) error { return tx.DeletePhoneVerification(ctx, a.ID) }) // twice: no error
}

func testGrants(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	_, err := s.Grants(ctx, a.ID)
	wantErr(t, "Grants before any", err, core.ErrNotFound)

	g := core.Grants(`{"global": {"account_access": "read_only"}, "linode": []}`)
	update(t, s, func(tx core.Tx) error { return tx.SetGrants(ctx, a.ID, g) })
	got, err := s.Grants(ctx, a.ID)
	noErr(t, "Grants", err)
	equal(t, "Grants", string(got), string(g))
	_, err = s.Grants(ctx, b.ID)
	wantErr(t, "another user's Grants", err, core.ErrNotFound)

	g2 := core.Grants(`{"global":{}}`)
	update(t, s, func(tx core.Tx) error { return tx.SetGrants(ctx, a.ID, g2) })
	got, err = s.Grants(ctx, a.ID)
	noErr(t, "Grants", err)
	equal(t, "Grants after replacing", string(got), string(g2))

	update(t, s, func(tx core.Tx) error { return tx.SetGrants(ctx, a.ID, nil) })
	_, err = s.Grants(ctx, a.ID)
	wantErr(t, "Grants after SetGrants(nil)", err, core.ErrNotFound)
}

// hit runs HitLimit in its own transaction.
func hit(t *testing.T, s core.Store, key string, window time.Duration, now time.Time) (int, time.Time) {
	t.Helper()
	var count int
	var reset time.Time
	update(t, s, func(tx core.Tx) error {
		var err error
		count, reset, err = tx.HitLimit(t.Context(), key, window, now)
		return err
	})
	return count, reset
}

func testHitLimit(t *testing.T, s core.Store) {
	const w = 15 * time.Minute
	for i, tc := range []struct {
		key       string
		now       time.Time
		wantCount int
		wantReset time.Time
	}{
		{"k", t0, 1, t0.Add(w)},                          // the first hit opens a window
		{"k", at(1), 2, t0.Add(w)},                       // later hits count in it
		{"k", at(14), 3, t0.Add(w)},                      //
		{"other", at(14), 1, at(14).Add(w)},              // keys count apart
		{"k", t0.Add(w).Add(-time.Second), 4, t0.Add(w)}, // the last second of the window
		{"k", t0.Add(w), 1, t0.Add(2 * w)},               // the window ends at reset: a new one starts
		{"k", t0.Add(w + time.Minute), 2, t0.Add(2 * w)}, //
		{"k", at(100), 1, at(100).Add(w)},                // long after: a new window
		{"other", at(100), 1, at(100).Add(w)},            //
	} {
		count, reset := hit(t, s, tc.key, w, tc.now)
		if count != tc.wantCount || !reset.Equal(tc.wantReset) {
			t.Errorf("hit %d on %s at %v = %d, %v; want %d, %v", i, tc.key, tc.now, count, reset, tc.wantCount, tc.wantReset)
		}
		if reset.Location() != time.UTC {
			t.Errorf("reset time %v is not in UTC", reset)
		}
	}
}

func testRefundLimit(t *testing.T, s core.Store) {
	const w = time.Hour
	refund := func(key string, now time.Time) {
		update(t, s, func(tx core.Tx) error { return tx.RefundLimit(t.Context(), key, now) })
	}
	hit(t, s, "k", w, t0)
	hit(t, s, "k", w, t0)
	refund("k", at(1))
	if count, reset := hit(t, s, "k", w, at(2)); count != 2 || !reset.Equal(t0.Add(w)) {
		t.Errorf("hit after a refund = %d, %v; want 2 in the same window, %v", count, reset, t0.Add(w))
	}
	refund("k", at(3))
	refund("k", at(3))
	refund("k", at(3)) // at zero: stays at zero
	if count, _ := hit(t, s, "k", w, at(4)); count != 1 {
		t.Errorf("hit after refunds past zero = %d, want 1", count)
	}
	refund("k", t0.Add(w)) // the window ended: nothing to refund
	if count, _ := hit(t, s, "k", w, t0.Add(w)); count != 1 {
		t.Errorf("hit in a new window = %d, want 1", count)
	}
	refund("never-hit", t0)
}

func testResetLimit(t *testing.T, s core.Store) {
	const w = time.Hour
	hit(t, s, "k", w, t0)
	hit(t, s, "k", w, t0)
	hit(t, s, "kept", w, t0)
	update(t, s, func(tx core.Tx) error { return tx.ResetLimit(t.Context(), "k") })
	if count, reset := hit(t, s, "k", w, at(1)); count != 1 || !reset.Equal(at(1).Add(w)) {
		t.Errorf("hit after ResetLimit = %d, %v; want 1, %v", count, reset, at(1).Add(w))
	}
	if count, _ := hit(t, s, "kept", w, at(1)); count != 2 {
		t.Errorf("another key after ResetLimit counts %d, want 2", count)
	}
	update(t, s, func(tx core.Tx) error { return tx.ResetLimit(t.Context(), "never-hit") })
}
