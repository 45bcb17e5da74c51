package pace

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/reqlog"
)

// contentType is the media type of JSON:API documents, which errors are.
const contentType = "application/vnd.api+json"

// Codes the face adds to the core's (core.Code*).
const (
	codeUnknownVersion       = "unknown-version"
	codeMethodNotAllowed     = "method-not-allowed"
	codeUnsupportedMediaType = "unsupported-media-type"
	codeInvalidToken         = "invalid-token"
	codeInternal             = "internal-error"
)

// errorDocument is a JSON:API document with errors.
type errorDocument struct {
	Errors []errorObject `json:"errors"`
}

type errorObject struct {
	ID     string         `json:"id"`
	Status string         `json:"status"`
	Code   string         `json:"code"`
	Title  string         `json:"title"`
	Detail string         `json:"detail,omitempty"`
	Source *errorSource   `json:"source,omitempty"`
	Meta   map[string]any `json:"meta,omitempty"`
}

// errorSource points at the culprit: a JSON Pointer into the request body,
// or the name of a path or query parameter.
type errorSource struct {
	Pointer   string `json:"pointer,omitempty"`
	Parameter string `json:"parameter,omitempty"`
}

// titles are the fixed summaries of the codes that have their own; any
// other takes the status's text.
var titles = map[string]string{
	core.CodeMaxKeys:           "Max number of keys exceeded",
	core.CodeKeyTooLong:        "Key too long",
	core.CodeValueTooLarge:     "Value too large",
	core.CodeBodyTooLarge:      "Request body too large",
	core.CodeInvalidJSON:       "Invalid JSON",
	core.CodeNotAnObject:       "Preferences must be a JSON object",
	core.CodeDuplicateKey:      "Duplicate key",
	core.CodeUnreadableBody:    "Request body unreadable",
	core.CodeUnknownClient:     "Unknown client",
	codeUnknownVersion:         "Unknown API version",
	codeInvalidToken:           "OAuth token missing or invalid",
	core.CodeInsufficientScope: "Insufficient scope",
	core.CodeQuotaExceeded:     "Quota exceeded",
}

// kindCodes are the codes of errors that have none of their own.
var kindCodes = map[core.Kind]string{
	core.KindInvalid:         "invalid-request",
	core.KindNotFound:        "not-found",
	core.KindUnauthorized:    codeInvalidToken,
	core.KindForbidden:       "forbidden",
	core.KindConflict:        "conflict",
	core.KindTooManyRequests: "too-many-requests",
	core.KindTooLarge:        "too-large",
	core.KindGone:            "gone",
	core.KindUnavailable:     "unavailable",
	// If-Match named another version of the preferences than the stored one.
	core.KindPreconditionFailed: "precondition-failed",
}

// status maps an error to its HTTP status and its code.
func status(e *core.Error) (int, string) {
	st, code := httpx.Status(e.Kind), kindCodes[e.Kind]
	if code == "" {
		code = codeInternal
	}
	switch e.Code {
	case "":
	case codeMethodNotAllowed:
		st, code = http.StatusMethodNotAllowed, e.Code
	case codeUnsupportedMediaType:
		st, code = http.StatusUnsupportedMediaType, e.Code
	default:
		code = e.Code
	}
	return st, code
}

// fail answers err as a JSON:API error document. Its id is the request id
// (X-Request-Id), which the request's log line carries as request_id, so a
// user's report leads to the log; outside reqlog.Middleware a fresh id is
// made and logged here.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	id := reqlog.RequestID(ctx)
	logged := id != ""
	if !logged {
		id = newID()
	}
	e, gone := httpx.Failure(w, r, err)
	if gone {
		return
	}
	if e == nil {
		s.log.LogAttrs(ctx, slog.LevelError, "internal error", slog.String("request_id", id), slog.String("error", err.Error()))
		logged = true
		e = &core.Error{Kind: core.KindInternal, Reason: "Internal server error; the server log has the details under the id " + id}
	}
	st, code := status(e)
	title := titles[code]
	if title == "" {
		title = http.StatusText(st)
	}
	obj := errorObject{ID: id, Status: strconv.Itoa(st), Code: code, Title: title, Detail: e.Reason}
	switch {
	case strings.HasPrefix(e.Field, "/"):
		obj.Source = &errorSource{Pointer: e.Field}
	case e.Field != "":
		obj.Source = &errorSource{Parameter: e.Field}
	}
	h := w.Header()
	httpx.SetRetryAfter(h, e)
	switch st {
	case http.StatusUnauthorized:
		if httpx.Bearer(r) == "" {
			h.Set("WWW-Authenticate", `Bearer realm="profiled"`)
		} else {
			h.Set("WWW-Authenticate", `Bearer realm="profiled", error="invalid_token"`)
		}
	case http.StatusForbidden:
		if e.Required != "" {
			obj.Meta = map[string]any{"required_scope": e.Required}
			h.Set("WWW-Authenticate", `Bearer realm="profiled", error="insufficient_scope", scope="`+e.Required+`"`)
		}
	}
	if !logged {
		s.log.LogAttrs(ctx, slog.LevelInfo, "error response", slog.String("error_id", id),
			slog.Int("status", st), slog.String("code", code))
	}
	body, _ := json.Marshal(errorDocument{Errors: []errorObject{obj}})
	httpx.Write(w, st, contentType, body)
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
