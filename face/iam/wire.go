package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/reqlog"
)

// timeLayout is how the face writes times: RFC 3339 in UTC.
const timeLayout = "2006-01-02T15:04:05Z"

// apiTime marshals as timeLayout.
type apiTime time.Time

func (t apiTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(timeLayout) + `"`), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	httpx.WriteJSON(w, status, "application/json", v, `{"detail":"Internal Server Error"}`+"\n")
}

// detail is the body of every error but a validation error.
type detail struct {
	Detail string `json:"detail"`
}

func writeDetail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, detail{Detail: msg})
}

// problem is one entry of a 422's detail list, as FastAPI (pydantic)
// writes them: where (loc: "body", then field names), what (msg), and a
// machine-readable type.
type problem struct {
	Type string `json:"type"`
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
}

// Problem types, pydantic's names for what the face checks itself;
// "value_error" is every rule the core refuses.
const (
	typeMissing      = "missing"
	typeExtra        = "extra_forbidden"
	typeString       = "string_type"
	typeBool         = "bool_type"
	typeObject       = "model_attributes_type"
	typeJSON         = "json_invalid"
	typeTooShort     = "string_too_short"
	typeTooLong      = "string_too_long"
	typeValue        = "value_error"
	msgFieldRequired = "Field required"
)

type validationBody struct {
	Detail []problem `json:"detail"`
}

// wireError is an answer of the face's own checks, before the core (a
// 415, a 422 of the body's shape): fail writes it as it is.
type wireError struct {
	status int
	body   any
}

func (e *wireError) Error() string { return http.StatusText(e.status) }

// problems is the 422 of ps.
func problems(ps ...problem) error {
	return &wireError{status: http.StatusUnprocessableEntity, body: validationBody{Detail: ps}}
}

// detailError is status with {"detail": msg}.
func detailError(status int, msg string) error {
	return &wireError{status: status, body: detail{Detail: msg}}
}

// locOf turns a core field ("security.email") into a loc under "body".
func locOf(field string) []any {
	loc := []any{"body"}
	if field == "" {
		return loc
	}
	for f := range strings.SplitSeq(field, ".") {
		loc = append(loc, f)
	}
	return loc
}

// fail turns an error into the face's error response.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var we *wireError
	if errors.As(err, &we) {
		writeJSON(w, we.status, we.body)
		return
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeDetail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body must be at most %d bytes", tooBig.Limit))
		return
	}
	e, gone := httpx.Failure(w, r, err)
	if gone {
		return
	}
	if e == nil {
		id := reqlog.RequestID(r.Context())
		s.log.ErrorContext(r.Context(), "internal error", "err", err, "request_id", id)
		writeDetail(w, http.StatusInternalServerError, "Internal Server Error; the server log has the details under request id "+id)
		return
	}
	switch e.Kind {
	case core.KindInvalid:
		writeJSON(w, http.StatusUnprocessableEntity, validationBody{Detail: []problem{{Type: typeValue, Loc: locOf(e.Field), Msg: e.Reason}}})
		return
	case core.KindForbidden:
		if e.Required != "" {
			// A valid credential without the scope: RFC 6750's insufficient_scope.
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+e.Required+`"`)
			writeDetail(w, http.StatusForbidden, "Not enough permissions: this operation needs the scope "+e.Required)
			return
		}
	case core.KindUnauthorized:
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	httpx.SetRetryAfter(w.Header(), e)
	writeDetail(w, httpx.Status(e.Kind), e.Error())
}

// object is a JSON object request body, read field by field so that every
// problem names its place: problems collect in errs.
type object struct {
	loc    []any
	fields map[string]json.RawMessage
	used   map[string]bool
	errs   *[]problem
}

// msgNotJSON is the 415 of a body that is not JSON.
const msgNotJSON = "Content-Type must be application/json"

// readObject reads a JSON object body, or returns the error that answers
// a body that is not one.
func readObject(r *http.Request) (*object, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, detailError(http.StatusUnsupportedMediaType, msgNotJSON)
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, problems(problem{Type: typeMissing, Loc: []any{"body"}, Msg: msgFieldRequired})
	}
	if !utf8.Valid(b) {
		// encoding/json would quietly replace the bytes; PostgreSQL refuses them.
		return nil, problems(problem{Type: typeJSON, Loc: []any{"body"}, Msg: "JSON decode error: the body is not valid UTF-8"})
	}
	var raw json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, problems(problem{Type: typeJSON, Loc: []any{"body"}, Msg: "JSON decode error: " + err.Error()})
	}
	errs := []problem{}
	o := objectAt(raw, []any{"body"}, &errs)
	if o == nil {
		return nil, problems(errs...)
	}
	return o, nil
}

// objectAt reads raw as an object at loc; nil (and a problem) if it is not one.
func objectAt(raw json.RawMessage, loc []any, errs *[]problem) *object {
	var fields map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &fields) != nil {
		*errs = append(*errs, problem{Type: typeObject, Loc: loc, Msg: "Input should be a valid dictionary or object to extract fields from"})
		return nil
	}
	return &object{loc: loc, fields: fields, used: map[string]bool{}, errs: errs}
}

func (o *object) at(name string) []any { return append(append([]any{}, o.loc...), name) }

func (o *object) problem(name, typ, msg string) {
	*o.errs = append(*o.errs, problem{Type: typ, Loc: o.at(name), Msg: msg})
}

// get returns a field's raw value, marking it used.
func (o *object) get(name string) (json.RawMessage, bool) {
	v, ok := o.fields[name]
	o.used[name] = true
	return v, ok
}

// optString reads an optional string field: nil if absent. null is not a string.
func (o *object) optString(name string) *string {
	v, ok := o.get(name)
	if !ok {
		return nil
	}
	var s string
	if bytes.Equal(bytes.TrimSpace(v), []byte("null")) || json.Unmarshal(v, &s) != nil {
		o.problem(name, typeString, "Input should be a valid string")
		return nil
	}
	return &s
}

// str reads a string field that defaults to def when absent.
func (o *object) str(name, def string) string {
	if p := o.optString(name); p != nil {
		return *p
	}
	return def
}

// requiredString reads a string field that must be present, of 1 to max bytes.
func (o *object) requiredString(name string, maxLen int) string {
	if _, ok := o.fields[name]; !ok {
		o.used[name] = true
		o.problem(name, typeMissing, msgFieldRequired)
		return ""
	}
	p := o.optString(name)
	if p == nil {
		return ""
	}
	switch {
	case *p == "":
		o.problem(name, typeTooShort, "String should have at least 1 character")
	case len(*p) > maxLen:
		o.problem(name, typeTooLong, fmt.Sprintf("String should have at most %d characters", maxLen))
	}
	return *p
}

// boolean reads a boolean field that defaults to def when absent.
func (o *object) boolean(name string, def bool) bool {
	v, ok := o.get(name)
	if !ok {
		return def
	}
	var b bool
	if bytes.Equal(bytes.TrimSpace(v), []byte("null")) || json.Unmarshal(v, &b) != nil {
		o.problem(name, typeBool, "Input should be a valid boolean")
		return def
	}
	return b
}

// child reads an object field: nil if absent or not an object (a problem then).
func (o *object) child(name string) *object {
	v, ok := o.get(name)
	if !ok {
		return nil
	}
	c := objectAt(v, o.at(name), o.errs)
	return c
}

// done reports the fields no reader asked for, as pydantic's forbidden
// extras, then returns the 422 of every problem of the object and its
// children, or nil when they had none.
func (o *object) done(children ...*object) error {
	for _, x := range append([]*object{o}, children...) {
		if x == nil {
			continue
		}
		var extra []string
		for name := range x.fields {
			if !x.used[name] {
				extra = append(extra, name)
			}
		}
		slices.Sort(extra)
		for _, name := range extra {
			x.problem(name, typeExtra, "Extra inputs are not permitted")
		}
	}
	if len(*o.errs) > 0 {
		return problems(*o.errs...)
	}
	return nil
}
