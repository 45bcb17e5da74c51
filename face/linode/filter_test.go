package linode

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// filterTestFields has one field of every type, for the operators the profile
// resources do not exercise (no int or bool field is filterable there).
var filterTestFields = core.Fields{
	"label":   core.FieldString,
	"created": core.FieldTime,
	"expiry":  core.FieldTime,
	"id":      core.FieldInt,
	"public":  core.FieldBool,
}

func filterUTC(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func fAnd(fs ...core.Filter) *core.Filter { return &core.Filter{And: fs} }
func fOr(fs ...core.Filter) core.Filter   { return core.Filter{Or: fs} }
func fLeaf(field string, op core.Op, v any) *core.Filter {
	f := core.Match(field, op, v)
	return &f
}

func TestParseFilter(t *testing.T) {
	jan1 := filterUTC("2024-01-01T00:00:00Z")
	tests := []struct {
		name    string
		header  string
		fields  core.Fields
		want    *core.Filter
		orderBy string
		desc    bool
	}{
		{name: "empty", header: ""},
		{name: "blank", header: "  \t "},
		{name: "empty object", header: "{}"},
		{name: "whitespace around", header: " \n{\"label\":\"a\"}\t ", want: fLeaf("label", core.OpEq, "a")},

		// What other real clients send (WIRE-FACTS.md): Terraform's list data
		// sources, Cloud Manager's tables, Ansible's ssh_key_list.
		{name: "terraform empty and", header: `{"+and":[],"+order":"desc"}`, fields: core.SSHKeyFields, desc: true},
		{name: "terraform empty or inside and", header: `{"+and":[{"+or":[]}],"+order":"desc"}`, fields: core.SSHKeyFields, desc: true},
		{
			name:    "terraform values",
			header:  `{"+and":[{"+or":[{"label":"a"},{"label":"b"}]},{"+or":[]}],"+order":"asc","+order_by":"created"}`,
			fields:  core.SSHKeyFields,
			want:    &core.Filter{Or: []core.Filter{core.Match("label", core.OpEq, "a"), core.Match("label", core.OpEq, "b")}},
			orderBy: "created",
		},
		{name: "empty or is no condition", header: `{"+or":[]}`},
		{name: "empty object in or makes it no condition", header: `{"+or":[{},{"label":"a"}]}`},
		{name: "empty object in and is dropped", header: `{"+and":[{},{"label":"a"}]}`, want: fLeaf("label", core.OpEq, "a")},
		{name: "order without order_by", header: `{"+order":"desc"}`, desc: true},
		{name: "order asc without order_by beside field", header: `{"label":"a","+order":"asc"}`, want: fLeaf("label", core.OpEq, "a")},
		{name: "cloud manager devices by expiry", header: `{"+order":"asc","+order_by":"expiry"}`, fields: core.DeviceFields, orderBy: "expiry"},
		{name: "cloud manager tokens by expiry", header: `{"+order":"desc","+order_by":"expiry"}`, fields: core.TokenFields, orderBy: "expiry", desc: true},
		{name: "cloud manager logins by datetime", header: `{"+order":"desc","+order_by":"datetime"}`, fields: core.LoginFields, orderBy: "datetime", desc: true},
		{name: "ansible ssh keys by label", header: `{"label":"deploy"}`, fields: core.SSHKeyFields, want: fLeaf("label", core.OpEq, "deploy")},
		{name: "logins restricted", header: `{"restricted":false}`, fields: core.LoginFields, want: fLeaf("restricted", core.OpEq, false)},

		// The examples linodego builds.
		{
			name:    "linodego order and label",
			header:  `{"+order":"desc","+order_by":"label","label":"a"}`,
			fields:  core.TokenFields,
			want:    fLeaf("label", core.OpEq, "a"),
			orderBy: "label", desc: true,
		},
		{
			name:   "linodego and contains gte",
			header: `{"+and":[{"label":{"+contains":"go"}},{"created":{"+gte":"2024-01-01T00:00:00"}}]}`,
			fields: core.AppFields,
			want:   fAnd(core.Match("label", core.OpContains, "go"), core.Match("created", core.OpGte, jan1)),
		},
		{
			name:   "linodego and with int",
			header: `{"+and":[{"label":{"+contains":"go"}},{"id":{"+gte":10}}]}`,
			want:   fAnd(core.Match("label", core.OpContains, "go"), core.Match("id", core.OpGte, int64(10))),
		},

		// Ordering.
		{name: "order_by only", header: `{"+order_by":"created"}`, fields: core.AppFields, orderBy: "created"},
		{name: "order asc", header: `{"+order_by":"expiry","+order":"asc"}`, fields: core.AppFields, orderBy: "expiry"},
		{name: "order before order_by", header: `{"+order":"desc","+order_by":"label"}`, fields: core.AppFields, orderBy: "label", desc: true},

		// Literals of every type.
		{name: "string eq", header: `{"label":"my token"}`, want: fLeaf("label", core.OpEq, "my token")},
		{name: "empty string eq", header: `{"label":""}`, want: fLeaf("label", core.OpEq, "")},
		{name: "unicode string", header: `{"label":"caf\u00e9 ☕"}`, want: fLeaf("label", core.OpEq, "café ☕")},
		{name: "time eq", header: `{"created":"2024-01-01T00:00:00"}`, want: fLeaf("created", core.OpEq, jan1)},
		{name: "time fraction", header: `{"created":"2024-01-01T00:00:00.123456"}`, want: fLeaf("created", core.OpEq, filterUTC("2024-01-01T00:00:00.123456Z"))},
		{name: "time leap day", header: `{"created":"2024-02-29T23:59:59"}`, want: fLeaf("created", core.OpEq, filterUTC("2024-02-29T23:59:59Z"))},
		{name: "int eq", header: `{"id":42}`, want: fLeaf("id", core.OpEq, int64(42))},
		{name: "int negative", header: `{"id":-7}`, want: fLeaf("id", core.OpEq, int64(-7))},
		{name: "int max", header: `{"id":9223372036854775807}`, want: fLeaf("id", core.OpEq, int64(9223372036854775807))},
		{name: "int min", header: `{"id":-9223372036854775808}`, want: fLeaf("id", core.OpEq, int64(-9223372036854775808))},
		{name: "bool true", header: `{"public":true}`, want: fLeaf("public", core.OpEq, true)},
		{name: "bool false", header: `{"public":false}`, want: fLeaf("public", core.OpEq, false)},

		// Every operator.
		{name: "gt int", header: `{"id":{"+gt":1}}`, want: fLeaf("id", core.OpGt, int64(1))},
		{name: "gte int", header: `{"id":{"+gte":1}}`, want: fLeaf("id", core.OpGte, int64(1))},
		{name: "lt int", header: `{"id":{"+lt":1}}`, want: fLeaf("id", core.OpLt, int64(1))},
		{name: "lte int", header: `{"id":{"+lte":1}}`, want: fLeaf("id", core.OpLte, int64(1))},
		{name: "gt time", header: `{"created":{"+gt":"2024-01-01T00:00:00"}}`, want: fLeaf("created", core.OpGt, jan1)},
		{name: "gte time", header: `{"created":{"+gte":"2024-01-01T00:00:00"}}`, want: fLeaf("created", core.OpGte, jan1)},
		{name: "lt time", header: `{"created":{"+lt":"2024-01-01T00:00:00"}}`, want: fLeaf("created", core.OpLt, jan1)},
		{name: "lte time", header: `{"expiry":{"+lte":"2024-01-01T00:00:00"}}`, want: fLeaf("expiry", core.OpLte, jan1)},
		{name: "contains", header: `{"label":{"+contains":"prod"}}`, want: fLeaf("label", core.OpContains, "prod")},
		{name: "neq string", header: `{"label":{"+neq":"x"}}`, want: fLeaf("label", core.OpNeq, "x")},
		{name: "neq time", header: `{"created":{"+neq":"2024-01-01T00:00:00"}}`, want: fLeaf("created", core.OpNeq, jan1)},
		{name: "neq int", header: `{"id":{"+neq":3}}`, want: fLeaf("id", core.OpNeq, int64(3))},
		{name: "neq bool", header: `{"public":{"+neq":true}}`, want: fLeaf("public", core.OpNeq, true)},
		{
			name:   "several operators AND",
			header: `{"created":{"+gte":"2024-01-01T00:00:00","+lt":"2025-01-01T00:00:00"}}`,
			want:   fAnd(core.Match("created", core.OpGte, jan1), core.Match("created", core.OpLt, filterUTC("2025-01-01T00:00:00Z"))),
		},
		{
			name:   "several keys AND in header order",
			header: `{"public":true,"label":"a","id":{"+gt":0}}`,
			want:   fAnd(core.Match("public", core.OpEq, true), core.Match("label", core.OpEq, "a"), core.Match("id", core.OpGt, int64(0))),
		},

		// +and and +or.
		{
			name:   "or of objects",
			header: `{"+or":[{"label":"a"},{"label":"b"}]}`,
			want:   &core.Filter{Or: []core.Filter{core.Match("label", core.OpEq, "a"), core.Match("label", core.OpEq, "b")}},
		},
		{
			name:   "or element with two keys ANDs inside",
			header: `{"+or":[{"label":"a","public":true},{"id":1}]}`,
			want: &core.Filter{Or: []core.Filter{
				*fAnd(core.Match("label", core.OpEq, "a"), core.Match("public", core.OpEq, true)),
				core.Match("id", core.OpEq, int64(1)),
			}},
		},
		{name: "single-element and collapses", header: `{"+and":[{"label":"a"}]}`, want: fLeaf("label", core.OpEq, "a")},
		{name: "single-element or collapses", header: `{"+or":[{"label":"a"}]}`, want: fLeaf("label", core.OpEq, "a")},
		{
			name:   "and of or",
			header: `{"+and":[{"+or":[{"label":"a"},{"label":"b"}]},{"id":{"+lt":5}}]}`,
			want: fAnd(
				fOr(core.Match("label", core.OpEq, "a"), core.Match("label", core.OpEq, "b")),
				core.Match("id", core.OpLt, int64(5)),
			),
		},
		{
			name:   "or of and of or",
			header: `{"+or":[{"+and":[{"+or":[{"id":1},{"id":2}]},{"public":true}]},{"label":"z"}]}`,
			want: &core.Filter{Or: []core.Filter{
				*fAnd(fOr(core.Match("id", core.OpEq, int64(1)), core.Match("id", core.OpEq, int64(2))), core.Match("public", core.OpEq, true)),
				core.Match("label", core.OpEq, "z"),
			}},
		},
		{
			name:   "top-level or beside field",
			header: `{"+or":[{"id":1},{"id":2}],"label":"a"}`,
			want:   fAnd(fOr(core.Match("id", core.OpEq, int64(1)), core.Match("id", core.OpEq, int64(2))), core.Match("label", core.OpEq, "a")),
		},

		// +or inside a field.
		{
			name:   "field or of literals",
			header: `{"label":{"+or":["a","b"]}}`,
			want:   &core.Filter{Or: []core.Filter{core.Match("label", core.OpEq, "a"), core.Match("label", core.OpEq, "b")}},
		},
		{
			name:   "field or of operator objects",
			header: `{"created":{"+or":["2024-01-01T00:00:00",{"+gt":"2025-01-01T00:00:00"}]}}`,
			want:   &core.Filter{Or: []core.Filter{core.Match("created", core.OpEq, jan1), core.Match("created", core.OpGt, filterUTC("2025-01-01T00:00:00Z"))}},
		},
		{
			name:   "field or beside operator",
			header: `{"id":{"+or":[1,2],"+neq":3}}`,
			want:   fAnd(fOr(core.Match("id", core.OpEq, int64(1)), core.Match("id", core.OpEq, int64(2))), core.Match("id", core.OpNeq, int64(3))),
		},
		{
			name:   "field or element with two operators",
			header: `{"id":{"+or":[{"+gt":1,"+lt":3},9]}}`,
			want: &core.Filter{Or: []core.Filter{
				*fAnd(core.Match("id", core.OpGt, int64(1)), core.Match("id", core.OpLt, int64(3))),
				core.Match("id", core.OpEq, int64(9)),
			}},
		},
		{name: "field or single element", header: `{"label":{"+or":["a"]}}`, want: fLeaf("label", core.OpEq, "a")},

		// Limits, just inside.
		{name: "depth 8", header: `{"+or":[{"+or":[{"+or":[{"id":{"+gt":1}}]}]}]}`, want: fLeaf("id", core.OpGt, int64(1))},
		{name: "100 leaves", header: `{"id":{"+or":[` + strings.TrimSuffix(strings.Repeat("1,", 100), ",") + `]}}`, want: &core.Filter{Or: repeatIDLeaf(100)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := tt.fields
			if fields == nil {
				fields = filterTestFields
			}
			f, orderBy, desc, err := parseFilter(tt.header, fields)
			if err != nil {
				t.Fatalf("parseFilter(%s): %v", tt.header, err)
			}
			if !reflect.DeepEqual(f, tt.want) {
				t.Errorf("filter:\n got  %s\n want %s", dumpFilter(f), dumpFilter(tt.want))
			}
			if orderBy != tt.orderBy || desc != tt.desc {
				t.Errorf("order = %q desc=%v, want %q desc=%v", orderBy, desc, tt.orderBy, tt.desc)
			}
			if err := checkFilterTree(f, fields, 0); err != nil {
				t.Errorf("invalid tree: %v", err)
			}
		})
	}
}

func repeatIDLeaf(n int) []core.Filter {
	out := make([]core.Filter, n)
	for i := range out {
		out[i] = core.Match("id", core.OpEq, int64(1))
	}
	return out
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		name   string
		header string
		fields core.Fields
		reason string
	}{
		// Not JSON, or not an object.
		{"invalid json", `{"label":`, nil, "Invalid JSON in X-Filter"},
		{"garbage", `label=a`, nil, "Invalid JSON in X-Filter"},
		{"trailing comma", `{"label":"a",}`, nil, "Invalid JSON in X-Filter"},
		{"trailing data", `{"label":"a"} x`, nil, "Invalid JSON in X-Filter"},
		{"second value", `{"label":"a"}{}`, nil, "Invalid JSON in X-Filter"},
		{"single quotes", `{'label':'a'}`, nil, "Invalid JSON in X-Filter"},
		{"unclosed array", `{"+or":[{"label":"a"}}`, nil, "Invalid JSON in X-Filter"},
		{"top array", `[{"label":"a"}]`, nil, "X-Filter must be a JSON object, not a list"},
		{"top string", `"label"`, nil, "X-Filter must be a JSON object, not a string"},
		{"top null", `null`, nil, "X-Filter must be a JSON object, not null"},
		{"duplicate key", `{"label":"a","label":"b"}`, nil, "Duplicate key label in X-Filter"},

		// Limits.
		{"too long", `{"label":"` + strings.Repeat("a", maxFilterBytes) + `"}`, nil, "X-Filter is longer than 8192 bytes"},
		{"too deep", `{"+or":[{"+or":[{"+or":[{"+or":[{"label":"a"}]}]}]}]}`, nil, "X-Filter nests deeper than 8 levels"},
		{"too deep garbage", strings.Repeat("[", 4000), nil, "X-Filter nests deeper than 8 levels"},
		{"too many leaves", `{"id":{"+or":[` + strings.TrimSuffix(strings.Repeat("1,", 101), ",") + `]}}`, nil, "X-Filter has more than 100 conditions"},

		// Fields.
		{"unknown field", `{"foo":"a"}`, nil, "Cannot filter on foo"},
		{"not a field of tokens", `{"user_agent":"curl"}`, core.TokenFields, "Cannot filter on user_agent"},
		{"nothing filterable", `{"label":"a"}`, core.Fields{}, "Cannot filter on label"},
		{"nil fields", `{"label":"a"}`, core.Fields(nil), "Cannot filter on label"},
		{"unknown field nested", `{"+and":[{"label":"a"},{"ssh_key":"x"}]}`, nil, "Cannot filter on ssh_key"},
		{"empty field name", `{"":"a"}`, nil, "Cannot filter on "},
		{"long field name", `{"` + strings.Repeat("x", 100) + `":1}`, nil, "Cannot filter on " + strings.Repeat("x", 64) + "…"},

		// Operators.
		{"unknown top operator", `{"+foo":1}`, nil, "Unknown operator +foo"},
		{"unknown field operator", `{"label":{"+foo":"a"}}`, nil, "label: Unknown operator +foo"},
		{"field operator without plus", `{"label":{"contains":"a"}}`, nil, "label: Unknown operator contains"},
		{"field op at top", `{"+gt":1}`, nil, `+gt must be applied to a field, as in {"label": {"+gt": ...}}`},
		{"contains at top", `{"+contains":"a"}`, nil, `+contains must be applied to a field, as in {"label": {"+contains": ...}}`},
		{"and inside field", `{"label":{"+and":["a"]}}`, nil, "label: +and is not allowed inside a field; several operators in one object already AND together"},
		{"empty operator object", `{"label":{}}`, nil, "label: the operator object is empty"},
		{"gt on string", `{"label":{"+gt":"a"}}`, nil, "label: +gt is not allowed on a string field"},
		{"gte on string", `{"label":{"+gte":"a"}}`, nil, "label: +gte is not allowed on a string field"},
		{"lt on bool", `{"public":{"+lt":true}}`, nil, "public: +lt is not allowed on a boolean field"},
		{"lte on bool", `{"public":{"+lte":true}}`, nil, "public: +lte is not allowed on a boolean field"},
		{"contains on time", `{"created":{"+contains":"2024"}}`, nil, "created: +contains is not allowed on a date-time field"},
		{"contains on int", `{"id":{"+contains":1}}`, nil, "id: +contains is not allowed on an integer field"},
		{"contains on bool", `{"public":{"+contains":true}}`, nil, "public: +contains is not allowed on a boolean field"},

		// +and / +or shapes.
		{"and not array", `{"+and":{"label":"a"}}`, nil, "+and must be an array of filter objects, not an object"},
		{"or not array", `{"+or":"a"}`, nil, "+or must be an array of filter objects, not a string"},
		{"or element string", `{"+or":["a"]}`, nil, "+or must be an array of filter objects, not of a string"},
		{"and element null", `{"+and":[null]}`, nil, "+and must be an array of filter objects, not of null"},
		{"and null", `{"+and":null}`, nil, "+and must be an array of filter objects, not null"},
		{"field or not array", `{"label":{"+or":"a"}}`, nil, "label: +or must be a non-empty array of values or operator objects"},
		{"field or empty", `{"label":{"+or":[]}}`, nil, "label: +or must be a non-empty array of values or operator objects"},
		{"field or nested list", `{"label":{"+or":[["a"]]}}`, nil, "label: +or elements must be values or operator objects, not lists"},
		{"field or bad element", `{"label":{"+or":["a",1]}}`, nil, "label: expected a string, got a number"},
		{"field list", `{"label":["a","b"]}`, nil, `label: a list is not a value; use {"+or": [...]} to match any of several`},

		// Ordering.
		{"order bad value", `{"+order_by":"label","+order":"up"}`, nil, `+order must be "asc" or "desc"`},
		{"order upper case", `{"+order_by":"label","+order":"DESC"}`, nil, `+order must be "asc" or "desc"`},
		{"order not string", `{"+order_by":"label","+order":1}`, nil, `+order must be "asc" or "desc"`},
		{"order_by unknown", `{"+order_by":"foo"}`, nil, "Cannot order by foo"},
		{"order_by not a field of tokens", `{"+order_by":"user_agent"}`, core.TokenFields, "Cannot order by user_agent"},
		{"order_by empty", `{"+order_by":""}`, nil, "Cannot order by "},
		{"order_by not string", `{"+order_by":["label"]}`, nil, "+order_by must be a string naming a field, not a list"},
		{"order_by null", `{"+order_by":null}`, nil, "+order_by must be a string naming a field, not null"},
		{"order_by nested", `{"+and":[{"+order_by":"label"}]}`, nil, "+order_by is only allowed at the top level of X-Filter"},
		{"order nested", `{"+or":[{"+order":"asc"}]}`, nil, "+order is only allowed at the top level of X-Filter"},
		{"order_by in field", `{"label":{"+order_by":"label"}}`, nil, "+order_by is only allowed at the top level of X-Filter"},

		// Values.
		{"null literal", `{"label":null}`, nil, "label: null is not a valid value"},
		{"null operand", `{"id":{"+gt":null}}`, nil, "id +gt: null is not a valid value"},
		{"null neq", `{"created":{"+neq":null}}`, nil, "created +neq: null is not a valid value"},
		{"string got number", `{"label":1}`, nil, "label: expected a string, got a number"},
		{"string got bool", `{"label":true}`, nil, "label: expected a string, got a boolean"},
		{"contains got number", `{"label":{"+contains":1}}`, nil, "label +contains: expected a string, got a number"},
		{"string with NUL", `{"label":"a\u0000b"}`, nil, "label: values may not contain NUL characters"},
		{"int got string", `{"id":"1"}`, nil, "id: expected an integer, got a string"},
		{"int got float", `{"id":1.5}`, nil, "id: expected an integer, got 1.5"},
		{"int got exponent", `{"id":1e3}`, nil, "id: expected an integer, got 1e3"},
		{"int got fraction zero", `{"id":{"+gte":10.0}}`, nil, "id +gte: expected an integer, got 10.0"},
		{"int overflow", `{"id":9223372036854775808}`, nil, "id: 9223372036854775808 is out of range"},
		{"int underflow", `{"id":{"+lt":-9223372036854775809}}`, nil, "id +lt: -9223372036854775809 is out of range"},
		{"int huge", `{"id":1` + strings.Repeat("0", 100) + `}`, nil, "id: 1" + strings.Repeat("0", 63) + "… is out of range"},
		{"bool got string", `{"public":"true"}`, nil, "public: expected true or false, got a string"},
		{"bool got number", `{"public":1}`, nil, "public: expected true or false, got a number"},
		{"time got number", `{"created":{"+gt":1700000000}}`, nil, "created +gt: expected a date-time string like 2024-01-01T00:00:00, got a number"},
		{"time with Z", `{"created":"2024-01-01T00:00:00Z"}`, nil, `created: "2024-01-01T00:00:00Z" is not a date-time like 2024-01-01T00:00:00 (UTC)`},
		{"time with offset", `{"created":"2024-01-01T00:00:00+02:00"}`, nil, `created: "2024-01-01T00:00:00+02:00" is not a date-time like 2024-01-01T00:00:00 (UTC)`},
		{"time date only", `{"created":"2024-01-01"}`, nil, `created: "2024-01-01" is not a date-time like 2024-01-01T00:00:00 (UTC)`},
		{"time space", `{"created":"2024-01-01 00:00:00"}`, nil, `created: "2024-01-01 00:00:00" is not a date-time like 2024-01-01T00:00:00 (UTC)`},
		{"time empty", `{"created":""}`, nil, `created: "" is not a date-time like 2024-01-01T00:00:00 (UTC)`},
		{"time one-digit hour", `{"created":"2024-01-01T0:00:00.5"}`, nil, `created: "2024-01-01T0:00:00.5" is not a date-time like 2024-01-01T00:00:00 (UTC)`},
		{"time comma fraction", `{"created":"2024-01-01T00:00:00,5"}`, nil, `created: "2024-01-01T00:00:00,5" is not a date-time like 2024-01-01T00:00:00 (UTC)`},
		{"time bare dot", `{"created":"2024-01-01T00:00:00."}`, nil, `created: "2024-01-01T00:00:00." is not a date-time like 2024-01-01T00:00:00 (UTC)`},
		{"time bad day", `{"created":"2023-02-29T00:00:00"}`, nil, `created: "2023-02-29T00:00:00" is not a date-time like 2024-01-01T00:00:00 (UTC)`},
		{"time bad hour", `{"created":"2024-01-01T24:00:00"}`, nil, `created: "2024-01-01T24:00:00" is not a date-time like 2024-01-01T00:00:00 (UTC)`},
		{"time bad month", `{"expiry":{"+lt":"2024-13-01T00:00:00"}}`, nil, `expiry +lt: "2024-13-01T00:00:00" is not a date-time like 2024-01-01T00:00:00 (UTC)`},

		// The first error in header order wins.
		{"first error wins", `{"foo":1,"+bar":2}`, nil, "Cannot filter on foo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := tt.fields
			if fields == nil && !strings.HasPrefix(tt.name, "nil fields") {
				fields = filterTestFields
			}
			f, orderBy, desc, err := parseFilter(tt.header, fields)
			if err == nil {
				t.Fatalf("parseFilter(%s) = %s, %q, %v; want error %q", tt.header, dumpFilter(f), orderBy, desc, tt.reason)
			}
			if f != nil || orderBy != "" || desc {
				t.Errorf("non-zero results beside the error: %s, %q, %v", dumpFilter(f), orderBy, desc)
			}
			var ce *core.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not a *core.Error", err, err)
			}
			if ce.Kind != core.KindInvalid || ce.Field != "X-Filter" {
				t.Errorf("error kind %v field %q, want KindInvalid X-Filter", ce.Kind, ce.Field)
			}
			if ce.Reason != tt.reason {
				t.Errorf("reason:\n got  %q\n want %q", ce.Reason, tt.reason)
			}
		})
	}
}

// The profile resources' own field sets, as the handlers pass them: every
// scalar field of each resource filters and orders.
func TestParseFilterProfileFields(t *testing.T) {
	sets := map[string]core.Fields{"sshkeys": core.SSHKeyFields, "tokens": core.TokenFields, "apps": core.AppFields,
		"devices": core.DeviceFields, "logins": core.LoginFields}
	samples := map[core.FieldType][]string{
		core.FieldString: {`"a"`, `{"+contains":"a"}`, `{"+neq":"a"}`},
		core.FieldTime:   {`"2024-01-01T00:00:00"`, `{"+gt":"2024-01-01T00:00:00"}`, `{"+lte":"2024-01-01T00:00:00"}`},
		core.FieldInt:    {`1`, `{"+gte":1}`, `{"+lt":10}`},
		core.FieldBool:   {`true`},
	}
	for name, fields := range sets {
		for field, typ := range fields {
			for _, v := range samples[typ] {
				h := `{"` + field + `":` + v + `}`
				if _, _, _, err := parseFilter(h, fields); err != nil {
					t.Errorf("%s %s: %v", name, h, err)
				}
			}
			h := `{"+order_by":"` + field + `","+order":"desc"}`
			if _, by, _, err := parseFilter(h, fields); err != nil || by != field {
				t.Errorf("%s %s: %q, %v", name, h, by, err)
			}
		}
		if _, _, _, err := parseFilter(`{"no_such_field":"a"}`, fields); err == nil {
			t.Errorf("%s: no error for an unknown field", name)
		}
	}
}

var filterFuzzSeeds = []string{
	"",
	"{}",
	`{"+order":"desc","+order_by":"label","label":"a"}`,
	`{"+and":[{"label":{"+contains":"go"}},{"created":{"+gte":"2024-01-01T00:00:00"}}]}`,
	`{"+and":[{"label":{"+contains":"go"}},{"id":{"+gte":10}}]}`,
	`{"+or":[{"+and":[{"+or":[{"id":1},{"id":2}]},{"public":true}]},{"label":"z"}]}`,
	`{"created":{"+or":["2024-01-01T00:00:00.5",{"+gt":"2025-01-01T00:00:00"}]}}`,
	`{"id":{"+or":[1,2],"+neq":-9223372036854775808,"+lte":1e3}}`,
	`{"expiry":{"+lt":"2024-13-01T00:00:00"},"public":{"+neq":null}}`,
	`{"label":["a"],"+order":"asc"}`,
	`[[[[[[[[[[`,
	`{"label":"a"} trailing`,
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range filterFuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		filter, orderBy, desc, err := parseFilter(header, filterTestFields)
		if err != nil {
			var ce *core.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not a *core.Error", err, err)
			}
			if ce.Kind != core.KindInvalid || ce.Field != "X-Filter" || ce.Reason == "" {
				t.Fatalf("error %+v: want KindInvalid, Field X-Filter and a reason", ce)
			}
			if filter != nil || orderBy != "" || desc {
				t.Fatalf("results beside an error")
			}
			return
		}
		if len(header) > maxFilterBytes {
			t.Fatalf("accepted a %d-byte header", len(header))
		}
		if orderBy != "" {
			if _, ok := filterTestFields[orderBy]; !ok {
				t.Fatalf("order by unknown field %q", orderBy)
			}
		} else if desc {
			t.Fatalf("desc without order_by")
		}
		if err := checkFilterTree(filter, filterTestFields, 0); err != nil {
			t.Fatalf("%s: %v", header, err)
		}
		if n := countFilterLeaves(filter); n > maxFilterLeaves {
			t.Fatalf("%d leaves", n)
		}
		// The same header always gives the same tree.
		again, _, _, _ := parseFilter(header, filterTestFields)
		if !reflect.DeepEqual(filter, again) {
			t.Fatalf("not deterministic")
		}
	})
}

// checkFilter asserts the shape the stores rely on: every node is exactly
// one of a non-empty And, a non-empty Or or a leaf, and every leaf names a
// known field with an operator its type allows and a value of its Go type.
func checkFilterTree(f *core.Filter, fields core.Fields, depth int) error {
	if f == nil {
		return nil
	}
	if depth > maxFilterDepth {
		return fmt.Errorf("tree deeper than %d", maxFilterDepth)
	}
	set := 0
	for _, b := range []bool{f.And != nil, f.Or != nil, f.Field != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("node %s is not exactly one of and/or/leaf", dumpFilter(f))
	}
	for _, list := range [][]core.Filter{f.And, f.Or} {
		if list != nil && len(list) < 2 {
			return fmt.Errorf("and/or with %d elements", len(list))
		}
		for i := range list {
			if err := checkFilterTree(&list[i], fields, depth+1); err != nil {
				return err
			}
		}
	}
	if f.Field == "" {
		return nil
	}
	typ, ok := fields[f.Field]
	if !ok {
		return fmt.Errorf("unknown field %q", f.Field)
	}
	var okType bool
	switch typ {
	case core.FieldString:
		_, okType = f.Value.(string)
	case core.FieldTime:
		var tm time.Time
		tm, okType = f.Value.(time.Time)
		if okType && tm.Location() != time.UTC {
			return fmt.Errorf("time %v not UTC", tm)
		}
	case core.FieldInt:
		_, okType = f.Value.(int64)
	case core.FieldBool:
		_, okType = f.Value.(bool)
	}
	if !okType {
		return fmt.Errorf("field %q has value %T", f.Field, f.Value)
	}
	switch f.Op {
	case core.OpEq, core.OpNeq:
	case core.OpGt, core.OpGte, core.OpLt, core.OpLte:
		if typ != core.FieldInt && typ != core.FieldTime {
			return fmt.Errorf("%s on %q", f.Op, f.Field)
		}
	case core.OpContains:
		if typ != core.FieldString {
			return fmt.Errorf("contains on %q", f.Field)
		}
	default:
		return fmt.Errorf("unknown op %q", f.Op)
	}
	return nil
}

func countFilterLeaves(f *core.Filter) int {
	if f == nil {
		return 0
	}
	if f.Field != "" {
		return 1
	}
	n := 0
	for i := range f.And {
		n += countFilterLeaves(&f.And[i])
	}
	for i := range f.Or {
		n += countFilterLeaves(&f.Or[i])
	}
	return n
}

func dumpFilter(f *core.Filter) string {
	if f == nil {
		return "<nil>"
	}
	if f.Field != "" {
		if t, ok := f.Value.(time.Time); ok {
			return fmt.Sprintf("%s %s %s", f.Field, f.Op, t.Format(time.RFC3339Nano))
		}
		return fmt.Sprintf("%s %s %#v", f.Field, f.Op, f.Value)
	}
	var parts []string
	sep := " AND "
	list := f.And
	if f.Or != nil {
		sep, list = " OR ", f.Or
	}
	for i := range list {
		parts = append(parts, dumpFilter(&list[i]))
	}
	return "(" + strings.Join(parts, sep) + ")"
}
