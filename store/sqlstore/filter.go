package sqlstore

// This file translates the core's list filters and orderings into SQL.
// Each resource's fields are a fixed Columns whitelist (listings.go); the
// builder writes only column names from that whitelist and placeholders
// into the SQL it returns, so no text a client sent ever becomes SQL.

import (
	"fmt"
	"strings"
	"time"

	"github.com/profiled/profiled/core"
)

// Column is how one filterable field is stored.
type Column struct {
	// Name is the column the field lives in: a plain name, possibly
	// qualified by its table ("t.label"), as Columns.Check enforces.
	Name string
	// Type says which Go type a filter value must have: string, int64,
	// bool or time.Time.
	Type core.FieldType
	// NullIsNever marks a nullable time column where NULL means "never",
	// as in a token's or app's expiry: NULL compares later than every
	// time. So "expiry gt X", "gte" and "neq" match NULL rows, "eq", "lt"
	// and "lte" do not, and NULLs sort last ascending and first descending.
	NullIsNever bool
}

// Columns maps a resource's field names, as clients spell them, to columns.
// It is the whitelist: any other field is refused.
type Columns map[string]Column

// maxDepth bounds the nesting of And/Or, so a hostile filter cannot make
// the translation recurse without end.
const maxDepth = 16

// Builder accumulates the arguments of one statement while its SQL is
// written, in the order of their placeholders.
type Builder struct {
	dialect *Dialect
	args    []any
}

// NewBuilder starts a statement in dialect d.
func NewBuilder(d *Dialect) *Builder { return &Builder{dialect: d} }

// Arg adds v to the arguments and returns its placeholder.
func (b *Builder) Arg(v any) string {
	b.args = append(b.args, v)
	return "?"
}

// Args returns the arguments added so far, in placeholder order.
func (b *Builder) Args() []any { return b.args }

// Where translates f into a condition over cols, adding its values as
// arguments. A nil filter gives "", meaning no condition. An unknown field,
// an operator the field's type does not support or a value of the wrong
// type gives a *core.Error of KindInvalid.
func (b *Builder) Where(cols Columns, f *core.Filter) (string, error) {
	if f == nil {
		return "", nil
	}
	return b.where(cols, *f, 0)
}

func (b *Builder) where(cols Columns, f core.Filter, depth int) (string, error) {
	if depth > maxDepth {
		return "", core.Invalid("filter", "The filter nests deeper than %d levels.", maxDepth)
	}
	kinds := 0
	for _, set := range []bool{len(f.And) > 0, len(f.Or) > 0, f.Field != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return "", core.Invalid("filter", "Each filter must be exactly one of a field condition, an and-list or an or-list.")
	}
	switch {
	case len(f.And) > 0:
		return b.join(cols, f.And, " AND ", depth)
	case len(f.Or) > 0:
		return b.join(cols, f.Or, " OR ", depth)
	}
	return b.leaf(cols, f)
}

func (b *Builder) join(cols Columns, fs []core.Filter, sep string, depth int) (string, error) {
	parts := make([]string, len(fs))
	for i, sub := range fs {
		s, err := b.where(cols, sub, depth+1)
		if err != nil {
			return "", err
		}
		parts[i] = s
	}
	return "(" + strings.Join(parts, sep) + ")", nil
}

// sqlOps are the comparison operators; contains is handled apart.
var sqlOps = map[core.Op]string{
	core.OpEq: "=", core.OpNeq: "<>",
	core.OpGt: ">", core.OpGte: ">=",
	core.OpLt: "<", core.OpLte: "<=",
}

func (b *Builder) leaf(cols Columns, f core.Filter) (string, error) {
	col, ok := cols[f.Field]
	if !ok {
		return "", core.Invalid(f.Field, "Cannot filter on %q.", f.Field)
	}
	arg, err := b.value(col, f)
	if err != nil {
		return "", err
	}
	if f.Op == core.OpContains {
		if col.Type != core.FieldString {
			return "", core.Invalid(f.Field, "The contains operator applies to text fields only.")
		}
		return b.dialect.Contains(col.Name, b.Arg(arg)), nil
	}
	op, ok := sqlOps[f.Op]
	if !ok {
		return "", core.Invalid(f.Field, "Unknown filter operator %q.", f.Op)
	}
	if col.Type == core.FieldBool && f.Op != core.OpEq && f.Op != core.OpNeq {
		return "", core.Invalid(f.Field, "Boolean fields compare with eq and neq only.")
	}
	cond := col.Name + " " + op + " " + b.Arg(arg)
	if !col.NullIsNever {
		return cond, nil
	}
	// NULL stands for "never", later than any time: it satisfies the
	// operators that hold for +infinity and fails the others. The NULL
	// test is explicit so the result is TRUE or FALSE, never UNKNOWN.
	switch f.Op {
	case core.OpGt, core.OpGte, core.OpNeq:
		return "(" + col.Name + " IS NULL OR " + cond + ")", nil
	default:
		return "(" + col.Name + " IS NOT NULL AND " + cond + ")", nil
	}
}

// value checks that f's value has the Go type of col and converts it to the dialect's argument.
func (b *Builder) value(col Column, f core.Filter) (any, error) {
	switch col.Type {
	case core.FieldString:
		if v, ok := f.Value.(string); ok {
			return v, nil
		}
	case core.FieldInt:
		switch v := f.Value.(type) {
		case int64:
			return v, nil
		case int:
			return int64(v), nil
		}
	case core.FieldBool:
		if v, ok := f.Value.(bool); ok {
			return v, nil
		}
	case core.FieldTime:
		if v, ok := f.Value.(time.Time); ok {
			return b.dialect.Time(v), nil
		}
	}
	return nil, core.Invalid(f.Field, "The value %v has the wrong type for %q.", f.Value, f.Field)
}

// OrderBy returns the ORDER BY list (without the keywords) for ordering by
// field, then by idColumn in the same direction so that every order is total
// and descending is the exact reverse of ascending. An empty field orders by
// idColumn alone. A field missing from cols gives a *core.Error of KindInvalid.
func OrderBy(cols Columns, idColumn, field string, desc bool) (string, error) {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	if field == "" {
		return idColumn + dir, nil
	}
	col, ok := cols[field]
	if !ok {
		return "", core.Invalid("order_by", "Cannot order by %q.", field)
	}
	nulls := ""
	if col.NullIsNever {
		// "Never" is the latest time, and both engines are told so:
		// their defaults disagree (SQLite sorts NULL first, PostgreSQL last).
		nulls = " NULLS LAST"
		if desc {
			nulls = " NULLS FIRST"
		}
	}
	if col.Name == idColumn {
		return idColumn + dir, nil
	}
	return col.Name + dir + nulls + ", " + idColumn + dir, nil
}

// Check reports whether every field of cols has a column name made only of
// letters, digits, underscores and dots, to catch a store's typo at start-up
// rather than at a client's request. It is meant for tests and init.
func (cols Columns) Check() error {
	for field, c := range cols {
		if c.Name == "" {
			return fmt.Errorf("sqlfilter: field %q has no column", field)
		}
		for _, r := range c.Name {
			if !(r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return fmt.Errorf("sqlfilter: field %q has column %q, which is not a plain name", field, c.Name)
			}
		}
		if c.NullIsNever && c.Type != core.FieldTime {
			return fmt.Errorf("sqlfilter: field %q is NullIsNever but not a time", field)
		}
	}
	return nil
}
