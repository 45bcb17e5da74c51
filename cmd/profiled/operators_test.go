package main

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestAccountOperatorCommands: the operator's commands on users and
// tokens, against a database a running server serves: what the CLI
// changes (a token revoked, a user disabled, enabled, deleted) holds at
// the server's next request.
func TestAccountOperatorCommands(t *testing.T) {
	_, db := tempDB(t)
	env := map[string]string{"PROFILED_DB": db}
	mustRun(t, env, "users", "create", "--username", "alice", "--email", "alice@example.com")
	if _, _, err := runCmd(t, env, "users", "create", "--username", "bob", "--email", "bob@example.com", "--restricted"); err == nil || !strings.Contains(err.Error(), "--restricted") {
		t.Errorf("a restricted user without an account: %v, want one naming --restricted", err)
	}
	if _, _, err := runCmd(t, env, "users", "create", "--username", "bob", "--email", "bob@example.com", "--account-of", "nobody"); err == nil || !strings.Contains(err.Error(), "--account-of") {
		t.Errorf("--account-of an unknown user: %v, want one naming --account-of", err)
	}
	mustRun(t, env, "users", "create", "--username", "bob", "--email", "bob@example.com", "--account-of", "alice", "--restricted")
	mustRun(t, env, "users", "create", "--username", "carol", "--email", "carol@example.com")

	var users []userJSON
	if err := json.Unmarshal([]byte(mustRun(t, env, "users", "list", "--json")), &users); err != nil || len(users) != 3 {
		t.Fatalf("users list --json: %+v, %v", users, err)
	}
	if users[0].AccountID != users[1].AccountID || users[2].AccountID == users[0].AccountID || !users[1].Restricted {
		t.Errorf("accounts: %+v, want alice and bob in one, carol in another, bob restricted", users)
	}
	if table := mustRun(t, env, "users", "list"); !strings.Contains(table, "USERNAME") || !strings.Contains(table, "carol") {
		t.Errorf("users list: %q", table)
	}
	var bob userJSON
	if err := json.Unmarshal([]byte(mustRun(t, env, "users", "show", "--username", "BOB", "--json")), &bob); err != nil || bob.Username != "bob" || bob.LastLogin != nil {
		t.Errorf("users show --json: %+v, %v", bob, err)
	}
	if _, _, err := runCmd(t, env, "users", "show", "--username", "nobody"); err == nil || !strings.Contains(err.Error(), "users create") {
		t.Errorf("users show of an unknown user: %v", err)
	}

	tokA := strings.TrimSpace(mustRun(t, env, "tokens", "create", "--username", "alice"))
	tokA2 := strings.TrimSpace(mustRun(t, env, "tokens", "create", "--username", "alice", "--label", "second"))
	tokB := strings.TrimSpace(mustRun(t, env, "tokens", "create", "--username", "bob"))
	s := startServe(t, env)
	for _, tok := range []string{tokA, tokA2, tokB} {
		if status, body := call(t, "GET", s.base+"/v4/profile", tok, ""); status != http.StatusOK {
			t.Fatalf("a new token: %d %s", status, body)
		}
	}
	var tokens []tokenJSON
	if err := json.Unmarshal([]byte(mustRun(t, env, "tokens", "list", "--username", "alice", "--json")), &tokens); err != nil || len(tokens) != 2 {
		t.Fatalf("tokens list --json: %+v, %v", tokens, err)
	}
	if strings.Contains(mustRun(t, env, "tokens", "list", "--username", "alice"), tokA) {
		t.Error("tokens list printed a token")
	}
	if out := mustRun(t, env, "tokens", "revoke", "--username", "alice", "--id", itoa(tokens[1].ID)); !strings.Contains(out, "revoked") {
		t.Errorf("tokens revoke printed %q", out)
	}
	if status, _ := call(t, "GET", s.base+"/v4/profile", tokA2, ""); status != http.StatusUnauthorized {
		t.Errorf("a revoked token at the next request: %d, want 401", status)
	}
	if _, _, err := runCmd(t, env, "tokens", "revoke", "--username", "bob", "--id", itoa(tokens[0].ID)); err == nil || !strings.Contains(err.Error(), "tokens list") {
		t.Errorf("revoking another user's token: %v, want a refusal that says how to find it", err)
	}

	// Disabled: refused at once; enabled: the same token works again.
	mustRun(t, env, "users", "disable", "--username", "alice")
	if status, _ := call(t, "GET", s.base+"/v4/profile", tokA, ""); status != http.StatusUnauthorized {
		t.Errorf("a disabled user's token: %d, want 401", status)
	}
	mustRun(t, env, "users", "enable", "--username", "alice")
	if status, _ := call(t, "GET", s.base+"/v4/profile", tokA, ""); status != http.StatusOK {
		t.Errorf("an enabled user's token: %d, want 200", status)
	}

	if _, _, err := runCmd(t, env, "tfa", "reset", "--username", "alice"); err == nil || !strings.Contains(err.Error(), "not enabled") {
		t.Errorf("tfa reset without TFA: %v", err)
	}
	// alice is the last owner of an account that has bob: kept.
	if _, _, err := runCmd(t, env, "users", "delete", "--username", "alice"); err == nil || !strings.Contains(err.Error(), "last unrestricted") {
		t.Errorf("deleting the last owner of an account with users: %v", err)
	}
	mustRun(t, env, "users", "delete", "--username", "bob")
	if status, _ := call(t, "GET", s.base+"/v4/profile", tokB, ""); status != http.StatusUnauthorized {
		t.Errorf("a deleted user's token: %d, want 401", status)
	}
	mustRun(t, env, "users", "delete", "--username", "alice")
	if _, _, err := runCmd(t, env, "users", "delete", "--username", "alice"); err == nil || !strings.Contains(err.Error(), "users create") {
		t.Errorf("deleting a deleted user: %v", err)
	}
	for _, cmd := range [][]string{{"users", "disable"}, {"tfa", "reset"}, {"tokens", "list"}, {"tokens", "revoke", "--username", "carol"}} {
		if _, _, err := runCmd(t, env, cmd...); err == nil || !strings.Contains(err.Error(), "required") {
			t.Errorf("%v without its flags: %v", cmd, err)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestOperatorCommandsInAnotherProcess: the server answers tokens from
// memory between commits (store/sqlite/tokencache.go); what the operator's
// CLI commits from a process of its own holds at the server's very next
// request (issue 16).
func TestOperatorCommandsInAnotherProcess(t *testing.T) {
	bin := buildProfiled(t)
	_, db := tempDB(t)
	env := map[string]string{"PROFILED_DB": db}
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--db", db)...)
		cmd.Dir = t.TempDir()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("profiled %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	cli("users", "create", "--username", "alice", "--email", "alice@example.com")
	tok := cli("tokens", "create", "--username", "alice")
	s := startServe(t, env)
	warm := func(what string) {
		t.Helper()
		for range 3 {
			if status, body := call(t, "GET", s.base+"/v4/profile", tok, ""); status != http.StatusOK {
				t.Fatalf("%s: %d %s", what, status, body)
			}
		}
	}

	warm("a new token")
	cli("users", "disable", "--username", "alice")
	if status, _ := call(t, "GET", s.base+"/v4/profile", tok, ""); status != http.StatusUnauthorized {
		t.Errorf("disabled by another process: %d, want 401 at once", status)
	}
	cli("users", "enable", "--username", "alice")
	warm("enabled again by another process")

	var tokens []tokenJSON
	if err := json.Unmarshal([]byte(cli("tokens", "list", "--username", "alice", "--json")), &tokens); err != nil || len(tokens) != 1 {
		t.Fatalf("tokens list --json: %+v, %v", tokens, err)
	}
	cli("tokens", "revoke", "--username", "alice", "--id", itoa(tokens[0].ID))
	if status, _ := call(t, "GET", s.base+"/v4/profile", tok, ""); status != http.StatusUnauthorized {
		t.Errorf("revoked by another process: %d, want 401 at once", status)
	}
}
