// Package mailer sends the mails of the outbox (core.OutboxMail) over SMTP,
// with github.com/wneessen/go-mail (a well-kept client: STARTTLS, implicit
// TLS, SMTP authentication, multipart bodies): core.Deliverer for
// core.RunOutbox.
//
// Each mail is a template in two files, NAME.txt (a "Subject: ..." line, a
// blank line, the text body) and NAME.html (the HTML body), filled with
// the mail's data ({{.username}}, {{.detail}}, {{.time}}). The defaults are
// embedded; a directory given to New replaces those it holds.
package mailer

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/profiled/profiled/core"
)

//go:embed templates/*
var defaults embed.FS

// Templates are the mails' subjects and bodies.
type Templates struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

// LoadTemplates reads the embedded templates, and those of dir (if not
// "") in their place. A template that does not parse is an error at start,
// never at delivery.
func LoadTemplates(dir string) (*Templates, error) {
	t := &Templates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	embedded, _ := fs.Sub(defaults, "templates")
	sources := []fs.FS{embedded}
	if dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("mail templates: %w", err)
		}
		sources = append(sources, os.DirFS(dir))
	}
	for _, src := range sources {
		names, err := fs.Glob(src, "*.*")
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			b, err := fs.ReadFile(src, name)
			if err != nil {
				return nil, fmt.Errorf("mail template %s: %w", name, err)
			}
			base, ext, _ := strings.Cut(name, ".")
			switch ext {
			case "txt":
				if !strings.HasPrefix(string(b), "Subject: ") {
					return nil, fmt.Errorf("mail template %s: the first line must be \"Subject: ...\"", name)
				}
				tt, err := texttemplate.New(name).Option("missingkey=zero").Parse(string(b))
				if err != nil {
					return nil, fmt.Errorf("mail template %s: %w", name, err)
				}
				t.text[base] = tt
			case "html":
				ht, err := htmltemplate.New(name).Option("missingkey=zero").Parse(string(b))
				if err != nil {
					return nil, fmt.Errorf("mail template %s: %w", name, err)
				}
				t.html[base] = ht
			}
		}
	}
	return t, nil
}

// render fills the template name with data: the subject, the text body and
// the HTML body ("" if the template has none).
func (t *Templates) render(name string, data map[string]string) (subject, text, html string, err error) {
	tt, ok := t.text[name]
	if !ok {
		return "", "", "", fmt.Errorf("no mail template %q", name)
	}
	var b bytes.Buffer
	if err := tt.Execute(&b, data); err != nil {
		return "", "", "", err
	}
	head, body, _ := strings.Cut(b.String(), "\n")
	subject, text = strings.TrimSpace(strings.TrimPrefix(head, "Subject: ")), strings.TrimLeft(body, "\n")
	if ht, ok := t.html[name]; ok {
		b.Reset()
		if err := ht.Execute(&b, data); err != nil {
			return "", "", "", err
		}
		html = b.String()
	}
	return subject, text, html, nil
}

// Sender delivers mails through one SMTP server.
type Sender struct {
	client    *gomail.Client
	from      string
	templates *Templates
}

var _ core.Deliverer = (*Sender)(nil)

// New makes a Sender for smtpURL: smtp://[user:pass@]host[:port]
// (STARTTLS when the server offers it; port 587 by default) or
// smtps://[user:pass@]host[:port] (implicit TLS; 465). from is the sender's
// address.
func New(smtpURL, from string, templates *Templates) (*Sender, error) {
	u, err := url.Parse(smtpURL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return nil, errors.New("the SMTP URL must be smtp://[user:password@]host[:port] or smtps://[user:password@]host[:port]")
	}
	if from == "" {
		return nil, errors.New("the mail sender (--mail-from) is required: an address such as profiled@example.com")
	}
	if err := gomail.NewMsg().From(from); err != nil {
		return nil, fmt.Errorf("the mail sender %q is not an address: %w", from, err)
	}
	port := 587
	opts := []gomail.Option{gomail.WithTLSPolicy(gomail.TLSOpportunistic), gomail.WithTimeout(10 * time.Second)}
	if u.Scheme == "smtps" {
		port = 465
		opts = []gomail.Option{gomail.WithSSL(), gomail.WithTimeout(10 * time.Second)}
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("the SMTP URL's port %q is not a port", p)
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	c, err := gomail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	return &Sender{client: c, from: from, templates: templates}, nil
}

// Deliver sends one mail of the outbox. Its message id is the outbox
// message's, the same on every attempt, so a receiver that saw it already
// can tell.
//
// A mail that can never be sent is core.ErrUndeliverable: one whose
// payload does not parse, whose address is not one, or whose address the
// server refuses for good (refusesAddress).
// Everything else, the server's other refusals included (a password or a
// sender it does not take), waits for the operator to cure it.
func (s *Sender) Deliver(ctx context.Context, m core.OutboxMessage) error {
	mail, err := core.ParseMail(m)
	if err != nil {
		return err // core.ErrUndeliverable
	}
	subject, text, html, err := s.templates.render(mail.Template, mail.Data)
	if err != nil {
		return err
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return err
	}
	if err := msg.To(mail.To); err != nil {
		return fmt.Errorf("%w: mail %d: the address %q: %w", core.ErrUndeliverable, m.ID, mail.To, err)
	}
	msg.Subject(subject)
	msg.SetMessageIDWithValue(fmt.Sprintf("profiled-%d-%d@%s", m.ID, m.Created.Unix(), domainOf(s.from)))
	msg.SetDateWithValue(m.Created)
	msg.SetBodyString(gomail.TypeTextPlain, text)
	if html != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, html)
	}
	err = s.client.DialAndSendWithContext(ctx, msg)
	if refusesAddress(err) {
		return fmt.Errorf("%w: mail %d: the server refuses the address for good: %w", core.ErrUndeliverable, m.ID, err)
	}
	return err
}

// refusesAddress reports whether err is the SMTP server refusing the
// recipient's address itself for good: at RCPT TO, with an enhanced status
// of class 5.1 (RFC 3463: no such mailbox, no such system, a bad address).
// The bare reply code cannot tell: "550 relaying denied" (5.7.1) is a
// server that will take the mail once the operator lets profiled relay,
// and a server that gives no enhanced status is never taken at its word.
func refusesAddress(err error) bool {
	var se *gomail.SendError
	return errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && strings.HasPrefix(se.EnhancedStatusCode(), "5.1.")
}

func domainOf(addr string) string {
	_, d, ok := strings.Cut(addr, "@")
	if !ok {
		return "profiled"
	}
	return strings.Trim(d, "> ")
}
