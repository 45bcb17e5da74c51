package linode

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/profiled/profiled/core"
)

// Limits on an X-Filter header. Going over any of them is an error, not a
// truncation, so a client never gets a silently different list.
const (
	filterHeader    = "X-Filter"
	maxFilterBytes  = 8 << 10 // bytes of header
	maxFilterDepth  = 8       // nested JSON objects and arrays, the outer object counting as 1
	maxFilterLeaves = 100     // field comparisons in the whole filter
)

// filterTimeLayout is how date-time values are written in a filter, always UTC.
// Fractional seconds after it are accepted too.
const filterTimeLayout = "2006-01-02T15:04:05"

// parseFilter parses an X-Filter header value against the filterable fields of one resource.
// It returns the filter tree (nil when the header is empty or has only ordering), the field
// to order by ("" for default) and whether the order is descending.
//
// It reads the header as the real API does (WIRE-FACTS.md), not only as the spec words it:
// an empty +and or +or, or an empty filter object, is no condition (every Terraform list
// data source sends {"+and":[],"+order":"desc"}), and +order without +order_by applies to
// the default order, by id.
//
// Every error is a *core.Error of kind KindInvalid with Field "X-Filter".
func parseFilter(header string, fields core.Fields) (f *core.Filter, orderBy string, desc bool, err error) {
	if strings.TrimSpace(header) == "" {
		return nil, "", false, nil
	}
	if len(header) > maxFilterBytes {
		return nil, "", false, filterErr("X-Filter is longer than %d bytes", maxFilterBytes)
	}
	root, err := decodeFilterJSON(header)
	if err != nil {
		return nil, "", false, err
	}
	if root.kind != fjObject {
		return nil, "", false, filterErr("X-Filter must be a JSON object, not %s", root.kindName())
	}

	p := filterParser{fields: fields}
	var parts []*core.Filter
	for i, key := range root.keys {
		val := root.vals[i]
		switch key {
		case "+order_by":
			if val.kind != fjString {
				return nil, "", false, filterErr("+order_by must be a string naming a field, not %s", val.kindName())
			}
			if _, ok := fields[val.str]; !ok || val.str == "" {
				return nil, "", false, filterErr("Cannot order by %s", clipFilterText(val.str))
			}
			orderBy = val.str
		case "+order":
			if val.kind != fjString || (val.str != "asc" && val.str != "desc") {
				return nil, "", false, filterErr(`+order must be "asc" or "desc"`)
			}
			desc = val.str == "desc"
		default:
			c, err := p.clause(key, val)
			if err != nil {
				return nil, "", false, err
			}
			parts = append(parts, c)
		}
	}
	return combineFilters(parts, true), orderBy, desc, nil
}

// filterErr builds the one kind of error parseFilter returns.
func filterErr(format string, args ...any) *core.Error {
	return core.Invalid(filterHeader, format, args...)
}

// filterParser turns decoded JSON into a core.Filter for one resource.
type filterParser struct {
	fields core.Fields
	leaves int
}

// object parses a filter object nested in +and or +or: its clauses, ANDed.
// An empty object is no condition (nil).
func (p *filterParser) object(op string, n *filterJSONNode) (*core.Filter, error) {
	if n.kind != fjObject {
		return nil, filterErr("%s must be an array of filter objects, not of %s", op, n.kindName())
	}
	parts := make([]*core.Filter, 0, len(n.keys))
	for i, key := range n.keys {
		c, err := p.clause(key, n.vals[i])
		if err != nil {
			return nil, err
		}
		parts = append(parts, c)
	}
	return combineFilters(parts, true), nil
}

// clause parses one key of a filter object and its value, outside any
// field. It returns nil for no condition: an empty +and or +or.
func (p *filterParser) clause(key string, val *filterJSONNode) (*core.Filter, error) {
	switch key {
	case "+and", "+or":
		if val.kind != fjArray {
			return nil, filterErr("%s must be an array of filter objects, not %s", key, val.kindName())
		}
		parts := make([]*core.Filter, 0, len(val.vals))
		for _, el := range val.vals {
			c, err := p.object(key, el)
			if err != nil {
				return nil, err
			}
			parts = append(parts, c)
		}
		return combineFilters(parts, key == "+and"), nil
	case "+order", "+order_by":
		return nil, filterErr("%s is only allowed at the top level of X-Filter", key)
	case "+gt", "+gte", "+lt", "+lte", "+contains", "+neq":
		return nil, filterErr(`%s must be applied to a field, as in {"label": {"%s": ...}}`, key, key)
	}
	if strings.HasPrefix(key, "+") {
		return nil, filterErr("Unknown operator %s", clipFilterText(key))
	}
	typ, ok := p.fields[key]
	if !ok || key == "" {
		return nil, filterErr("Cannot filter on %s", clipFilterText(key))
	}
	f, err := p.fieldValue(key, typ, val)
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// filterFieldOps maps the comparison operators allowed inside a field's object.
var filterFieldOps = map[string]core.Op{
	"+gt": core.OpGt, "+gte": core.OpGte,
	"+lt": core.OpLt, "+lte": core.OpLte,
	"+contains": core.OpContains, "+neq": core.OpNeq,
}

// fieldValue parses what a field is matched against: a literal (equality),
// or an object of operators, ANDed, among which +or takes a list of literals
// or operator objects.
func (p *filterParser) fieldValue(field string, typ core.FieldType, val *filterJSONNode) (core.Filter, error) {
	switch val.kind {
	case fjArray:
		return core.Filter{}, filterErr(`%s: a list is not a value; use {"+or": [...]} to match any of several`, field)
	case fjObject:
	default:
		return p.leaf(field, typ, core.OpEq, "", val)
	}
	if len(val.keys) == 0 {
		return core.Filter{}, filterErr("%s: the operator object is empty", field)
	}
	parts := make([]core.Filter, 0, len(val.keys))
	for i, key := range val.keys {
		arg := val.vals[i]
		var (
			c   core.Filter
			err error
		)
		switch key {
		case "+or":
			c, err = p.fieldOr(field, typ, arg)
		case "+and":
			err = filterErr("%s: +and is not allowed inside a field; several operators in one object already AND together", field)
		case "+order", "+order_by":
			err = filterErr("%s is only allowed at the top level of X-Filter", key)
		default:
			op, ok := filterFieldOps[key]
			if !ok {
				err = filterErr("%s: Unknown operator %s", field, clipFilterText(key))
				break
			}
			c, err = p.leaf(field, typ, op, key, arg)
		}
		if err != nil {
			return core.Filter{}, err
		}
		parts = append(parts, c)
	}
	return combineLeaves(parts, true), nil
}

// fieldOr parses the list of {"field": {"+or": [...]}}.
func (p *filterParser) fieldOr(field string, typ core.FieldType, arg *filterJSONNode) (core.Filter, error) {
	if arg.kind != fjArray || len(arg.vals) == 0 {
		return core.Filter{}, filterErr("%s: +or must be a non-empty array of values or operator objects", field)
	}
	parts := make([]core.Filter, 0, len(arg.vals))
	for _, el := range arg.vals {
		if el.kind == fjArray {
			return core.Filter{}, filterErr("%s: +or elements must be values or operator objects, not lists", field)
		}
		c, err := p.fieldValue(field, typ, el)
		if err != nil {
			return core.Filter{}, err
		}
		parts = append(parts, c)
	}
	return combineLeaves(parts, false), nil
}

// leaf checks that op applies to the field's type and converts the value.
// opName is the operator as the client wrote it, "" for a plain equality.
func (p *filterParser) leaf(field string, typ core.FieldType, op core.Op, opName string, val *filterJSONNode) (core.Filter, error) {
	p.leaves++
	if p.leaves > maxFilterLeaves {
		return core.Filter{}, filterErr("X-Filter has more than %d conditions", maxFilterLeaves)
	}
	switch op {
	case core.OpGt, core.OpGte, core.OpLt, core.OpLte:
		if typ != core.FieldInt && typ != core.FieldTime {
			return core.Filter{}, filterErr("%s: %s is not allowed on %s field", field, opName, fieldTypeNoun(typ))
		}
	case core.OpContains:
		if typ != core.FieldString {
			return core.Filter{}, filterErr("%s: %s is not allowed on %s field", field, opName, fieldTypeNoun(typ))
		}
	}
	where := field
	if opName != "" {
		where = field + " " + opName
	}
	if val.kind == fjNull {
		return core.Filter{}, filterErr("%s: null is not a valid value", where)
	}
	var v any
	switch typ {
	case core.FieldString:
		if val.kind != fjString {
			return core.Filter{}, filterErr("%s: expected a string, got %s", where, val.kindName())
		}
		if strings.IndexByte(val.str, 0) >= 0 {
			return core.Filter{}, filterErr("%s: values may not contain NUL characters", where)
		}
		v = val.str
	case core.FieldTime:
		if val.kind != fjString {
			return core.Filter{}, filterErr("%s: expected a date-time string like 2024-01-01T00:00:00, got %s", where, val.kindName())
		}
		t, ok := parseFilterTime(val.str)
		if !ok {
			return core.Filter{}, filterErr("%s: %q is not a date-time like 2024-01-01T00:00:00 (UTC)", where, clipFilterText(val.str))
		}
		v = t
	case core.FieldInt:
		if val.kind != fjNumber {
			return core.Filter{}, filterErr("%s: expected an integer, got %s", where, val.kindName())
		}
		n, err := strconv.ParseInt(val.str, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return core.Filter{}, filterErr("%s: %s is out of range", where, clipFilterText(val.str))
		}
		if err != nil {
			return core.Filter{}, filterErr("%s: expected an integer, got %s", where, clipFilterText(val.str))
		}
		v = n
	case core.FieldBool:
		if val.kind != fjBool {
			return core.Filter{}, filterErr("%s: expected true or false, got %s", where, val.kindName())
		}
		v = val.b
	default:
		return core.Filter{}, filterErr("Cannot filter on %s", field)
	}
	return core.Match(field, op, v), nil
}

// parseFilterTime accepts exactly YYYY-MM-DDTHH:MM:SS, optionally followed by
// a dot and fractional-second digits, as UTC. time.Parse alone is laxer
// (one-digit hours, a comma before the fraction).
func parseFilterTime(s string) (time.Time, bool) {
	const n = len(filterTimeLayout)
	if len(s) < n {
		return time.Time{}, false
	}
	for i := 0; i < n; i++ {
		c := s[i]
		switch i {
		case 4, 7:
			if c != '-' {
				return time.Time{}, false
			}
		case 10:
			if c != 'T' {
				return time.Time{}, false
			}
		case 13, 16:
			if c != ':' {
				return time.Time{}, false
			}
		default:
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
		}
	}
	if len(s) > n {
		frac := s[n:]
		if frac[0] != '.' || len(frac) == 1 {
			return time.Time{}, false
		}
		for i := 1; i < len(frac); i++ {
			if frac[i] < '0' || frac[i] > '9' {
				return time.Time{}, false
			}
		}
	}
	t, err := time.ParseInLocation(filterTimeLayout, s, time.UTC)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// combineFilters joins parts with AND or OR, where a nil part is no
// condition (true): AND drops it, and OR with it is no condition at all.
// A single part stands alone; no parts at all is no condition.
func combineFilters(parts []*core.Filter, and bool) *core.Filter {
	kept := make([]core.Filter, 0, len(parts))
	for _, f := range parts {
		if f == nil {
			if !and {
				return nil
			}
			continue
		}
		kept = append(kept, *f)
	}
	switch {
	case len(kept) == 0:
		return nil
	case len(kept) == 1:
		return &kept[0]
	case and:
		return &core.Filter{And: kept}
	}
	return &core.Filter{Or: kept}
}

// combineLeaves joins the conditions on one field, none of which is nil.
func combineLeaves(parts []core.Filter, and bool) core.Filter {
	ptrs := make([]*core.Filter, len(parts))
	for i := range parts {
		ptrs[i] = &parts[i]
	}
	return *combineFilters(ptrs, and)
}

// fieldTypeNoun names a field type with its article, for messages.
func fieldTypeNoun(t core.FieldType) string {
	switch t {
	case core.FieldString:
		return "a string"
	case core.FieldTime:
		return "a date-time"
	case core.FieldInt:
		return "an integer"
	case core.FieldBool:
		return "a boolean"
	}
	return "an unknown"
}

// clipFilterText bounds client text echoed in a message.
func clipFilterText(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// filterJSONKind is the type of a decoded JSON value.
type filterJSONKind int

const (
	fjObject filterJSONKind = iota
	fjArray
	fjString
	fjNumber
	fjBool
	fjNull
)

// filterJSONNode is a decoded JSON value that keeps the order of object keys, so
// that clauses and errors follow the header as written.
type filterJSONNode struct {
	kind filterJSONKind
	keys []string          // object keys, in order
	vals []*filterJSONNode // object values (parallel to keys) or array elements
	str  string            // a string, or a number's text
	b    bool
}

func (n *filterJSONNode) kindName() string {
	switch n.kind {
	case fjObject:
		return "an object"
	case fjArray:
		return "a list"
	case fjString:
		return "a string"
	case fjNumber:
		return "a number"
	case fjBool:
		return "a boolean"
	}
	return "null"
}

// decodeFilterJSON decodes one JSON value, streaming its tokens so the
// nesting limit holds before anything deep is built, refusing duplicate keys
// (parsers disagree on which one wins) and anything after the value.
func decodeFilterJSON(s string) (*filterJSONNode, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	root, err := readFilterJSON(dec, 1)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, filterErr("Invalid JSON in X-Filter")
	}
	return root, nil
}

func readFilterJSON(dec *json.Decoder, depth int) (*filterJSONNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, filterErr("Invalid JSON in X-Filter")
	}
	switch t := tok.(type) {
	case json.Delim:
		if t != '{' && t != '[' {
			// A closing delimiter where a value belongs; Token reports
			// these as errors, but never trust that.
			return nil, filterErr("Invalid JSON in X-Filter")
		}
		if depth > maxFilterDepth {
			return nil, filterErr("X-Filter nests deeper than %d levels", maxFilterDepth)
		}
		n := &filterJSONNode{kind: fjArray}
		if t == '{' {
			n.kind = fjObject
		}
		var seen map[string]bool // keys of an object so far
		for dec.More() {
			if n.kind == fjObject {
				kt, err := dec.Token()
				if err != nil {
					return nil, filterErr("Invalid JSON in X-Filter")
				}
				key, ok := kt.(string)
				if !ok {
					return nil, filterErr("Invalid JSON in X-Filter")
				}
				if seen == nil {
					seen = make(map[string]bool)
				}
				if seen[key] {
					return nil, filterErr("Duplicate key %s in X-Filter", clipFilterText(key))
				}
				seen[key] = true
				n.keys = append(n.keys, key)
			}
			v, err := readFilterJSON(dec, depth+1)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
		}
		end, err := dec.Token()
		if err != nil {
			return nil, filterErr("Invalid JSON in X-Filter")
		}
		if d, ok := end.(json.Delim); !ok || (n.kind == fjObject && d != '}') || (n.kind == fjArray && d != ']') {
			return nil, filterErr("Invalid JSON in X-Filter")
		}
		return n, nil
	case string:
		return &filterJSONNode{kind: fjString, str: t}, nil
	case json.Number:
		return &filterJSONNode{kind: fjNumber, str: string(t)}, nil
	case bool:
		return &filterJSONNode{kind: fjBool, b: t}, nil
	case nil:
		return &filterJSONNode{kind: fjNull}, nil
	}
	return nil, filterErr("Invalid JSON in X-Filter")
}
