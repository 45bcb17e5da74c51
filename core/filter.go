package core

// FieldType says how a filterable field's values are compared.
type FieldType int

const (
	FieldString FieldType = iota
	FieldTime
	FieldInt
	FieldBool
)

// Fields names the fields of one resource that lists may be filtered and
// ordered on, with their types. The faces validate filters against them;
// the stores map them to columns.
type Fields map[string]FieldType

// The fields lists may be filtered and ordered on, per resource: every
// scalar field the resource's JSON carries, named as it is there. The Linode
// spec marks fewer (x-linode-filterable: label and created on tokens, label,
// created and expiry on apps, nothing on SSH keys, devices or logins), but
// the real API filters and orders on all of them and real clients rely on it
// (WIRE-FACTS.md: Cloud Manager orders devices by expiry, Ansible filters SSH
// keys by label). A token's "token" is the 16-character prefix it is shown by.
var (
	SSHKeyFields = Fields{"id": FieldInt, "label": FieldString, "ssh_key": FieldString, "created": FieldTime}
	TokenFields  = Fields{"id": FieldInt, "label": FieldString, "scopes": FieldString, "created": FieldTime,
		"expiry": FieldTime, "token": FieldString}
	AppFields = Fields{"id": FieldInt, "label": FieldString, "scopes": FieldString, "website": FieldString,
		"thumbnail_url": FieldString, "created": FieldTime, "expiry": FieldTime}
	DeviceFields = Fields{"id": FieldInt, "created": FieldTime, "expiry": FieldTime, "last_authenticated": FieldTime,
		"last_remote_addr": FieldString, "user_agent": FieldString}
	LoginFields = Fields{"id": FieldInt, "datetime": FieldTime, "ip": FieldString, "username": FieldString,
		"status": FieldString, "restricted": FieldBool}
)

// Op is a comparison in a filter leaf.
type Op string

const (
	OpEq       Op = "eq"
	OpNeq      Op = "neq"
	OpGt       Op = "gt"
	OpGte      Op = "gte"
	OpLt       Op = "lt"
	OpLte      Op = "lte"
	OpContains Op = "contains"
)

// Filter is a boolean expression over a resource's fields. Exactly one of
// And, Or or Field is set. Values are string, int64, bool or time.Time
// according to the field's FieldType.
type Filter struct {
	And   []Filter
	Or    []Filter
	Field string
	Op    Op
	Value any
}

// Match builds a leaf.
func Match(field string, op Op, value any) Filter { return Filter{Field: field, Op: op, Value: value} }

// AllOf joins filters with AND, dropping nils.
func AllOf(fs ...*Filter) *Filter {
	var out []Filter
	for _, f := range fs {
		if f != nil {
			out = append(out, *f)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return &out[0]
	}
	return &Filter{And: out}
}

// ListQuery selects one page of a user's objects.
type ListQuery struct {
	Filter   *Filter // nil for all
	OrderBy  string  // a field of the resource; empty orders by id
	Desc     bool
	Page     int // >= 1
	PageSize int // 25..500
}

// Offset is the number of rows before the requested page.
func (q ListQuery) Offset() int { return (q.Page - 1) * q.PageSize }

// Page is one page of a list and the total count across all pages.
type Page[T any] struct {
	Data     []T
	Page     int
	PageSize int
	Results  int
}

// Pages is the number of pages, at least one.
func (p Page[T]) Pages() int {
	if p.Results == 0 || p.PageSize == 0 {
		return 1
	}
	return (p.Results + p.PageSize - 1) / p.PageSize
}

// Page sizes accepted by lists.
const (
	MinPageSize     = 25
	MaxPageSize     = 500
	DefaultPageSize = 100
)
