// Package sms delivers the text messages of the core (phone verification
// codes) through implementations of core.SMSSender: Webhook for
// production, which hands each message to a URL the operator runs, and
// Log for development, which writes the message to the log instead.
package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/outbound"
)

// DefaultTimeout bounds one webhook call, connection and response included,
// so that a slow gateway cannot hold a request of the API open for long.
const DefaultTimeout = 10 * time.Second

// Webhook POSTs each message as the JSON object
//
//	{"to": "+14155550123", "message": "Your verification code is ..."}
//
// to URL, with Content-Type application/json. Any 2xx answer means the
// message was accepted; anything else, or no answer within DefaultTimeout,
// is an error. The receiving end (an SMS gateway, a small adapter to one)
// is the operator's.
type Webhook struct {
	URL string
	// Client sends the request; nil means a client with DefaultTimeout.
	// DefaultTimeout applies to every call in any case.
	Client *http.Client
}

var _ core.SMSSender = (*Webhook)(nil)

// webhookBody is the JSON document the webhook receives.
type webhookBody struct {
	To      string `json:"to"`
	Message string `json:"message"`
}

// defaultClient is the client of every Webhook without one.
var defaultClient = &http.Client{Timeout: DefaultTimeout}

// SendSMS delivers message to the E.164 number to through the webhook.
func (w *Webhook) SendSMS(ctx context.Context, to, message string) error {
	body, err := json.Marshal(webhookBody{To: to, Message: message})
	if err != nil {
		return fmt.Errorf("sms webhook: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	client := w.Client
	if client == nil {
		client = defaultClient
	}
	// The answer's body is not put in the error: a gateway may echo the
	// message, and the message holds a code that must not reach a log.
	resp, _, err := outbound.Post(ctx, client, w.URL, "application/json", "profiled-sms-webhook", body, nil)
	if err != nil {
		return fmt.Errorf("sms webhook: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("sms webhook: answered %s, want a 2xx status", resp.Status)
	}
	return nil
}

// Log is the development sender: it writes every message, code included,
// to the log at WARN instead of sending it. It is the one place where
// profiled logs a code, on purpose, so that a developer can complete a
// phone verification without an SMS gateway. Production servers set
// --sms-webhook (PROFILED_SMS_WEBHOOK) so that Webhook is used instead.
type Log struct {
	// Logger receives the messages; nil means slog.Default().
	Logger *slog.Logger
}

var _ core.SMSSender = Log{}

// SendSMS logs the message that would have been sent to to.
func (l Log) SendSMS(ctx context.Context, to, message string) error {
	logger := l.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.LogAttrs(ctx, slog.LevelWarn,
		"development SMS sender: not sending this text message, logging it instead, code included; "+
			"set --sms-webhook URL (env PROFILED_SMS_WEBHOOK) to deliver text messages",
		slog.String("to", to),
		slog.String("message", message),
	)
	return nil
}
