package linode

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/reqlog"
)

// timeLayout is how the Linode API writes times: UTC, no zone suffix.
// linodego fails the whole call on a "Z" or an offset.
const timeLayout = "2006-01-02T15:04:05"

// neverExpires is how the real API shows a token created without expiry.
const neverExpires = "2999-12-12T05:00:00"

// linodeTime marshals as the Linode layout, a JSON string. It is a
// TextMarshaler rather than a json.Marshaler: encoding/json re-scans and
// compacts whatever a MarshalJSON returns, which made times the larger part
// of encoding a list of SSH keys.
type linodeTime time.Time

func (t linodeTime) MarshalText() ([]byte, error) {
	return time.Time(t).UTC().AppendFormat(make([]byte, 0, len(timeLayout)), timeLayout), nil
}

func timePtr(t *time.Time) *linodeTime {
	if t == nil {
		return nil
	}
	lt := linodeTime(*t)
	return &lt
}

// errorBody is the Linode error envelope.
type errorBody struct {
	Errors []errorItem `json:"errors"`
}

type errorItem struct {
	Reason string `json:"reason"`
	Field  string `json:"field,omitempty"`
}

// jsonContentType is the exact Content-Type linodego requires.
var jsonContentType = header("Content-Type", "application/json")

// jsonBuffers keep the encoding buffers of responses between requests.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer is the largest buffer kept: a rare huge response does
// not pin its memory.
const maxPooledBuffer = 64 << 10

// writeJSON sends v with the exact Content-Type linodego requires.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			buf.Reset()
			jsonBuffers.Put(buf)
		}
	}()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"errors":[{"reason":"Internal server error"}]}`)
	}
	h := w.Header()
	h[jsonContentType.Key] = jsonContentType.Value
	h["Content-Length"] = []string{strconv.Itoa(buf.Len())}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// empty is the {} that deletes and actions answer.
var empty = struct{}{}

func writeError(w http.ResponseWriter, status int, field, reason string) {
	writeJSON(w, status, errorBody{Errors: []errorItem{{Reason: reason, Field: field}}})
}

// failer turns core errors into Linode error responses.
type failer struct{ log *slog.Logger }

func (f failer) fail(w http.ResponseWriter, r *http.Request, err error) {
	e, gone := httpx.Failure(w, r, err)
	if gone {
		return
	}
	if e == nil {
		f.log.ErrorContext(r.Context(), "internal error", "err", err, "request_id", reqlog.RequestID(r.Context()))
		writeError(w, http.StatusInternalServerError, "", "Internal server error; the server log has the details under request id "+reqlog.RequestID(r.Context()))
		return
	}
	status := httpx.Status(e.Kind)
	switch {
	case e.Kind == core.KindConflict:
		status = http.StatusBadRequest // the Linode API answers a conflict, as any refused request, with 400
	case e.Kind == core.KindForbidden && e.Required != "":
		status = http.StatusUnauthorized // and a token without the scope, with 401
	}
	httpx.SetRetryAfter(w.Header(), e)
	writeError(w, status, e.Field, e.Reason)
}

// decode reads a JSON object body into v, refusing trailing data, wrong
// content types and bodies over the limit; errors name the field. Fields
// the endpoint does not know are ignored, as the Linode API ignores them:
// Ansible's linode.cloud token module posts its own parameters (state,
// api_url, api_version, ua_prefix, ca_path, even api_token) beside label,
// scopes and expiry, and the real API creates the token. A known field of
// the wrong type is still refused.
func decode(r *http.Request, v any) error {
	return httpx.DecodeObject(r, v, httpx.IgnoreUnknown, httpx.JSONError)
}

// listParams reads page and page_size.
func listParams(r *http.Request) (core.ListQuery, error) {
	q := core.ListQuery{Page: 1, PageSize: core.DefaultPageSize}
	v := r.URL.Query()
	if s := v.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, core.Invalid("page", "page must be an integer of at least 1")
		}
		q.Page = n
	}
	if s := v.Get("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < core.MinPageSize || n > core.MaxPageSize {
			return q, core.Invalid("page_size", "page_size must be an integer from %d to %d", core.MinPageSize, core.MaxPageSize)
		}
		q.PageSize = n
	}
	// A page past 2^63/page_size cannot be reached: answer the last possible one.
	if q.Page > (1<<62)/q.PageSize {
		q.Page = (1 << 62) / q.PageSize
	}
	return q, nil
}

// listQuery reads pagination and the X-Filter header for a resource.
func listQuery(r *http.Request, fields core.Fields) (core.ListQuery, error) {
	q, err := listParams(r)
	if err != nil {
		return q, err
	}
	if h := r.Header.Get("X-Filter"); h != "" {
		q.Filter, q.OrderBy, q.Desc, err = parseFilter(h, fields)
	}
	return q, err
}

// pageJSON is the list envelope.
type pageJSON[T any] struct {
	Data    []T `json:"data"`
	Page    int `json:"page"`
	Pages   int `json:"pages"`
	Results int `json:"results"`
}

func toPage[S, T any](p core.Page[S], conv func(S) T) pageJSON[T] {
	out := pageJSON[T]{Data: make([]T, len(p.Data)), Page: p.Page, Pages: p.Pages(), Results: p.Results}
	for i, s := range p.Data {
		out.Data[i] = conv(s)
	}
	return out
}

// pathID reads an integer path parameter; anything else is a 404, as for a missing object.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id < 1 {
		return 0, core.NotFound()
	}
	return id, nil
}
