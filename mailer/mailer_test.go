package mailer_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/smtptest"
	"github.com/profiled/profiled/mailer"
)

func message(id int64, m core.Mail) core.OutboxMessage {
	b, _ := jsonMarshal(m)
	return core.OutboxMessage{ID: id, Topic: core.OutboxMail, Payload: b, Created: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
}

// newSender is a Sender with the built-in templates, from
// profiled@example.com through smtpURL.
func newSender(t *testing.T, smtpURL string) *mailer.Sender {
	t.Helper()
	templates, err := mailer.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	s, err := mailer.New(smtpURL, "profiled@example.com", templates)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDeliver: a mail of the outbox reaches a real SMTP server as a
// multipart text and HTML message, from the sender, to the user, with the
// template's subject and the data filled in (HTML-escaped in the HTML).
func TestDeliver(t *testing.T) {
	in := smtptest.Start(t)
	s := newSender(t, in.URL())
	m := message(42, core.Mail{To: "alice@example.com", Template: "token_created",
		Data: map[string]string{"username": "alice", "detail": "<ci>", "time": "Tue, 01 Dec 2026 12:00:00 UTC"}})
	if err := s.Deliver(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	got := in.Received()
	if len(got) != 1 || got[0].From != "profiled@example.com" || len(got[0].To) != 1 || got[0].To[0] != "alice@example.com" {
		t.Fatalf("received %+v", got)
	}
	data := got[0].Data
	for _, want := range []string{"Subject: A new personal access token", "Content-Type: multipart/alternative",
		"text/plain", "text/html", `"<ci>" was created for alice`, "&lt;ci&gt;", "Message-ID: <profiled-42-", "If it was not"} {
		if !strings.Contains(data, want) {
			t.Errorf("the message lacks %q:\n%s", want, data)
		}
	}
	// The same message again has the same id: a receiver can drop it.
	if err := s.Deliver(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if ids := strings.Count(in.Received()[1].Data, "Message-ID: <profiled-42-"); ids != 1 {
		t.Errorf("the second delivery's id: %d", ids)
	}
	// An unknown template is an error, for the worker to retry.
	if err := s.Deliver(t.Context(), message(43, core.Mail{To: "alice@example.com", Template: "nope"})); err == nil {
		t.Error("an unknown template was delivered")
	}
}

// TestOperatorTemplates: a template in the operator's directory replaces
// the default; one that does not parse is refused at start.
// senderOf is a Sender of the templates of dir ("" for the embedded
// ones) to a real SMTP server, and that server.
func senderOf(t *testing.T, dir string) (*mailer.Sender, *smtptest.Server) {
	t.Helper()
	templates, err := mailer.LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	in := smtptest.Start(t)
	s, err := mailer.New(in.URL(), "profiled@example.com", templates)
	if err != nil {
		t.Fatal(err)
	}
	return s, in
}

// TestDeviceAuthorizedTemplate: the mail of a device's access renders
// through a real SMTP server, its subject and the device named.
func TestDeviceAuthorizedTemplate(t *testing.T) {
	s, in := senderOf(t, "")
	m := core.Mail{To: "a@example.com", Template: "device_authorized",
		Data: map[string]string{"username": "alice", "detail": "Deploy CLI (client 3f9a), with the scopes account:read_only", "time": "now"}}
	if err := s.Deliver(t.Context(), message(1, m)); err != nil {
		t.Fatal(err)
	}
	if got := in.Received(); len(got) != 1 || !strings.Contains(got[0].Data, "Subject: A device was connected to your account") ||
		!strings.Contains(got[0].Data, "Deploy CLI") {
		t.Errorf("received %+v", got)
	}
}

func TestOperatorTemplates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tfa_disabled.txt", "Subject: TFA off for {{.username}}\n\nOurs.\n")
	s, in := senderOf(t, dir)
	if err := s.Deliver(t.Context(), message(1, core.Mail{To: "a@example.com", Template: "tfa_disabled", Data: map[string]string{"username": "alice"}})); err != nil {
		t.Fatal(err)
	}
	if got := in.Received(); len(got) != 1 || !strings.Contains(got[0].Data, "Subject: TFA off for alice") || !strings.Contains(got[0].Data, "Ours.") {
		t.Errorf("the operator's template was not used: %+v", got)
	}
	write("broken.txt", "Subject: {{.username\n")
	if _, err := mailer.LoadTemplates(dir); err == nil || !strings.Contains(err.Error(), "broken.txt") {
		t.Errorf("a broken template: %v", err)
	}
	write("broken.txt", "no subject line\n")
	if _, err := mailer.LoadTemplates(dir); err == nil || !strings.Contains(err.Error(), "Subject") {
		t.Errorf("a template without its subject: %v", err)
	}
}

// TestUndeliverable: a mail that can never be sent says so
// (core.ErrUndeliverable), so that the worker drops it instead of trying
// it every hour forever; one that a cure on the operator's side would let
// through does not. Each is sent to a real SMTP server that refuses as
// mail servers do.
func TestUndeliverable(t *testing.T) {
	in := smtptest.Start(t)
	in.Refuse("gone@example.com", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"})
	in.Refuse("elsewhere@example.net", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relaying denied"})
	in.Refuse("busy@example.com", &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full"})
	s := newSender(t, in.URL())
	data := map[string]string{"username": "alice", "detail": "ci", "time": "Tue, 01 Dec 2026 12:00:00 UTC"}
	for _, c := range []struct {
		name          string
		m             core.OutboxMessage
		undeliverable bool
	}{
		{"no such mailbox (550 5.1.1)", message(1, core.Mail{To: "gone@example.com", Template: "token_created", Data: data}), true},
		{"not an address", message(2, core.Mail{To: "alice at example.com", Template: "token_created", Data: data}), true},
		{"a payload that does not parse", core.OutboxMessage{ID: 3, Topic: core.OutboxMail, Payload: []byte(`{"to":`)}, true},
		{"relaying denied (550 5.7.1)", message(4, core.Mail{To: "elsewhere@example.net", Template: "token_created", Data: data}), false},
		{"mailbox full (452 4.2.2)", message(5, core.Mail{To: "busy@example.com", Template: "token_created", Data: data}), false},
		{"an unknown template", message(6, core.Mail{To: "alice@example.com", Template: "nope"}), false},
	} {
		err := s.Deliver(t.Context(), c.m)
		if err == nil {
			t.Errorf("%s: delivered", c.name)
			continue
		}
		if got := errors.Is(err, core.ErrUndeliverable); got != c.undeliverable {
			t.Errorf("%s: undeliverable = %v, want %v (%v)", c.name, got, c.undeliverable, err)
		}
	}
	if got := in.Received(); len(got) != 0 {
		t.Errorf("the server took %d mails", len(got))
	}
	// A server that is not there is a failure to wait out.
	if err := newSender(t, "smtp://127.0.0.1:1").Deliver(t.Context(), message(7, core.Mail{To: "alice@example.com", Template: "token_created", Data: data})); err == nil || errors.Is(err, core.ErrUndeliverable) {
		t.Errorf("a server that is down: %v, want an error to retry", err)
	}
}

func TestNewRefusals(t *testing.T) {
	templates, _ := mailer.LoadTemplates("")
	for _, c := range []struct{ url, from, want string }{
		{"http://mail.example", "p@example.com", "smtp://"},
		{"smtp://", "p@example.com", "smtp://"},
		{"smtp://mail.example:99999", "p@example.com", "port"},
		{"smtp://mail.example", "", "--mail-from"},
		{"smtp://mail.example", "not an address", "not an address"},
	} {
		if _, err := mailer.New(c.url, c.from, templates); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%q, %q): %v, want an error saying %q", c.url, c.from, err, c.want)
		}
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
