package main

import (
	"net/http"
	"os"
	"os/exec"
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

// TestMailSurvivesKill9: a mail queued while the SMTP server is down
// stays in the outbox across kill -9 of profiled, and goes out once a
// server answers.
func TestMailSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short mode")
	}
	bin := buildProfiled(t)
	_, db := tempDB(t)
	tokenFile := t.TempDir() + "/token"
	start := func(smtpURL string) *process {
		cmd := exec.Command(bin, "serve", "--db", db, "--addr", "127.0.0.1:0", "--drain", "0s",
			"--smtp-url", smtpURL, "--mail-from", "accounts@example.com", "--bootstrap-token-file", tokenFile)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
		p, err := spawnServe(t, cmd, 30*time.Second, (*process).kill)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := start("smtp://127.0.0.1:1") // nothing listens there
	if status, body := call(t, "POST", p.base+"/v4/profile/tokens", p.token, `{"label":"before the crash"}`); status != http.StatusOK {
		t.Fatalf("POST /v4/profile/tokens: %d %s", status, body)
	}
	p.kill()
	inbox := smtptest.Start(t)
	start(inbox.URL())
	m := inbox.Await(t, 20*time.Second, `"before the crash"`)
	if len(m.To) != 1 || m.To[0] != "admin@example.com" {
		t.Errorf("the mail after the crash went to %v", m.To)
	}
}
