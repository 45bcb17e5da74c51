package core_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/profiled/profiled/core"
)

func TestValidateEmail(t *testing.T) {
	for _, ok := range []string{"user@example.com", "first.last+tag@sub.example.co.uk", "a@b.cd", "a_b-c@x-y.io", "a@b-c.d-e.fg"} {
		if err := core.ValidateEmail("email", ok); err != nil {
			t.Errorf("ValidateEmail(%q): %v", ok, err)
		}
	}
	long := strings.Repeat("a", 129-len("@example.com")) + "@example.com"
	for _, bad := range []string{
		"", "user", "user@", "@example.com", "user@localhost", "User <user@example.com>",
		"user@example.com ", " user@example.com", "user@@example.com", "a b@example.com", long,
		// What the real API's own rule refuses and net/mail would take.
		"-user@example.com", "user@-example.com", "user@example.com-", "user@exa_mple.com", "a!b@example.com",
		"jürgen@example.com", "user@bücher.example", "user@example..com", "user@[192.0.2.1]",
	} {
		wantErr(t, core.ValidateEmail("email", bad), core.KindInvalid, "email")
	}
	// The field name is the caller's.
	wantErr(t, core.ValidateEmail("user.email", "nope"), core.KindInvalid, "user.email")
	// 128 characters is the limit.
	max := strings.Repeat("a", 128-len("@example.com")) + "@example.com"
	if err := core.ValidateEmail("email", max); err != nil {
		t.Errorf("a 128-character email was refused: %v", err)
	}
}

func TestValidateTimezone(t *testing.T) {
	for _, ok := range []string{"US/Eastern", "Europe/Berlin", "UTC", "America/New_York", "Asia/Kolkata"} {
		if err := core.ValidateTimezone("timezone", ok); err != nil {
			t.Errorf("ValidateTimezone(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{
		"", "Local", "Mars/Olympus_Mons", "US/Eastern ", "../../etc/passwd", "Europe/../UTC",
		"/etc/localtime", strings.Repeat("A", 65), "+01:00",
	} {
		wantErr(t, core.ValidateTimezone("timezone", bad), core.KindInvalid, "timezone")
	}
}

func TestValidateUsername(t *testing.T) {
	for _, ok := range []string{"abc", "admin", "a_b-c", "0user", "User_Name-1", "a-_b", "a_-b", strings.Repeat("a", 32)} {
		if err := core.ValidateUsername("username", ok); err != nil {
			t.Errorf("ValidateUsername(%q): %v", ok, err)
		}
	}
	// Each refusal says which rule the name breaks, in Cloud Manager's
	// order of them.
	for bad, reason := range map[string]string{
		"": "between 3 and 32", "ab": "between 3 and 32", strings.Repeat("a", 33): "between 3 and 32",
		"ab c": "only contain", "ab.c": "only contain", "ab@c": "only contain", "jürgen": "only contain", "abc\n": "only contain",
		"-abc": "begin and end", "_abc": "begin and end", "abc-": "begin and end", "abc_": "begin and end",
		"ab--c": "in a row", "ab__c": "in a row",
	} {
		wantErr(t, core.ValidateUsername("username", bad), core.KindInvalid, "username")
		if err := core.ValidateUsername("username", bad); err == nil || !strings.Contains(err.Error(), reason) {
			t.Errorf("ValidateUsername(%q) = %v, want a reason saying %q", bad, err, reason)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	cases := []struct{ iso, number, want string }{
		{"US", "650-253-0000", "+16502530000"},
		{"US", "(650) 253 0000", "+16502530000"},
		{"US", "+1 650 253 0000", "+16502530000"},
		{"us", "6502530000", "+16502530000"},
		{" US ", "6502530000", "+16502530000"},
		{"GB", "020 7946 0018", "+442079460018"},
		{"GB", "07400 123456", "+447400123456"},
		{"GB", "+44 7400 123456", "+447400123456"},
		{"DE", "030 12345678", "+493012345678"},
		{"DE", "0151 23456789", "+4915123456789"},
	}
	for _, c := range cases {
		got, err := core.NormalizePhone(c.iso, c.number)
		if err != nil {
			t.Errorf("NormalizePhone(%q, %q): %v", c.iso, c.number, err)
			continue
		}
		if got != c.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, want %q", c.iso, c.number, got, c.want)
		}
	}
	for _, iso := range []string{"", "U", "USA", "XX", "ZZ", "1A", "001"} {
		_, err := core.NormalizePhone(iso, "6502530000")
		wantErr(t, err, core.KindInvalid, "iso_code")
	}
	for _, num := range []string{"", "123", "abc", "000 000 0000", "650-253-00000000", strings.Repeat("6", 65)} {
		_, err := core.NormalizePhone("US", num)
		wantErr(t, err, core.KindInvalid, "phone_number")
	}
}

func TestParseGrants(t *testing.T) {
	doc := `{
		"global": {"account_access": "read_only", "add_linodes": true, "add_domains": false,
		           "cancel_account": false, "child_account_access": null},
		"linode": [{"id": 123, "label": "web", "permissions": "read_write"},
		           {"id": 124, "label": "db", "permissions": null}],
		"domain": [{"id": 7, "label": "example.com", "permissions": "read_only"}]
	}`
	g, err := core.ParseGrants([]byte(doc))
	noErr(t, err)
	var got map[string]any
	noErr(t, json.Unmarshal(g, &got))
	// Absent lists come back as empty arrays, as the API shows them.
	for _, k := range []string{"database", "domain", "firewall", "image", "linode", "longview", "nodebalancer", "stackscript", "volume", "vpc"} {
		if _, ok := got[k].([]any); !ok {
			t.Errorf("canonical grants: %q is %T, want an array", k, got[k])
		}
	}
	if n := len(got["linode"].([]any)); n != 2 {
		t.Errorf("linode grants: %d, want 2", n)
	}
	global := got["global"].(map[string]any)
	if global["account_access"] != "read_only" || global["add_linodes"] != true {
		t.Errorf("global grants = %v", global)
	}
	// Canonical form is stable.
	again, err := core.ParseGrants(g)
	noErr(t, err)
	if string(again) != string(g) {
		t.Errorf("ParseGrants is not idempotent:\n%s\n%s", g, again)
	}
	// The empty document is valid.
	if _, err := core.ParseGrants([]byte(`{}`)); err != nil {
		t.Errorf("ParseGrants({}): %v", err)
	}

	bad := []struct{ doc, field string }{
		{`{"global": {}, "foo": []}`, "grants"},
		{`{"global": {"delete_everything": true}}`, "grants"},
		{`{"linode": [{"id": 1, "label": "x", "permissions": "read_write", "extra": 1}]}`, "grants"},
		{`{"global": {"account_access": "admin"}}`, "global.account_access"},
		{`{"linode": [{"id": 1, "label": "x", "permissions": "write"}]}`, "linode.permissions"},
		{`{"volume": [{"id": 1, "label": "x", "permissions": "READ_ONLY"}]}`, "volume.permissions"},
		{`{"linode": "all"}`, "grants"},
		{`[]`, "grants"},
		{`"grants"`, "grants"},
		{``, "grants"},
		{`{`, "grants"},
		{`{} {}`, "grants"},
	}
	for _, b := range bad {
		_, err := core.ParseGrants([]byte(b.doc))
		wantErr(t, err, core.KindInvalid, b.field)
	}
}

func TestQuestionCatalogue(t *testing.T) {
	if len(core.Questions) != 19 {
		t.Fatalf("%d questions, want 19", len(core.Questions))
	}
	for i, q := range core.Questions {
		if q.ID != i+1 || q.Text == "" || core.QuestionText(q.ID) != q.Text {
			t.Errorf("question %d = %+v", i, q)
		}
	}
	if core.QuestionText(1) != "What was the name of your first pet?" || core.QuestionText(19) != "On what street is your grocery store?" {
		t.Error("catalogue texts differ from the real API's")
	}
	for _, id := range []int{0, -1, 20} {
		if core.QuestionText(id) != "" {
			t.Errorf("QuestionText(%d) is not empty", id)
		}
	}
}

func TestHashToken(t *testing.T) {
	// SHA-256 of "abc".
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	got := core.HashToken("abc")
	if len(got) != 32 || strings.ToLower(hexString(got)) != want {
		t.Fatalf("HashToken(abc) = %x", got)
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
