package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/internal/smtptest"
)

// TestNotificationMail: with --smtp-url, a change that calls for a
// security notification mails the user through a real SMTP server, from
// the durable outbox; the flags refuse what cannot work.
func TestNotificationMail(t *testing.T) {
	_, db := tempDB(t)
	env := map[string]string{"PROFILED_DB": db}
	for args, want := range map[string]string{
		"--smtp-url smtp://127.0.0.1:1":                                                         "--mail-from",
		"--smtp-url http://127.0.0.1:1 --mail-from p@example.com":                               "smtp://",
		"--smtp-url smtp://127.0.0.1:1 --mail-from p@example.com --mail-templates /nonexistent": "--mail-templates",
	} {
		if _, _, err := runCmd(t, env, append([]string{"serve"}, strings.Fields(args)...)...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("serve %s: %v, want an error naming %s", args, err, want)
		}
	}
	inbox := smtptest.Start(t)
	s := startServe(t, env, "--smtp-url", inbox.URL(), "--mail-from", "Accounts <accounts@example.com>")
	if status, body := call(t, "POST", s.base+"/v4/profile/tokens", s.token, `{"label":"laptop"}`); status != http.StatusOK {
		t.Fatalf("POST /v4/profile/tokens: %d %s", status, body)
	}
	m := inbox.Await(t, 10*time.Second, "Subject: A new personal access token")
	if len(m.To) != 1 || m.To[0] != "admin@example.com" || m.From != "accounts@example.com" || !strings.Contains(m.Data, `"laptop"`) {
		t.Errorf("the notification: from %q to %v:\n%s", m.From, m.To, m.Data)
	}
}
