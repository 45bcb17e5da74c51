package testenv

import (
	"context"
	"regexp"
	"sync"
)

// SMSInbox is an SMS sender that keeps what it sends, so tests can read
// the codes a user would receive.
type SMSInbox struct {
	mu   sync.Mutex
	msgs []SMS
}

// SMS is one text message.
type SMS struct{ To, Message string }

// SendSMS implements core.SMSSender.
func (b *SMSInbox) SendSMS(_ context.Context, to, message string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, SMS{to, message})
	return nil
}

// Messages returns every message sent so far.
func (b *SMSInbox) Messages() []SMS {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]SMS(nil), b.msgs...)
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// LastCode returns the 6-digit code of the newest message, or "".
func (b *SMSInbox) LastCode() string {
	msgs := b.Messages()
	if len(msgs) == 0 {
		return ""
	}
	return sixDigits.FindString(msgs[len(msgs)-1].Message)
}
