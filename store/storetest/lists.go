package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// The fields each list filters and orders on, beyond "id" (an int on every
// resource): tokens label, created, expiry; apps label, created, expiry;
// SSH keys label, created; devices created, expiry, last_authenticated;
// logins datetime, ip, username, status, restricted. A nil expiry of a
// token or app means "never": it is later than every time, in filters and
// in order. A PageSize of zero or less lists every matching row.

func q(f *core.Filter) core.ListQuery { return core.ListQuery{Filter: f, Page: 1, PageSize: 100} }

func leaf(field string, op core.Op, v any) *core.Filter {
	f := core.Match(field, op, v)
	return &f
}

func and(fs ...*core.Filter) *core.Filter {
	out := core.Filter{}
	for _, f := range fs {
		out.And = append(out.And, *f)
	}
	return &out
}

func or(fs ...*core.Filter) *core.Filter {
	out := core.Filter{}
	for _, f := range fs {
		out.Or = append(out.Or, *f)
	}
	return &out
}

// tokenLabels lists the user's tokens with lq and returns their labels in
// the order listed, checking that the total counts them all.
func tokenLabels(t *testing.T, s core.Store, userID int64, lq core.ListQuery) []string {
	t.Helper()
	toks, total, err := s.ListTokens(t.Context(), userID, lq)
	noErr(t, "ListTokens", err)
	labels := []string{}
	for _, tok := range toks {
		labels = append(labels, tok.Label)
	}
	if lq.PageSize >= total && total != len(toks) {
		t.Errorf("ListTokens total %d, but one page of %d listed %d", total, lq.PageSize, len(toks))
	}
	return labels
}

func appLabels(t *testing.T, s core.Store, userID int64, lq core.ListQuery) []string {
	t.Helper()
	list, total, err := s.ListApps(t.Context(), userID, lq)
	noErr(t, "ListApps", err)
	labels := []string{}
	for _, a := range list {
		labels = append(labels, a.Label)
	}
	if total != len(list) {
		t.Errorf("ListApps total %d, listed %d", total, len(list))
	}
	return labels
}

func testListPagination(t *testing.T, s core.Store) {
	ctx := t.Context()
	u := newUser(t, s, "alice")
	var want []string
	for i := range 60 {
		label := fmt.Sprintf("t%02d", i)
		newToken(t, s, core.Token{UserID: u.ID, Label: label})
		want = append(want, label)
	}
	for _, tc := range []struct {
		page, size int
		want       []string
	}{
		{1, 25, want[:25]},
		{2, 25, want[25:50]},
		{3, 25, want[50:]},
		{4, 25, []string{}},
		{1, 100, want},
		{2, 7, want[7:14]},
		{1, 0, want}, // every row
	} {
		lq := core.ListQuery{Page: tc.page, PageSize: tc.size}
		toks, total, err := s.ListTokens(ctx, u.ID, lq)
		noErr(t, "ListTokens", err)
		equal(t, fmt.Sprintf("page %d of %d: total", tc.page, tc.size), total, 60)
		got := []string{}
		for _, tok := range toks {
			got = append(got, tok.Label)
		}
		equal(t, fmt.Sprintf("page %d of %d", tc.page, tc.size), got, tc.want)
	}

	// The total counts what the filter matches, not the page.
	lq := core.ListQuery{Filter: leaf("label", core.OpContains, "t1"), Page: 2, PageSize: 4}
	toks, total, err := s.ListTokens(ctx, u.ID, lq)
	noErr(t, "ListTokens", err)
	equal(t, "filtered total", total, 10)
	equal(t, "filtered page length", len(toks), 4)
	equal(t, "filtered page first", toks[0].Label, "t14")

	// An empty list is empty, not nil, and counts zero.
	other := newUser(t, s, "bob")
	toks, total, err = s.ListTokens(ctx, other.ID, all)
	noErr(t, "ListTokens", err)
	if toks == nil || len(toks) != 0 || total != 0 {
		t.Errorf("empty ListTokens = %#v, %d", toks, total)
	}
}

func testListFilterOps(t *testing.T, s core.Store) {
	u := newUser(t, s, "alice")
	for _, label := range []string{"alpha", "alphabet", "Alpha", "beta", "gamma", "100%_sure"} {
		newToken(t, s, core.Token{UserID: u.ID, Label: label})
	}
	for _, tc := range []struct {
		op    core.Op
		value string
		want  []string
	}{
		{core.OpEq, "alpha", []string{"alpha"}},
		{core.OpEq, "ALPHA", []string{}},
		{core.OpNeq, "alpha", []string{"alphabet", "Alpha", "beta", "gamma", "100%_sure"}},
		// Text compares byte by byte: digits < upper case < lower case.
		{core.OpGt, "beta", []string{"gamma"}},
		{core.OpGte, "beta", []string{"beta", "gamma"}},
		{core.OpLt, "alpha", []string{"Alpha", "100%_sure"}},
		{core.OpLte, "alpha", []string{"alpha", "Alpha", "100%_sure"}},
		{core.OpContains, "lph", []string{"alpha", "alphabet", "Alpha"}},
		{core.OpContains, "Alp", []string{"Alpha"}},
		{core.OpContains, "bet", []string{"alphabet", "beta"}},
		// No pattern syntax: % and _ are plain characters.
		{core.OpContains, "%", []string{"100%_sure"}},
		{core.OpContains, "_", []string{"100%_sure"}},
		{core.OpContains, "a%", []string{}},
	} {
		got := tokenLabels(t, s, u.ID, q(leaf("label", tc.op, tc.value)))
		equal(t, fmt.Sprintf("label %s %q", tc.op, tc.value), got, tc.want)
	}
}

func testListFilterTimes(t *testing.T, s core.Store) {
	u := newUser(t, s, "alice")
	newToken(t, s, core.Token{UserID: u.ID, Label: "t0", Created: at(0)})
	newToken(t, s, core.Token{UserID: u.ID, Label: "t10", Created: at(10)})
	newToken(t, s, core.Token{UserID: u.ID, Label: "t20", Created: at(20)})
	for _, tc := range []struct {
		op   core.Op
		v    time.Time
		want []string
	}{
		{core.OpEq, at(10), []string{"t10"}},
		{core.OpNeq, at(10), []string{"t0", "t20"}},
		{core.OpGt, at(10), []string{"t20"}},
		{core.OpGte, at(10), []string{"t10", "t20"}},
		{core.OpLt, at(10), []string{"t0"}},
		{core.OpLte, at(10), []string{"t0", "t10"}},
		// The instant counts, not the zone it is written in.
		{core.OpEq, at(10).In(time.FixedZone("X", -5*60*60)), []string{"t10"}},
	} {
		got := tokenLabels(t, s, u.ID, q(leaf("created", tc.op, tc.v)))
		equal(t, fmt.Sprintf("created %s %v", tc.op, tc.v), got, tc.want)
	}
}

func testListFilterNested(t *testing.T, s core.Store) {
	u := newUser(t, s, "alice")
	newToken(t, s, core.Token{UserID: u.ID, Label: "a0", Created: at(0)})
	newToken(t, s, core.Token{UserID: u.ID, Label: "a10", Created: at(10)})
	newToken(t, s, core.Token{UserID: u.ID, Label: "b10", Created: at(10)})
	newToken(t, s, core.Token{UserID: u.ID, Label: "b20", Created: at(20)})
	newToken(t, s, core.Token{UserID: u.ID, Label: "c30", Created: at(30)})
	for _, tc := range []struct {
		name string
		f    *core.Filter
		want []string
	}{
		{"and", and(leaf("label", core.OpContains, "b"), leaf("created", core.OpGte, at(10))), []string{"b10", "b20"}},
		{"or", or(leaf("label", core.OpEq, "a0"), leaf("label", core.OpEq, "c30")), []string{"a0", "c30"}},
		{"or of ands", or(
			and(leaf("label", core.OpContains, "a"), leaf("created", core.OpGt, at(0))),
			and(leaf("label", core.OpContains, "b"), leaf("created", core.OpGt, at(10))),
		), []string{"a10", "b20"}},
		{"and of ors", and(
			or(leaf("label", core.OpContains, "a"), leaf("label", core.OpContains, "c")),
			or(leaf("created", core.OpEq, at(0)), leaf("created", core.OpEq, at(30))),
		), []string{"a0", "c30"}},
		// OR binds inside its group: (x OR y) AND z, never x OR (y AND z).
		{"precedence", and(
			or(leaf("label", core.OpEq, "a0"), leaf("label", core.OpEq, "b20")),
			leaf("created", core.OpGt, at(5)),
		), []string{"b20"}},
		{"deep", and(and(and(or(or(leaf("label", core.OpEq, "c30")))))), []string{"c30"}},
		{"single-element and", and(leaf("label", core.OpEq, "a10")), []string{"a10"}},
		{"contradiction", and(leaf("label", core.OpEq, "a0"), leaf("label", core.OpEq, "a10")), []string{}},
	} {
		got := tokenLabels(t, s, u.ID, q(tc.f))
		equal(t, tc.name, got, tc.want)
	}
}

// testListFilterTypes covers int, bool, and the time fields of devices
// and logins that the core filters on (unexpired devices, recent logins).
func testListFilterTypes(t *testing.T, s core.Store) {
	ctx := t.Context()
	u := newUser(t, s, "alice")
	var ids []int64
	for i, restricted := range []bool{false, true, false} {
		l := core.Login{UserID: u.ID, Datetime: at(i * 10), IP: "192.0.2.1", Username: "alice", Status: core.LoginSuccessful, Restricted: restricted}
		update(t, s, func(tx core.Tx) error { return tx.CreateLogin(ctx, &l) })
		ids = append(ids, l.ID)
	}
	loginIDs := func(f *core.Filter) []int64 {
		t.Helper()
		list, total, err := s.ListLogins(ctx, u.ID, q(f))
		noErr(t, "ListLogins", err)
		got := []int64{}
		for _, l := range list {
			got = append(got, l.ID)
		}
		equal(t, "ListLogins total", total, len(got))
		return got
	}
	equal(t, "restricted eq true", loginIDs(leaf("restricted", core.OpEq, true)), []int64{ids[1]})
	equal(t, "restricted eq false", loginIDs(leaf("restricted", core.OpEq, false)), []int64{ids[0], ids[2]})
	equal(t, "restricted neq true", loginIDs(leaf("restricted", core.OpNeq, true)), []int64{ids[0], ids[2]})
	equal(t, "id eq", loginIDs(leaf("id", core.OpEq, ids[1])), []int64{ids[1]})
	equal(t, "id gt", loginIDs(leaf("id", core.OpGt, ids[0])), []int64{ids[1], ids[2]})
	equal(t, "id lte", loginIDs(leaf("id", core.OpLte, ids[1])), []int64{ids[0], ids[1]})
	equal(t, "datetime gte", loginIDs(leaf("datetime", core.OpGte, at(10))), []int64{ids[1], ids[2]})
	equal(t, "datetime lt", loginIDs(leaf("datetime", core.OpLt, at(10))), []int64{ids[0]})

	var devIDs []int64
	for _, exp := range []int{-10, 0, 10} {
		d := core.Device{UserID: u.ID, Created: at(-100), Expiry: at(exp), LastAuthenticated: at(exp - 1)}
		update(t, s, func(tx core.Tx) error { return tx.CreateDevice(ctx, &d) })
		devIDs = append(devIDs, d.ID)
	}
	list, total, err := s.ListDevices(ctx, u.ID, q(leaf("expiry", core.OpGt, at(0))))
	noErr(t, "ListDevices", err)
	equal(t, "unexpired devices total", total, 1)
	if len(list) != 1 || list[0].ID != devIDs[2] {
		t.Errorf("unexpired devices = %+v, want id %d", list, devIDs[2])
	}
	list, total, err = s.ListDevices(ctx, u.ID, q(leaf("last_authenticated", core.OpLt, at(0))))
	noErr(t, "ListDevices", err)
	equal(t, "devices by last_authenticated", total, 2)
	equal(t, "devices by last_authenticated", len(list), 2)
}

func testListOrder(t *testing.T, s core.Store) {
	u := newUser(t, s, "alice")
	newToken(t, s, core.Token{UserID: u.ID, Label: "b", Created: at(2)})
	newToken(t, s, core.Token{UserID: u.ID, Label: "a", Created: at(3)})
	newToken(t, s, core.Token{UserID: u.ID, Label: "c", Created: at(1)})
	newToken(t, s, core.Token{UserID: u.ID, Label: "a", Created: at(0), Hash: tokenHash(u.ID, "a2")}) // same label: id breaks the tie
	ids := func(lq core.ListQuery) []int64 {
		toks, _, err := s.ListTokens(t.Context(), u.ID, lq)
		noErr(t, "ListTokens", err)
		out := []int64{}
		for _, tok := range toks {
			out = append(out, tok.ID)
		}
		return out
	}
	byID := ids(core.ListQuery{Page: 1, PageSize: 100})
	if !slices.IsSorted(byID) {
		t.Errorf("default order is not by id: %v", byID)
	}
	equal(t, "order by id", ids(core.ListQuery{OrderBy: "id", Page: 1, PageSize: 100}), byID)

	equal(t, "label asc", tokenLabels(t, s, u.ID, core.ListQuery{OrderBy: "label", Page: 1, PageSize: 100}), []string{"a", "a", "b", "c"})
	equal(t, "label desc", tokenLabels(t, s, u.ID, core.ListQuery{OrderBy: "label", Desc: true, Page: 1, PageSize: 100}), []string{"c", "b", "a", "a"})
	equal(t, "created asc", tokenLabels(t, s, u.ID, core.ListQuery{OrderBy: "created", Page: 1, PageSize: 100}), []string{"a", "c", "b", "a"})
	equal(t, "created desc", tokenLabels(t, s, u.ID, core.ListQuery{OrderBy: "created", Desc: true, Page: 1, PageSize: 100}), []string{"a", "b", "c", "a"})

	// Descending is the exact reverse of ascending, ties included, so
	// pages never overlap or skip a row.
	for _, field := range []string{"", "id", "label", "created", "expiry"} {
		asc := ids(core.ListQuery{OrderBy: field, Page: 1, PageSize: 100})
		desc := ids(core.ListQuery{OrderBy: field, Desc: true, Page: 1, PageSize: 100})
		slices.Reverse(desc)
		equal(t, "desc reverses asc by "+field, desc, asc)
		var paged []int64
		for page := 1; page <= 4; page++ {
			paged = append(paged, ids(core.ListQuery{OrderBy: field, Page: page, PageSize: 1})...)
		}
		equal(t, "pages of one by "+field, paged, asc)
	}

	// Order and filter combine.
	equal(t, "filtered and ordered", tokenLabels(t, s, u.ID, core.ListQuery{
		Filter: leaf("label", core.OpNeq, "c"), OrderBy: "created", Desc: true, Page: 1, PageSize: 100,
	}), []string{"a", "b", "a"})
}

func testListNullExpiry(t *testing.T, s core.Store) {
	u := newUser(t, s, "alice")
	newToken(t, s, core.Token{UserID: u.ID, Label: "never"})
	newToken(t, s, core.Token{UserID: u.ID, Label: "soon", Expiry: ptr(at(10))})
	newToken(t, s, core.Token{UserID: u.ID, Label: "later", Expiry: ptr(at(100))})
	newApp(t, s, core.App{UserID: u.ID, ClientID: "c", Label: "never"})
	newApp(t, s, core.App{UserID: u.ID, ClientID: "c", Label: "soon", Expiry: ptr(at(10))})
	newApp(t, s, core.App{UserID: u.ID, ClientID: "c", Label: "later", Expiry: ptr(at(100))})

	for _, tc := range []struct {
		op   core.Op
		v    time.Time
		want []string
	}{
		{core.OpGt, at(50), []string{"never", "later"}}, // "unexpired at 50"
		{core.OpGt, at(100), []string{"never"}},
		{core.OpGte, at(100), []string{"never", "later"}},
		{core.OpLt, at(50), []string{"soon"}},
		{core.OpLte, at(100), []string{"soon", "later"}},
		{core.OpEq, at(10), []string{"soon"}},
		{core.OpNeq, at(10), []string{"never", "later"}},
	} {
		name := fmt.Sprintf("expiry %s %v", tc.op, tc.v)
		equal(t, "tokens "+name, tokenLabels(t, s, u.ID, q(leaf("expiry", tc.op, tc.v))), tc.want)
		equal(t, "apps "+name, appLabels(t, s, u.ID, q(leaf("expiry", tc.op, tc.v))), tc.want)
	}
	// The core's "unexpired" filter, combined with a label filter.
	f := and(leaf("expiry", core.OpGt, at(50)), leaf("label", core.OpContains, "e"))
	equal(t, "unexpired with e", tokenLabels(t, s, u.ID, q(f)), []string{"never", "later"})
	f = or(leaf("expiry", core.OpLt, at(50)), leaf("label", core.OpEq, "never"))
	equal(t, "expired or never", tokenLabels(t, s, u.ID, q(f)), []string{"never", "soon"})

	// "Never" is the latest expiry.
	asc := core.ListQuery{OrderBy: "expiry", Page: 1, PageSize: 100}
	desc := core.ListQuery{OrderBy: "expiry", Desc: true, Page: 1, PageSize: 100}
	equal(t, "tokens by expiry asc", tokenLabels(t, s, u.ID, asc), []string{"soon", "later", "never"})
	equal(t, "tokens by expiry desc", tokenLabels(t, s, u.ID, desc), []string{"never", "later", "soon"})
	equal(t, "apps by expiry asc", appLabels(t, s, u.ID, asc), []string{"soon", "later", "never"})
	equal(t, "apps by expiry desc", appLabels(t, s, u.ID, desc), []string{"never", "later", "soon"})
}

func testListScoping(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	newToken(t, s, core.Token{UserID: a.ID, Label: "mine"})
	newToken(t, s, core.Token{UserID: b.ID, Label: "theirs"})
	newSSHKey(t, s, b.ID, "theirs", "SHA256:b")
	newApp(t, s, core.App{UserID: b.ID, ClientID: "c", Label: "theirs"})
	update(t, s, func(tx core.Tx) error {
		if err := tx.CreateDevice(ctx, &core.Device{UserID: b.ID, Created: t0, Expiry: at(10), LastAuthenticated: t0}); err != nil {
			return err
		}
		return tx.CreateLogin(ctx, &core.Login{UserID: b.ID, Datetime: t0, Username: "bob", Status: core.LoginSuccessful})
	})

	// A filter true for every row still lists only the caller's rows.
	everything := or(leaf("id", core.OpGt, int64(0)), leaf("id", core.OpLte, int64(0)))
	equal(t, "alice's tokens", tokenLabels(t, s, a.ID, q(everything)), []string{"mine"})
	_, total, err := s.ListTokens(ctx, a.ID, q(everything))
	noErr(t, "ListTokens", err)
	equal(t, "alice's token total", total, 1)
	_, n, err := s.ListSSHKeys(ctx, a.ID, q(everything))
	noErr(t, "ListSSHKeys", err)
	equal(t, "alice's SSH keys", n, 0)
	_, n, err = s.ListApps(ctx, a.ID, q(everything))
	noErr(t, "ListApps", err)
	equal(t, "alice's apps", n, 0)
	_, n, err = s.ListDevices(ctx, a.ID, q(everything))
	noErr(t, "ListDevices", err)
	equal(t, "alice's devices", n, 0)
	_, n, err = s.ListLogins(ctx, a.ID, q(everything))
	noErr(t, "ListLogins", err)
	equal(t, "alice's logins", n, 0)
}

// testListRefusals checks that lists refuse, as invalid, what they cannot
// translate: no field or order outside the resource's whitelist reaches SQL.
func testListRefusals(t *testing.T, s core.Store) {
	ctx := t.Context()
	u := newUser(t, s, "alice")
	newToken(t, s, core.Token{UserID: u.ID, Label: "keep"})
	for _, tc := range []struct {
		name string
		lq   core.ListQuery
	}{
		{"unknown field", q(leaf("hash", core.OpEq, "x"))},
		{"field of another resource", q(leaf("datetime", core.OpEq, t0))},
		{"injection in field", q(leaf("label = label OR 1=1 --", core.OpEq, "x"))},
		{"unknown op", q(leaf("label", core.Op("like"), "x"))},
		{"wrong value type", q(leaf("label", core.OpEq, int64(3)))},
		{"time as string", q(leaf("created", core.OpGt, "2025-01-01"))},
		{"contains on a time", q(leaf("created", core.OpContains, t0))},
		{"empty filter", q(&core.Filter{})},
		{"leaf and group at once", q(&core.Filter{Field: "label", Op: core.OpEq, Value: "x", Or: []core.Filter{core.Match("label", core.OpEq, "y")}})},
		{"bad leaf deep inside", q(and(leaf("label", core.OpEq, "x"), or(leaf("nope", core.OpEq, "y"))))},
		{"unknown order_by", core.ListQuery{OrderBy: "hash", Page: 1, PageSize: 25}},
		{"injection in order_by", core.ListQuery{OrderBy: "label; DROP TABLE tokens", Page: 1, PageSize: 25}},
	} {
		_, _, err := s.ListTokens(ctx, u.ID, tc.lq)
		if err == nil {
			t.Errorf("%s: ListTokens succeeded", tc.name)
			continue
		}
		if core.KindOf(err) != core.KindInvalid {
			t.Errorf("%s: err = %v, want a core.Error of KindInvalid", tc.name, err)
		}
	}
	equal(t, "tokens after refused lists", tokenLabels(t, s, u.ID, all), []string{"keep"})
	_, _, err := s.ListLogins(ctx, u.ID, q(leaf("restricted", core.OpGt, true)))
	if core.KindOf(err) != core.KindInvalid {
		t.Errorf("gt on a bool: err = %v, want KindInvalid", err)
	}
}

// testListEveryResource checks each list's own fields once.
func testListEveryResource(t *testing.T, s core.Store) {
	ctx := t.Context()
	u := newUser(t, s, "alice")
	k1 := newSSHKey(t, s, u.ID, "work", "SHA256:1")
	k2 := newSSHKey(t, s, u.ID, "home", "SHA256:2")
	keys, total, err := s.ListSSHKeys(ctx, u.ID, core.ListQuery{OrderBy: "label", Page: 1, PageSize: 25})
	noErr(t, "ListSSHKeys", err)
	equal(t, "ListSSHKeys total", total, 2)
	equal(t, "ListSSHKeys by label", keys, []core.SSHKey{k2, k1})
	keys, _, err = s.ListSSHKeys(ctx, u.ID, q(leaf("label", core.OpContains, "or")))
	noErr(t, "ListSSHKeys", err)
	equal(t, "ListSSHKeys label contains", keys, []core.SSHKey{k1})

	a1 := newApp(t, s, core.App{UserID: u.ID, ClientID: "c1", Label: "one", Created: at(1)})
	a2 := newApp(t, s, core.App{UserID: u.ID, ClientID: "c2", Label: "two", Created: at(2)})
	apps, _, err := s.ListApps(ctx, u.ID, core.ListQuery{OrderBy: "created", Desc: true, Page: 1, PageSize: 25})
	noErr(t, "ListApps", err)
	equal(t, "ListApps by created desc", apps, []core.App{a2, a1})
	apps, _, err = s.ListApps(ctx, u.ID, q(leaf("label", core.OpEq, "one")))
	noErr(t, "ListApps", err)
	equal(t, "ListApps label eq", apps, []core.App{a1})

	d1 := core.Device{UserID: u.ID, Created: at(1), Expiry: at(100), LastAuthenticated: at(5), LastRemoteAddr: "192.0.2.1", UserAgent: "ua1"}
	d2 := core.Device{UserID: u.ID, Created: at(2), Expiry: at(50), LastAuthenticated: at(6), LastRemoteAddr: "192.0.2.2", UserAgent: "ua2"}
	update(t, s, func(tx core.Tx) error {
		if err := tx.CreateDevice(ctx, &d1); err != nil {
			return err
		}
		return tx.CreateDevice(ctx, &d2)
	})
	devs, _, err := s.ListDevices(ctx, u.ID, core.ListQuery{OrderBy: "expiry", Page: 1, PageSize: 25})
	noErr(t, "ListDevices", err)
	equal(t, "ListDevices by expiry", devs, []core.Device{d2, d1})

	l1 := core.Login{UserID: u.ID, Datetime: at(10), IP: "192.0.2.1", Username: "alice", Status: core.LoginFailed}
	l2 := core.Login{UserID: u.ID, Datetime: at(5), IP: "192.0.2.9", Username: "alice", Status: core.LoginSuccessful}
	update(t, s, func(tx core.Tx) error {
		if err := tx.CreateLogin(ctx, &l1); err != nil {
			return err
		}
		return tx.CreateLogin(ctx, &l2)
	})
	logins, _, err := s.ListLogins(ctx, u.ID, core.ListQuery{OrderBy: "datetime", Page: 1, PageSize: 25})
	noErr(t, "ListLogins", err)
	equal(t, "ListLogins by datetime", logins, []core.Login{l2, l1})
	logins, _, err = s.ListLogins(ctx, u.ID, q(and(leaf("status", core.OpEq, core.LoginFailed), leaf("ip", core.OpContains, ".1"))))
	noErr(t, "ListLogins", err)
	equal(t, "ListLogins by status and ip", logins, []core.Login{l1})
	logins, _, err = s.ListLogins(ctx, u.ID, q(leaf("username", core.OpNeq, "alice")))
	noErr(t, "ListLogins", err)
	equal(t, "ListLogins by username", len(logins), 0)
}

// testListEveryField orders and filters each list on every field the
// faces offer (core.SSHKeyFields, ...), so each such statement runs on
// every backend (and store/sqlite's TestEveryLookupIsIndexed checks its
// plan). Each list has two rows that differ in every field; ordering by a
// field asc and desc must give opposite orders, and an equality filter on
// the first row's value must find it.
func testListEveryField(t *testing.T, s core.Store) {
	ctx := t.Context()
	u := newUser(t, s, "alice")
	newSSHKey(t, s, u.ID, "a-key", "SHA256:1")
	k2 := core.SSHKey{UserID: u.ID, Label: "b-key", Key: "ssh-ed25519 BBBB", Fingerprint: "SHA256:2", Created: at(1)}
	update(t, s, func(tx core.Tx) error { return tx.CreateSSHKey(ctx, &k2) })
	newToken(t, s, core.Token{UserID: u.ID, Label: "a-token", Scopes: "account:read_only", Expiry: ptr(at(10))})
	newToken(t, s, core.Token{UserID: u.ID, Label: "b-token", Scopes: "account:read_write", Created: at(1), Expiry: ptr(at(20))})
	newApp(t, s, core.App{UserID: u.ID, ClientID: "c1", Label: "a-app", Website: "https://a.example", ThumbnailURL: "https://a.example/t.png", Expiry: ptr(at(10))})
	newApp(t, s, core.App{UserID: u.ID, ClientID: "c2", Label: "b-app", Scopes: "account:read_write", Website: "https://b.example", ThumbnailURL: "https://b.example/t.png", Created: at(1), Expiry: ptr(at(20))})
	update(t, s, func(tx core.Tx) error {
		for i, d := range []core.Device{
			{UserID: u.ID, Created: at(1), Expiry: at(100), LastAuthenticated: at(5), LastRemoteAddr: "192.0.2.1", UserAgent: "ua1"},
			{UserID: u.ID, Created: at(2), Expiry: at(200), LastAuthenticated: at(6), LastRemoteAddr: "192.0.2.2", UserAgent: "ua2"},
		} {
			if err := tx.CreateDevice(ctx, &d); err != nil {
				return err
			}
			l := core.Login{UserID: u.ID, Datetime: at(i), IP: fmt.Sprintf("192.0.2.%d", i+1), Username: fmt.Sprintf("alice%d", i),
				Status: []string{core.LoginFailed, core.LoginSuccessful}[i], Restricted: i == 1}
			if err := tx.CreateLogin(ctx, &l); err != nil {
				return err
			}
		}
		return nil
	})
	// The first row's value of each field, by type: what the equality filter looks for.
	first := map[string]any{
		"id":    int64(0), // replaced by the first row's id below
		"label": "", "ssh_key": "ssh-ed25519 AAAASHA256:1 me@host", "created": t0,
		"scopes": "account:read_only", "expiry": at(10), "token": "prefix-a-token",
		"website": "https://a.example", "thumbnail_url": "https://a.example/t.png",
		"last_authenticated": at(5), "last_remote_addr": "192.0.2.1", "user_agent": "ua1",
		"datetime": at(0), "ip": "192.0.2.1", "username": "alice0", "status": core.LoginFailed, "restricted": false,
	}
	lists := []struct {
		name   string
		fields core.Fields
		label  string         // the first row's label, where it has one
		own    map[string]any // the first row's values where they differ from first
		ids    func(core.ListQuery) ([]int64, error)
	}{
		{"ssh keys", core.SSHKeyFields, "a-key", nil, func(lq core.ListQuery) ([]int64, error) {
			l, _, err := s.ListSSHKeys(ctx, u.ID, lq)
			return ids(l, err, func(k core.SSHKey) int64 { return k.ID })
		}},
		{"tokens", core.TokenFields, "a-token", nil, func(lq core.ListQuery) ([]int64, error) {
			l, _, err := s.ListTokens(ctx, u.ID, lq)
			return ids(l, err, func(k core.Token) int64 { return k.ID })
		}},
		{"apps", core.AppFields, "a-app", nil, func(lq core.ListQuery) ([]int64, error) {
			l, _, err := s.ListApps(ctx, u.ID, lq)
			return ids(l, err, func(k core.App) int64 { return k.ID })
		}},
		{"devices", core.DeviceFields, "", map[string]any{"created": at(1), "expiry": at(100)}, func(lq core.ListQuery) ([]int64, error) {
			l, _, err := s.ListDevices(ctx, u.ID, lq)
			return ids(l, err, func(k core.Device) int64 { return k.ID })
		}},
		{"logins", core.LoginFields, "", nil, func(lq core.ListQuery) ([]int64, error) {
			l, _, err := s.ListLogins(ctx, u.ID, lq)
			return ids(l, err, func(k core.Login) int64 { return k.ID })
		}},
	}
	for _, l := range lists {
		byID, err := l.ids(core.ListQuery{Page: 1, PageSize: 25})
		noErr(t, l.name, err)
		if len(byID) != 2 {
			t.Fatalf("%s: %d rows, want 2", l.name, len(byID))
		}
		for field := range l.fields {
			asc, err := l.ids(core.ListQuery{OrderBy: field, Page: 1, PageSize: 25})
			noErr(t, l.name+" ordered by "+field, err)
			desc, err := l.ids(core.ListQuery{OrderBy: field, Desc: true, Page: 1, PageSize: 25})
			noErr(t, l.name+" ordered by "+field+" desc", err)
			equal(t, l.name+" ordered by "+field, asc, byID)
			equal(t, l.name+" ordered by "+field+" desc", desc, []int64{byID[1], byID[0]})

			v, ok := l.own[field]
			if !ok {
				v = first[field]
			}
			switch field {
			case "id":
				v = byID[0]
			case "label":
				v = l.label
			}
			got, err := l.ids(q(leaf(field, core.OpEq, v)))
			noErr(t, l.name+" filtered on "+field, err)
			equal(t, fmt.Sprintf("%s where %s = %v", l.name, field, v), got, byID[:1])
		}
	}
}

func ids[T any](list []T, err error, id func(T) int64) ([]int64, error) {
	out := make([]int64, len(list))
	for i, v := range list {
		out[i] = id(v)
	}
	return out, err
}
