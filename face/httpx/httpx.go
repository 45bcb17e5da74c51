// Package httpx holds what the HTTP faces read and write the same way: the
// bearer token of a request, the HTTP status of a core error's kind, its
// Retry-After, and bodies sent with an exact Content-Type and
// Content-Length. Each face keeps its own error
// envelope, and overrides a status where its API answers otherwise on
// purpose.
package httpx

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/profiled/profiled/core"
)

// Bearer returns the token of an "Authorization: Bearer <token>" header
// (the scheme in any case), or "".
func Bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// Status is the HTTP status of an error of kind: Invalid 400, NotFound
// 404, Unauthorized 401, Forbidden 403, Conflict 409, TooManyRequests 429,
// TooLarge 413, Gone 410, and 500 for KindInternal and any other.
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
	}
	return http.StatusInternalServerError
}

// SetRetryAfter sets Retry-After on h for a KindTooManyRequests error:
// e.RetryAfter in whole seconds, rounded up, at least 1. Other errors set
// nothing.
func SetRetryAfter(h http.Header, e *core.Error) {
	if e.Kind != core.KindTooManyRequests {
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
