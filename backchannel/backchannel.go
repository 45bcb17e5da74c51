// Package backchannel delivers OpenID Connect back-channel logouts
// (Back-Channel Logout 1.0, 2.5): core.Deliverer of the outbox topic
// core.OutboxLogout, for core.RunOutbox. The core decides who is told of
// which session (core/logout.go); this signs the logout token and posts
// it to the relying party.
package backchannel

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/jwt"
	"github.com/profiled/profiled/internal/outbound"
)

// Tokens makes the logout token of an outbox message (core.Service).
type Tokens interface {
	LogoutToken(ctx context.Context, m core.OutboxMessage) (*core.LogoutToken, error)
}

// Logouts POSTs each logout token as the form field logout_token to the
// client's backchannel_logout_uri. A 2xx answer is a delivery (2.8: 200
// or 204). A 400 is the relying party's refusal of the token (2.8), which
// no later attempt changes, as are the other 4xx but 408 and 429, and a
// redirect, which is not followed (the URI must be the endpoint itself):
// those are dropped, with the reason in the log. A 5xx, 408, 429 or no
// answer in the worker's timeout is tried again later, with a new token.
type Logouts struct {
	Tokens Tokens
	// Client sends the requests; nil is a client that follows no
	// redirect (the worker's context bounds each delivery).
	Client *http.Client
}

var _ core.Deliverer = (*Logouts)(nil)

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Deliver sends one logout.
func (l *Logouts) Deliver(ctx context.Context, m core.OutboxMessage) error {
	t, err := l.Tokens.LogoutToken(ctx, m)
	if err != nil || t == nil {
		return err // nil: the client is gone or takes no logouts now
	}
	raw, err := jwt.Sign(t.Claims, t.Key, "logout+jwt")
	if err != nil {
		return fmt.Errorf("back-channel logout: sign: %w", err)
	}
	client := l.Client
	if client == nil {
		client = noRedirects
	}
	resp, body, err := outbound.Post(ctx, client, t.URI, "application/x-www-form-urlencoded", "profiled-backchannel-logout",
		[]byte(url.Values{"logout_token": {raw}}.Encode()), nil)
	if err != nil {
		return fmt.Errorf("back-channel logout to %s: %w", t.URI, err)
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		return nil
	case code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		return fmt.Errorf("back-channel logout: %s answered %s", t.URI, resp.Status)
	default:
		return fmt.Errorf("back-channel logout: %w: %s answered %s%s, want 200 or 204 (check the client's backchannel_logout_uri and what the relying party logs)",
			core.ErrUndeliverable, t.URI, resp.Status, detail(body))
	}
}

// detail is the start of a refusal's body, which often says why
// (2.8: an error and error_description in JSON).
func detail(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if s == "" {
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return ": " + s
}
