// Package webhook delivers the security events of the outbox to a URL the
// operator runs (a SIEM's collector, a chat bridge, a small service of
// the platform): core.Deliverer for core.RunOutbox.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/outbound"
)

// Events POSTs each event as its JSON document (core.EventDocument):
//
//	{"id": 42, "event": "signin.failed", "user_id": 7, "username": "alice",
//	 "detail": "password", "created": "2026-12-01T11:00:00Z"}
//
// with Content-Type application/json, X-Profiled-Event-Id (the id again:
// the same on every delivery of an event, so a receiver drops repeats),
// and X-Profiled-Signature: "sha256=" and the hex HMAC-SHA256 of the body
// under Secret, which the receiver computes again to know the event is
// profiled's (see Sign). A 2xx answer is a delivery; anything else, or no
// answer in the worker's timeout, is tried again later.
type Events struct {
	URL    string
	Secret []byte
	// Client sends the requests; nil is http.DefaultClient (the worker's
	// context bounds each delivery).
	Client *http.Client
}

var _ core.Deliverer = (*Events)(nil)

// Sign is the X-Profiled-Signature of body under secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Deliver sends one event.
func (e *Events) Deliver(ctx context.Context, m core.OutboxMessage) error {
	body, err := core.EventDocument(m)
	if err != nil {
		return err
	}
	resp, _, err := outbound.Post(ctx, e.Client, e.URL, "application/json", "profiled-events-webhook", body, map[string]string{
		"X-Profiled-Event-Id":  strconv.FormatInt(m.ID, 10),
		"X-Profiled-Signature": Sign(e.Secret, body),
	})
	if err != nil {
		return fmt.Errorf("events webhook: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("events webhook: %s answered %s, want a 2xx status", e.URL, resp.Status)
	}
	return nil
}
