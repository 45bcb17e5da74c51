package mailer_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/smtptest"
	"github.com/profiled/profiled/mailer"
)

func message(id int64, m core.Mail) core.OutboxMessage {
	b, _ := jsonMarshal(m)
	return core.OutboxMessage{ID: id, Topic: core.OutboxMail, Payload: b, Created: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
}

// TestDeliver: a mail of the outbox reaches a real SMTP server as a
// multipart text and HTML message, from the sender, to the user, with the
// template's subject and the data filled in (HTML-escaped in the HTML).
func TestDeliver(t *testing.T) {
	in := smtptest.Start(t)
	templates, err := mailer.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	s, err := mailer.New(in.URL(), "profiled@example.com", templates)
	if err != nil {
		t.Fatal(err)
	}
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
func TestOperatorTemplates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tfa_disabled.txt", "Subject: TFA off for {{.username}}\n\nOurs.\n")
	templates, err := mailer.LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	in := smtptest.Start(t)
	s, err := mailer.New(in.URL(), "profiled@example.com", templates)
	if err != nil {
		t.Fatal(err)
	}
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
