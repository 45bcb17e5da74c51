// Package httpx holds what the HTTP faces read and write the same way: the
// bearer token of a request, the HTTP status of a core error's kind, its
// Retry-After, and bodies sent with an exact Content-Type and
// Content-Length. Each face keeps its own error
// envelope, and overrides a status where its API answers otherwise on
// purpose.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/profiled/profiled/core"
)

// Bearer returns the token of an "Authorization: Bearer <token>" header
// (the scheme in any case), or "".
func Bearer(r *http.Request) string { return Credential(r, "bearer") }

// Credential returns the token of an Authorization header whose scheme is
// one of schemes (in any case), or "".
func Credential(r *http.Request, schemes ...string) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok {
		return ""
	}
	for _, s := range schemes {
		if strings.EqualFold(scheme, s) {
			return strings.TrimSpace(tok)
		}
	}
	return ""
}

// Status is the HTTP status of an error of kind: Invalid 400, NotFound
// 404, Unauthorized 401, Forbidden 403, Conflict 409, TooManyRequests 429,
// TooLarge 413, Gone 410, Unavailable 503, PreconditionFailed 412, and 500
// for KindInternal and any other.
func Status(kind core.Kind) int {
	switch kind {
	case core.KindInvalid:
		return http.StatusBadRequest
	case core.KindNotFound:
		return http.StatusNotFound
	case core.KindUnauthorized:
		return http.StatusUnauthorized
	case core.KindForbidden:
		return http.StatusForbidden
	case core.KindConflict:
		return http.StatusConflict
	case core.KindTooManyRequests:
		return http.StatusTooManyRequests
	case core.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case core.KindGone:
		return http.StatusGone
	case core.KindUnavailable:
		return http.StatusServiceUnavailable
	case core.KindPreconditionFailed:
		return http.StatusPreconditionFailed
	}
	return http.StatusInternalServerError
}

// SetRetryAfter sets Retry-After on h for a KindTooManyRequests or
// KindUnavailable error: e.RetryAfter in whole seconds, rounded up, at
// least 1. Other errors set nothing.
func SetRetryAfter(h http.Header, e *core.Error) {
	if e.Kind != core.KindTooManyRequests && e.Kind != core.KindUnavailable {
		return
	}
	secs := int((e.RetryAfter + time.Second - 1) / time.Second)
	h.Set("Retry-After", strconv.Itoa(max(secs, 1)))
}

// Write sends body with status, exactly contentType as Content-Type, and
// its Content-Length.
func Write(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// WriteJSON sends v as JSON with Write: encoded as json.Encoder does, with
// a newline at the end, but without escaping <, > and &. If v cannot be
// encoded (a bug), it sends fallback with status 500 instead.
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any, fallback string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(fallback)
	}
	Write(w, status, contentType, buf.Bytes())
}

// RequireJSON refuses a request whose Content-Type is not application/json
// (parameters such as charset are fine).
func RequireJSON(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return core.Invalid("", "Content-Type must be application/json")
	}
	return nil
}

// Unknown says what DecodeObject does with a field that v does not have.
type Unknown bool

const (
	// RefuseUnknown answers a field v does not have as an error naming it.
	RefuseUnknown Unknown = false
	// IgnoreUnknown skips it, at any depth, as the Linode API does.
	IgnoreUnknown Unknown = true
)

// DecodeObject reads one JSON object from the body into v, refusing other
// content types and trailing data, and fields v does not have unless
// unknown is IgnoreUnknown. The errors of encoding/json, and a body over
// an http.MaxBytesReader's limit, go through wording, so each face names
// the field in its own words.
func DecodeObject(r *http.Request, v any, unknown Unknown, wording func(error) error) error {
	if err := RequireJSON(r); err != nil {
		return err
	}
	// Read whole (the body is bounded by the face's MaxBytesReader) to
	// refuse invalid UTF-8, which encoding/json would quietly replace.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return wording(err)
	}
	if !utf8.Valid(body) {
		return core.Invalid("", "Request body must be valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if unknown == RefuseUnknown {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return wording(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return core.Invalid("", "Request body must be a single JSON object")
	}
	return nil
}

// StatusClientClosed is the status logged for a request whose client went
// away before its answer was ready (nginx's 499): nobody reads the answer,
// and nothing went wrong in the server.
const StatusClientClosed = 499

// ClientGone reports whether err is the request's own context ending: the
// client disconnected (or the server is shutting down), which is not an
// internal error. A face answers it with AnswerClientGone instead of a 500.
func ClientGone(r *http.Request, err error) bool {
	return r.Context().Err() != nil && !errors.Is(context.Cause(r.Context()), ErrDeadline) &&
		(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// AnswerClientGone ends a request whose client went away.
func AnswerClientGone(w http.ResponseWriter) { w.WriteHeader(StatusClientClosed) }

// IfMatch is the precondition of a request's If-Match header (RFC 9110
// 13.1.1), for the core to check against the current entity tag in the
// same transaction as the write: nil without the header; "*" matches
// anything; otherwise the current tag must be one of those listed,
// compared strongly (a weak tag, W/"...", never matches).
func IfMatch(r *http.Request) core.Precondition {
	vals := r.Header.Values("If-Match")
	if len(vals) == 0 {
		return nil
	}
	var tags []string
	for _, v := range vals {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return func(current string) bool {
		for _, t := range tags {
			if t == "*" || (t == current && !strings.HasPrefix(t, "W/")) {
				return true
			}
		}
		return false
	}
}

// SetETag sets a strong entity tag (already quoted) on the answer.
func SetETag(w http.ResponseWriter, tag string) { w.Header().Set("ETag", tag) }

// ErrDeadline is the cause of a request context that Deadline ended.
var ErrDeadline = errors.New("the request's deadline passed")

// Deadline gives every request of h at most d for its work, the store
// calls in it included: a database link that hangs (a frozen connection, a
// stopped server) then ends them at d, with ErrDeadline as the context's
// cause, instead of holding the request without end. Zero d sets none.
func Deadline(d time.Duration, h http.Handler) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := &deadlineCtx{Context: r.Context(), at: time.Now().Add(d)}
		defer ctx.stop()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// deadlineCtx is its parent with a deadline, whose timer starts only when
// something asks to be told of it (Done, or Err past the deadline). A
// request answered from memory never waits on anything, and a timer per
// request (context.WithTimeoutCause: an allocation, and a runtime timer
// added and deleted under its lock) was 5% of GET /v4/profile's CPU.
// Once started it is context.WithDeadlineCause's context, so Cause,
// children and AfterFunc see ErrDeadline as they would there.
type deadlineCtx struct {
	context.Context // the parent: the request's context
	at              time.Time
	once            sync.Once
	started         atomic.Pointer[startedDeadline]
}

type startedDeadline struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func (c *deadlineCtx) start() context.Context {
	c.once.Do(func() {
		ctx, cancel := context.WithDeadlineCause(c.Context, c.at, ErrDeadline)
		c.started.Store(&startedDeadline{ctx: ctx, cancel: cancel})
	})
	return c.started.Load().ctx
}

// stop releases the timer, if one was started, when the request ends.
func (c *deadlineCtx) stop() {
	if s := c.started.Load(); s != nil {
		s.cancel()
	}
}

func (c *deadlineCtx) Deadline() (time.Time, bool) {
	if parent, ok := c.Context.Deadline(); ok && parent.Before(c.at) {
		return parent, true
	}
	return c.at, true
}

func (c *deadlineCtx) Done() <-chan struct{} { return c.start().Done() }

// Err needs no timer before the deadline: then only the parent can have
// ended.
func (c *deadlineCtx) Err() error {
	if c.started.Load() == nil && time.Now().Before(c.at) {
		return c.Context.Err()
	}
	return c.start().Err()
}

// Value answers from the started context once there is one, or once the
// deadline passed (context.Cause finds its cause there); before, nothing
// of its own can have ended, and the parent answers.
func (c *deadlineCtx) Value(key any) any {
	if c.started.Load() == nil && time.Now().Before(c.at) {
		return c.Context.Value(key)
	}
	return c.start().Value(key)
}

// Domain turns an error of the request's own deadline (Deadline) into a
// core error of KindUnavailable, which every face answers as 503 with
// Retry-After in its envelope; other errors come back as they are.
func Domain(r *http.Request, err error) error {
	if err != nil && core.AsError(err) == nil && errors.Is(err, context.DeadlineExceeded) &&
		errors.Is(context.Cause(r.Context()), ErrDeadline) {
		return &core.Error{Kind: core.KindUnavailable, RetryAfter: time.Second,
			Reason: "The database did not answer in time: try again in a moment"}
	}
	return err
}

// Failure maps a handler's error for a face's envelope: the core error to
// answer (the request's own deadline made one, see Domain), or nil for an
// internal error, which the face logs and answers 500. gone reports a
// client that left, already answered with StatusClientClosed: the face
// writes nothing more.
func Failure(w http.ResponseWriter, r *http.Request, err error) (e *core.Error, gone bool) {
	err = Domain(r, err)
	if e = core.AsError(err); e == nil && ClientGone(r, err) {
		AnswerClientGone(w)
		return nil, true
	}
	return e, false
}

// JSONError words encoding/json's errors, and a body over an
// http.MaxBytesReader's limit, as core errors naming the field, for
// DecodeObject.
func JSONError(err error) error {
	var tooBig *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &tooBig):
		return &core.Error{Kind: core.KindTooLarge, Reason: fmt.Sprintf("Request body must be at most %d bytes", tooBig.Limit)}
	case errors.Is(err, io.EOF):
		return core.Invalid("", "Request body is required: send a JSON object")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return core.Invalid("", "Request body must be a JSON object")
		}
		return core.Invalid(field, "%s must be of type %s", field, jsonType(typeErr.Type.Kind().String()))
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return core.Invalid("", "Request body is not valid JSON")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return core.Invalid(name, "%s is not a field of this object", name)
	}
	return core.Invalid("", "Request body is not valid JSON")
}

// jsonType names a Go kind as JSON's type.
func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int64", "int32", "float64":
		return "number"
	case "slice":
		return "array"
	}
	return "object"
}

// Document answers a fixed JSON document (an OpenAPI description) that
// any client may read and cache for a while; HEAD gets the headers alone.
func Document(doc []byte) http.HandlerFunc {
	length := strconv.Itoa(len(doc))
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		h.Set("Cache-Control", "public, max-age=300")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(doc)
		}
	}
}
