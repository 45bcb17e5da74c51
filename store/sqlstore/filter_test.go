package sqlstore

import (
	"reflect"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

var cols = Columns{
	"id":         {Name: "id", Type: core.FieldInt},
	"label":      {Name: "label", Type: core.FieldString},
	"created":    {Name: "created", Type: core.FieldTime},
	"expiry":     {Name: "expiry", Type: core.FieldTime, NullIsNever: true},
	"restricted": {Name: "restricted", Type: core.FieldBool},
}

// testDialect is SQLite's, as far as the filters use it.
var testDialect = Dialect{
	Contains: func(col, ph string) string { return "instr(" + col + ", " + ph + ") > 0" },
	Time:     func(t time.Time) any { return t.Unix() },
}

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func leaf(field string, op core.Op, v any) core.Filter { return core.Match(field, op, v) }

func TestWhere(t *testing.T) {
	for _, tc := range []struct {
		name       string
		f          core.Filter
		sqlite     string
		sqliteArgs []any
	}{
		{"eq", leaf("label", core.OpEq, "a"),
			"label = ?", []any{int64(7), "a"}},
		{"neq", leaf("label", core.OpNeq, "a"),
			"label <> ?", []any{int64(7), "a"}},
		{"contains", leaf("label", core.OpContains, "a"),
			"instr(label, ?) > 0", []any{int64(7), "a"}},
		{"time", leaf("created", core.OpLte, t0),
			"created <= ?", []any{int64(7), t0.Unix()}},
		{"int", leaf("id", core.OpGt, int64(3)),
			"id > ?", []any{int64(7), int64(3)}},
		{"bool", leaf("restricted", core.OpEq, true),
			"restricted = ?", []any{int64(7), true}},
		{"never gt", leaf("expiry", core.OpGt, t0),
			"(expiry IS NULL OR expiry > ?)", []any{int64(7), t0.Unix()}},
		{"never neq", leaf("expiry", core.OpNeq, t0),
			"(expiry IS NULL OR expiry <> ?)", []any{int64(7), t0.Unix()}},
		{"never lt", leaf("expiry", core.OpLt, t0),
			"(expiry IS NOT NULL AND expiry < ?)", []any{int64(7), t0.Unix()}},
		{"never eq", leaf("expiry", core.OpEq, t0),
			"(expiry IS NOT NULL AND expiry = ?)", []any{int64(7), t0.Unix()}},
		{"and of or", core.Filter{And: []core.Filter{
			{Or: []core.Filter{leaf("label", core.OpEq, "a"), leaf("label", core.OpEq, "b")}},
			leaf("id", core.OpLt, int64(9)),
		}},
			"((label = ? OR label = ?) AND id < ?)",
			[]any{int64(7), "a", "b", int64(9)}},
	} {
		// Each statement here already has one argument (a user id), so
		// the filter's placeholders must continue the numbering.
		b := NewBuilder(&testDialect)
		b.Arg(int64(7))
		got, err := b.Where(cols, &tc.f)
		if err != nil {
			t.Fatalf("%s: SQLite: %v", tc.name, err)
		}
		if got != tc.sqlite {
			t.Errorf("%s: SQLite = %q, want %q", tc.name, got, tc.sqlite)
		}
		if !reflect.DeepEqual(b.Args(), tc.sqliteArgs) {
			t.Errorf("%s: SQLite args = %#v, want %#v", tc.name, b.Args(), tc.sqliteArgs)
		}

	}
}

func TestWhereNil(t *testing.T) {
	b := NewBuilder(&testDialect)
	if got, err := b.Where(cols, nil); got != "" || err != nil || len(b.Args()) != 0 {
		t.Errorf("Where(nil) = %q, %v, args %v", got, err, b.Args())
	}
}

func TestWhereRefusals(t *testing.T) {
	deep := leaf("label", core.OpEq, "x")
	for range maxDepth + 1 {
		deep = core.Filter{And: []core.Filter{deep}}
	}
	for name, f := range map[string]core.Filter{
		"unknown field":         leaf("hash", core.OpEq, "x"),
		"injection":             leaf("label OR 1=1", core.OpEq, "x"),
		"unknown op":            leaf("label", core.Op("like"), "x"),
		"string for int":        leaf("id", core.OpEq, "3"),
		"int for string":        leaf("label", core.OpEq, int64(3)),
		"string for time":       leaf("created", core.OpEq, "2025-01-01"),
		"int for bool":          leaf("restricted", core.OpEq, int64(1)),
		"nil value":             leaf("label", core.OpEq, nil),
		"contains on int":       leaf("id", core.OpContains, int64(3)),
		"gt on bool":            leaf("restricted", core.OpGt, true),
		"empty":                 {},
		"leaf and and":          {Field: "label", Op: core.OpEq, Value: "x", And: []core.Filter{leaf("label", core.OpEq, "y")}},
		"and and or":            {And: []core.Filter{leaf("label", core.OpEq, "x")}, Or: []core.Filter{leaf("label", core.OpEq, "y")}},
		"bad leaf inside":       {Or: []core.Filter{leaf("label", core.OpEq, "x"), leaf("nope", core.OpEq, "y")}},
		"nested deeper than 16": deep,
	} {
		_, err := NewBuilder(&testDialect).Where(cols, &f)
		if core.KindOf(err) != core.KindInvalid {
			t.Errorf("%s: err = %v, want a core.Error of KindInvalid", name, err)
		}
	}
	// An int is accepted for an int field, as a convenience.
	if _, err := NewBuilder(&testDialect).Where(cols, &core.Filter{Field: "id", Op: core.OpEq, Value: 3}); err != nil {
		t.Errorf("int value: %v", err)
	}
}

func TestOrderBy(t *testing.T) {
	for _, tc := range []struct {
		field string
		desc  bool
		want  string
	}{
		{"", false, "id ASC"},
		{"", true, "id DESC"},
		{"id", true, "id DESC"},
		{"label", false, "label ASC, id ASC"},
		{"label", true, "label DESC, id DESC"},
		{"expiry", false, "expiry ASC NULLS LAST, id ASC"},
		{"expiry", true, "expiry DESC NULLS FIRST, id DESC"},
	} {
		got, err := OrderBy(cols, "id", tc.field, tc.desc)
		if err != nil || got != tc.want {
			t.Errorf("OrderBy(%q, %v) = %q, %v; want %q", tc.field, tc.desc, got, err, tc.want)
		}
	}
	for _, bad := range []string{"hash", "label; DROP TABLE tokens", "label DESC"} {
		if _, err := OrderBy(cols, "id", bad, false); core.KindOf(err) != core.KindInvalid {
			t.Errorf("OrderBy(%q): err = %v, want KindInvalid", bad, err)
		}
	}
}

func TestCheck(t *testing.T) {
	if err := cols.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	if err := (Columns{"t.label": {Name: "t.label", Type: core.FieldString}}).Check(); err != nil {
		t.Errorf("Check of a qualified name: %v", err)
	}
	for name, c := range map[string]Columns{
		"empty name":          {"label": {Type: core.FieldString}},
		"expression":          {"label": {Name: "lower(label)", Type: core.FieldString}},
		"never on a string":   {"label": {Name: "label", Type: core.FieldString, NullIsNever: true}},
		"space in name":       {"label": {Name: "label x", Type: core.FieldString}},
		"semicolon in name":   {"label": {Name: "label;", Type: core.FieldString}},
		"quote in name":       {"label": {Name: `"label"`, Type: core.FieldString}},
		"comment in name":     {"label": {Name: "label--", Type: core.FieldString}},
		"unicode in name":     {"label": {Name: "labél", Type: core.FieldString}},
		"placeholder in name": {"label": {Name: "?", Type: core.FieldString}},
	} {
		if err := c.Check(); err == nil {
			t.Errorf("Check accepted %s", name)
		}
	}
}

func TestListingQualified(t *testing.T) {
	l := Listing{Columns: "id, user_id,kind"}
	if got, want := l.Qualified("t"), "t.id, t.user_id, t.kind"; got != want {
		t.Fatalf("Qualified = %q, want %q", got, want)
	}
}

// TestListingsCoverTheCoreFields checks that every field the faces let
// clients filter and order on has a column of the same type, so a filter
// the face accepted never fails in the store.
func TestListingsCoverTheCoreFields(t *testing.T) {
	for name, c := range map[string]struct {
		listing Listing
		fields  core.Fields
	}{
		"ssh keys": {SSHKeys, core.SSHKeyFields},
		"tokens":   {Tokens, core.TokenFields},
		"apps":     {Apps, core.AppFields},
		"devices":  {Devices, core.DeviceFields},
		"logins":   {Logins, core.LoginFields},
	} {
		if err := c.listing.Fields.Check(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for field, typ := range c.fields {
			col, ok := c.listing.Fields[field]
			if !ok {
				t.Errorf("%s: the field %q has no column", name, field)
				continue
			}
			if col.Type != typ {
				t.Errorf("%s: the field %q is of type %v in the core, %v in the store", name, field, typ, col.Type)
			}
		}
	}
}
