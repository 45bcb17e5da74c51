// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp)
// on loopback for the tests of what profiled mails, and keeps what it
// receives.
package smtptest

import (
	"io"
	"mime/quotedprintable"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is one message the server received.
type Mail struct {
	From string
	To   []string
	Data string // the message as sent: headers and body
}

// Decoded is the message with its quoted-printable parts decoded (mail
// clients wrap long lines with "=" and write "=" as "=3D"), for tests to
// find a link or a sentence in it.
func (m Mail) Decoded() string {
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(m.Data)))
	if err != nil {
		return m.Data
	}
	return string(b)
}

// Server is a running SMTP server.
type Server struct {
	Addr    string // host:port
	mu      sync.Mutex
	mail    []Mail
	refused map[string]*smtp.SMTPError
}

// Start runs a server until t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// URL is the server's smtp:// URL, for --smtp-url.
func (s *Server) URL() string { return "smtp://" + s.Addr }

// Refuse makes the server answer RCPT TO addr with reply, as a server
// refuses a mailbox it does not have (550 5.1.1) or will not relay to
// (550 5.7.1).
func (s *Server) Refuse(addr string, reply *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused == nil {
		s.refused = map[string]*smtp.SMTPError{}
	}
	s.refused[addr] = reply
}

// Received returns what the server got so far.
func (s *Server) Received() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

// Await waits up to d for a mail whose decoded message contains want.
func (s *Server) Await(t testing.TB, d time.Duration, want string) Mail {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		for _, m := range s.Received() {
			if strings.Contains(m.Decoded(), want) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail with %q in %v; received %d", want, d, len(s.Received()))
		}
	}
}

type session struct {
	s   *Server
	cur Mail
}

func (x *session) Reset()                                      { x.cur = Mail{} }
func (x *session) Logout() error                               { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error { x.cur.From = from; return nil }
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	reply := x.s.refused[to]
	x.s.mu.Unlock()
	if reply != nil {
		return reply
	}
	x.cur.To = append(x.cur.To, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.cur.Data = string(b)
	x.s.mu.Lock()
	x.s.mail = append(x.s.mail, x.cur)
	x.s.mu.Unlock()
	return nil
}
