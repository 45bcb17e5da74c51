package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/profiled/profiled/internal/testenv"
)

// TestQuotasCommands: the operator gives the bootstrap user's account 2
// SSH keys where the server allows 1; the running server holds the
// account to it at once, and to the server's again after a reset.
func TestQuotasCommands(t *testing.T) {
	_, db := tempDB(t)
	env := map[string]string{"PROFILED_DB": db}
	s := startServe(t, env, "--quota-ssh-keys", "1")
	addKey := func() (int, []byte) {
		body, _ := json.Marshal(map[string]string{"label": "k", "ssh_key": testenv.NewSSHKey(t, "")})
		return call(t, "POST", s.base+"/v4/profile/sshkeys", s.token, string(body))
	}
	var users []userJSON
	if err := json.Unmarshal([]byte(mustRun(t, env, "users", "list", "--json")), &users); err != nil || len(users) != 1 {
		t.Fatalf("users list: %+v %v", users, err)
	}
	account := strconv.FormatInt(users[0].AccountID, 10)

	if out := mustRun(t, env, "quotas", "show", "--account", account); !strings.Contains(out, "the server's (--quota-ssh-keys)") {
		t.Fatalf("quotas show before any: %q", out)
	}
	want := "account " + account + ": ssh_keys=2\naccount " + account + ": personal_tokens=5\n"
	if out := mustRun(t, env, "quotas", "set", "--account", account, "--ssh-keys", "2", "--tokens", "5"); out != want {
		t.Fatalf("quotas set printed %q", out)
	}
	var own map[string]int
	if err := json.Unmarshal([]byte(mustRun(t, env, "quotas", "show", "--account", account, "--json")), &own); err != nil ||
		len(own) != 2 || own["ssh_keys"] != 2 || own["personal_tokens"] != 5 {
		t.Fatalf("quotas show --json: %v %v", own, err)
	}
	for i := range 2 {
		if status, body := addKey(); status != http.StatusOK {
			t.Fatalf("key %d of the account's 2: %d %s", i+1, status, body)
		}
	}
	if status, body := addKey(); status != http.StatusBadRequest || !strings.Contains(string(body), "at most 2 SSH keys") {
		t.Fatalf("a third key: %d %s", status, body)
	}
	mustRun(t, env, "quotas", "set", "--account", account, "--ssh-keys", "0")
	if status, body := addKey(); status != http.StatusBadRequest || !strings.Contains(string(body), "at most 1 SSH keys") {
		t.Fatalf("a key past the server's quota again: %d %s", status, body)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"set", "--ssh-keys", "3"}, "--account is required"},
		{[]string{"set", "--account", "1"}, "give the quotas to set"},
		// Checked before the database opens: none is made here.
		{[]string{"set", "--account", "1", "--db", filepath.Join(t.TempDir(), "none", "x.db")}, "give the quotas to set"},
		{[]string{"set", "--account", account, "--ssh-keys", "7", "--tokens", "-1"}, "--tokens:"},
		{[]string{"set", "--account", "1", "--ssh-keys", "-2"}, "--ssh-keys:"},
		{[]string{"set", "--account", "9", "--ssh-keys", "2"}, "no account 9"},
		{[]string{"show", "--account", "9"}, "no account 9"},
	} {
		_, _, err := runCmd(t, env, append([]string{"quotas"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("quotas %v: err = %v, want one saying %q", tc.args, err, tc.want)
		}
	}
	// The refused "--ssh-keys 7 --tokens -1" set neither.
	own = nil
	if err := json.Unmarshal([]byte(mustRun(t, env, "quotas", "show", "--account", account, "--json")), &own); err != nil ||
		len(own) != 1 || own["personal_tokens"] != 5 {
		t.Fatalf("quotas show --json after a refused set: %v %v", own, err)
	}
}
