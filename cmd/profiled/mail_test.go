package main

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/profiled/profiled/internal/pgtest"
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

// TestMailToAMailboxThatIsNot: a mail the SMTP server refuses for good
// (550 5.1.1, no such mailbox) is tried once and dropped, said so in the
// log at error level and in the metrics, instead of being tried every
// hour forever; the outbox empties.
func TestMailToAMailboxThatIsNot(t *testing.T) {
	_, db := tempDB(t)
	inbox := smtptest.Start(t)
	inbox.Refuse("admin@example.com", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"})
	s := startServe(t, map[string]string{"PROFILED_DB": db}, "--smtp-url", inbox.URL(), "--mail-from", "accounts@example.com",
		"--metrics-addr", "127.0.0.1:0")
	metricsURL := s.metricsURL(t)
	if status, body := call(t, "POST", s.base+"/v4/profile/tokens", s.token, `{"label":"laptop"}`); status != http.StatusOK {
		t.Fatalf("POST /v4/profile/tokens: %d %s", status, body)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		fams := scrape(t, metricsURL)
		dropped := sample(fams, "profiled_outbox_deliveries_total", map[string]string{"topic": "mail", "result": "dropped"})
		depth := sample(fams, "profiled_outbox_depth", map[string]string{"topic": "mail"})
		if dropped != nil && dropped.GetCounter().GetValue() == 1 && depth != nil && depth.GetGauge().GetValue() == 0 {
			if failed := sample(fams, "profiled_outbox_deliveries_total", map[string]string{"topic": "mail", "result": "failed"}); failed != nil {
				t.Errorf("failed deliveries = %v, want none: the refusal is for good", failed)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dropped = %v, depth = %v; log:\n%s", dropped, depth, s.stderr)
		}
	}
	if log := s.stderr.String(); !strings.Contains(log, "can never be delivered and was dropped") || !strings.Contains(log, "5.1.1") {
		t.Errorf("the log does not say the mail was dropped, and why:\n%s", log)
	}
	if got := inbox.Received(); len(got) != 0 {
		t.Errorf("the server took %d mails", len(got))
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
	// Killed once the failed attempt is noted, not during it (see
	// TestEventsSurviveKill9).
	if !p.stderr.has("a mail was not delivered") {
		t.Fatalf("no failed attempt of the mail in the log:\n%s", p.stderr)
	}
	p.kill()
	inbox := smtptest.Start(t)
	start(inbox.URL())
	m := inbox.Await(t, 20*time.Second, `"before the crash"`)
	if len(m.To) != 1 || m.To[0] != "admin@example.com" {
		t.Errorf("the mail after the crash went to %v", m.To)
	}
}

// mailDatabases are the databases the mail flows run on end to end:
// an SQLite file, and a PostgreSQL schema (with the secret key PostgreSQL
// needs), or a skip without PostgreSQL.
func mailDatabases(t *testing.T, run func(t *testing.T, env map[string]string)) {
	t.Run("sqlite", func(t *testing.T) {
		_, db := tempDB(t)
		run(t, map[string]string{"PROFILED_DB": db})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, _ := pgtest.Schema(t)
		run(t, map[string]string{"PROFILED_DB": dsn, "PROFILED_SECRET_KEY": strings.Repeat("0123456789abcdef", 4)})
	})
}

// TestRecoveryByMail: with --smtp-url and --public-url, a forgotten
// password is recovered end to end: the JSON API asks for a link (the
// same answer for an unknown address), the mail arrives at a real SMTP
// server, its link opens the page, whose form sets the password, which
// then signs in; the link works once. Without mail, recovery is 404.
func TestRecoveryByMail(t *testing.T) { mailDatabases(t, testRecoveryByMail) }

func testRecoveryByMail(t *testing.T, env map[string]string) {
	plain := startServe(t, env)
	if status, _ := call(t, "POST", plain.base+"/auth/recovery", "", `{"username":"admin"}`); status != http.StatusNotFound {
		t.Errorf("recovery without mail: %d, want 404", status)
	}
	plain.stop(t)
	inbox := smtptest.Start(t)
	s := startServe(t, env, "--smtp-url", inbox.URL(), "--mail-from", "accounts@example.com", "--public-url", "http://id.example.test")
	_, ghost := call(t, "POST", s.base+"/auth/recovery", "", `{"email":"ghost@example.com"}`)
	status, known := call(t, "POST", s.base+"/auth/recovery", "", `{"email":"admin@example.com"}`)
	if status != http.StatusAccepted || string(known) != string(ghost) {
		t.Fatalf("recovery answers: %d %s and %s, want one 202 for both", status, known, ghost)
	}
	m := inbox.Await(t, 10*time.Second, "Subject: Set a new password")
	link := regexp.MustCompile(`http://id\.example\.test(/auth/recover/complete\?token=[0-9a-f]{64})`).FindStringSubmatch(m.Decoded())
	if link == nil {
		t.Fatalf("no link in the mail:\n%s", m.Decoded())
	}
	// Follow it on this server, as the browser would on the public URL.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(s.base + link[1])
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	hidden := func(name string) string {
		f := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindSubmatch(page)
		if f == nil {
			t.Fatalf("no %s in the page:\n%s", name, page)
		}
		return html.UnescapeString(string(f[1]))
	}
	form := url.Values{"csrf_token": {hidden("csrf_token")}, "token": {hidden("token")}, "password": {"a brand new passphrase"}}
	resp, err = browser.PostForm(s.base+"/auth/recover/complete", form)
	if err != nil {
		t.Fatal(err)
	}
	done, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(done), `id="done"`) {
		t.Fatalf("the form: %d\n%s", resp.StatusCode, done)
	}
	if status, body := call(t, "POST", s.base+"/auth/login", "", `{"username":"admin","password":"a brand new passphrase"}`); status != http.StatusOK {
		t.Errorf("sign in with the recovered password: %d %s", status, body)
	}
	inbox.Await(t, 10*time.Second, "Subject: Your profiled password was changed")
	if resp, err := browser.PostForm(s.base+"/auth/recover/complete", form); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the link a second time: %v %v, want 400", resp, err)
	}
}

// TestSignUpByMail: with --signup, a new user signs up through the JSON
// API, gets the verification mail at a real SMTP server, and its link
// verifies the address (the IAM face's email_verified); then, as the owner
// of the new account, invites a user (the invitation mail) and changes
// their address (a notice to the old one, a link to the new one). --signup
// without mail is refused at start.
func TestSignUpByMail(t *testing.T) { mailDatabases(t, testSignUpByMail) }

func testSignUpByMail(t *testing.T, env map[string]string) {
	if _, _, err := runCmd(t, env, "serve", "--signup"); err == nil || !strings.Contains(err.Error(), "--smtp-url") {
		t.Errorf("--signup without mail: %v", err)
	}
	inbox := smtptest.Start(t)
	s := startServe(t, env, "--signup", "--smtp-url", inbox.URL(), "--mail-from", "accounts@example.com", "--public-url", "http://id.example.test")
	status, body := call(t, "POST", s.base+"/auth/signup", "", `{"username":"newbie","email":"newbie@example.com","password":"a brand new passphrase"}`)
	if status != http.StatusCreated {
		t.Fatalf("sign-up: %d %s", status, body)
	}
	if status, body := call(t, "POST", s.base+"/auth/signup", "", `{"username":"Newbie","email":"x@example.com","password":"a brand new passphrase"}`); status != http.StatusBadRequest || !strings.Contains(string(body), "username") {
		t.Errorf("a taken username: %d %s", status, body)
	}
	m := inbox.Await(t, 10*time.Second, "Subject: Confirm your email address")
	link := regexp.MustCompile(`http://id\.example\.test(/auth/email/verify\?token=[0-9a-f]{64})`).FindStringSubmatch(m.Decoded())
	if link == nil || m.To[0] != "newbie@example.com" {
		t.Fatalf("the verification mail to %v:\n%s", m.To, m.Decoded())
	}
	token := strings.TrimPrefix(link[1], "/auth/email/verify?token=")
	status, login := call(t, "POST", s.base+"/auth/login", "", `{"username":"newbie","password":"a brand new passphrase"}`)
	if status != http.StatusOK {
		t.Fatalf("sign in after sign-up: %d %s", status, login)
	}
	var session struct{ Token string }
	if err := json.Unmarshal(login, &session); err != nil {
		t.Fatal(err)
	}
	verified := func() bool {
		_, me := call(t, "GET", s.base+"/iam/v1/users/me/", session.Token, "")
		var out struct {
			EmailVerified bool `json:"email_verified"`
		}
		_ = json.Unmarshal(me, &out)
		return out.EmailVerified
	}
	if verified() {
		t.Fatal("email_verified before the link")
	}
	if status, body := call(t, "POST", s.base+"/auth/email/verify", "", `{"token":"`+token+`"}`); status != http.StatusOK {
		t.Fatalf("verify: %d %s", status, body)
	}
	if !verified() {
		t.Error("email_verified after the link")
	}

	// The new owner invites a user through the account API.
	if status, body := call(t, "POST", s.base+"/v4/account/users", session.Token, `{"username":"rita","email":"rita@example.com","restricted":true}`); status != http.StatusOK {
		t.Fatalf("POST /v4/account/users: %d %s", status, body)
	}
	invite := inbox.Await(t, 10*time.Second, "Subject: You are invited to an account")
	if invite.To[0] != "rita@example.com" || !strings.Contains(invite.Decoded(), "newbie added you") ||
		!regexp.MustCompile(`/auth/recover/complete\?token=[0-9a-f]{64}`).MatchString(invite.Decoded()) {
		t.Errorf("the invitation to %v:\n%s", invite.To, invite.Decoded())
	}
	// An email change tells the old address and verifies the new one.
	if status, body := call(t, "PUT", s.base+"/v4/profile", session.Token, `{"email":"newbie@new.example"}`); status != http.StatusOK {
		t.Fatalf("PUT /v4/profile: %d %s", status, body)
	}
	if m := inbox.Await(t, 10*time.Second, "Subject: Your email address was changed"); m.To[0] != "newbie@example.com" {
		t.Errorf("the change notice went to %v", m.To)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		sent := false
		for _, m := range inbox.Received() {
			if m.To[0] == "newbie@new.example" && strings.Contains(m.Decoded(), "Subject: Confirm your email address") {
				sent = true
			}
		}
		if sent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no verification mail to the new address")
		}
	}
	if verified() {
		t.Error("email_verified stays true after the address changed")
	}
}

// TestMailReplicas: two replicas on one PostgreSQL database, each with
// its mail worker, send every queued mail exactly once between them.
func TestMailReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short mode")
	}
	dsn, _ := pgtest.Schema(t)
	bin := buildProfiled(t)
	inbox := smtptest.Start(t)
	replicas := startReplicas(t, bin, dsn, []string{"--smtp-url", inbox.URL(), "--mail-from", "accounts@example.com"})
	const tokens = 30
	createTokensAlternately(t, replicas, tokens)
	for deadline := time.Now().Add(30 * time.Second); len(inbox.Received()) < tokens && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a second sending would come now
	got := map[string]int{}
	for _, m := range inbox.Received() {
		label := regexp.MustCompile(`token "(t\d+)"`).FindStringSubmatch(m.Decoded())
		if label == nil {
			t.Fatalf("an unexpected mail:\n%s", m.Decoded())
		}
		got[label[1]]++
	}
	for i := 0; i < tokens; i++ {
		if n := got["t"+strconv.Itoa(i)]; n != 1 {
			t.Errorf("the mail of token t%d was sent %d times", i, n)
		}
	}
}
