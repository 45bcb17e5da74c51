package core_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// Distinctive answers, easy to spot in the database files.
var threeAnswers = []core.Answer{
	{QuestionID: 1, Response: "Zanzibarfluff"},
	{QuestionID: 7, Response: "Quixotic Museum"},
	{QuestionID: 19, Response: "Wobblestrasse"},
}

func TestSecurityQuestionsRules(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)

	all, err := e.svc.SecurityQuestions(e.ctx, a)
	noErr(t, err)
	if len(all) != 19 {
		t.Fatalf("%d questions, want 19", len(all))
	}
	for i, q := range all {
		if q.QuestionID != i+1 || q.Question != core.QuestionText(i+1) || q.Response != "" {
			t.Fatalf("question %d before answering = %+v", i, q)
		}
	}

	ans := func(pairs ...any) []core.Answer {
		var out []core.Answer
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, core.Answer{QuestionID: pairs[i].(int), Response: pairs[i+1].(string)})
		}
		return out
	}
	bad := []struct {
		in    []core.Answer
		field string
	}{
		{nil, "security_questions"},
		{ans(1, "abc", 2, "abc"), "security_questions"},
		{ans(1, "abc", 2, "abc", 3, "abc", 4, "abc"), "security_questions"},
		{ans(1, "abc", 1, "def", 3, "abc"), "security_questions[1].question_id"},
		{ans(1, "abc", 2, "abc", 2, "abc"), "security_questions[2].question_id"},
		{ans(0, "abc", 2, "abc", 3, "abc"), "security_questions[0].question_id"},
		{ans(1, "abc", 20, "abc", 3, "abc"), "security_questions[1].question_id"},
		{ans(1, "abc", 2, "abc", -1, "abc"), "security_questions[2].question_id"},
		{ans(1, "ab", 2, "abc", 3, "abc"), "security_questions[0].response"},
		{ans(1, "abc", 2, "", 3, "abc"), "security_questions[1].response"},
		{ans(1, "abc", 2, "abc", 3, strings.Repeat("x", 18)), "security_questions[2].response"},
	}
	for _, b := range bad {
		_, err := e.svc.AnswerSecurityQuestions(e.ctx, a, b.in)
		wantErr(t, err, core.KindInvalid, b.field)
	}
	got, err := e.svc.SecurityQuestions(e.ctx, a)
	noErr(t, err)
	for _, q := range got {
		if q.Response != "" {
			t.Fatalf("a refused answer was stored: %+v", q)
		}
	}

	// 3 and 17 characters (counted as characters, not bytes) are the bounds.
	out, err := e.svc.AnswerSecurityQuestions(e.ctx, a, ans(19, "abc", 2, strings.Repeat("ö", 17), 5, strings.Repeat("x", 17)))
	noErr(t, err)
	if len(out) != 3 || out[0].QuestionID != 19 || out[0].Question != core.QuestionText(19) || out[1].Response != strings.Repeat("ö", 17) {
		t.Fatalf("answered = %+v", out)
	}
	got, err = e.svc.SecurityQuestions(e.ctx, a)
	noErr(t, err)
	answered := map[int]string{}
	for _, q := range got {
		if q.Response != "" {
			answered[q.QuestionID] = q.Response
		}
	}
	if len(answered) != 3 || answered[19] != "abc" || answered[5] != strings.Repeat("x", 17) {
		t.Fatalf("answers read back = %v", answered)
	}

	// A new set replaces the old one: unanswered questions are reset.
	_, err = e.svc.AnswerSecurityQuestions(e.ctx, a, threeAnswers)
	noErr(t, err)
	got, err = e.svc.SecurityQuestions(e.ctx, a)
	noErr(t, err)
	answered = map[int]string{}
	for _, q := range got {
		if q.Response != "" {
			answered[q.QuestionID] = q.Response
		}
	}
	if len(answered) != 3 || answered[1] != "Zanzibarfluff" || answered[7] != "Quixotic Museum" || answered[19] != "Wobblestrasse" {
		t.Fatalf("answers after replacing = %v", answered)
	}

	// Another user's answers are their own.
	b := e.user("bobby", false)
	got, err = e.svc.SecurityQuestions(e.ctx, b)
	noErr(t, err)
	for _, q := range got {
		if q.Response != "" {
			t.Fatalf("bobby sees an answer: %+v", q)
		}
	}
}

func TestSecurityAnswersEncryptedAtRest(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	_, err := e.svc.AnswerSecurityQuestions(e.ctx, a, threeAnswers)
	noErr(t, err)

	// Not in any row.
	rows, err := e.rawDB().Query(`SELECT question_id, answer_enc FROM security_answers WHERE user_id = ?`, a.User.ID)
	noErr(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int
		var enc []byte
		noErr(t, rows.Scan(&id, &enc))
		n++
		for _, ans := range threeAnswers {
			if bytes.Contains(enc, []byte(ans.Response)) {
				t.Errorf("answer %d is stored in plaintext", id)
			}
		}
		if len(enc) < 12+16+3 {
			t.Errorf("answer %d ciphertext is only %d bytes", id, len(enc))
		}
	}
	noErr(t, rows.Err())
	if n != 3 {
		t.Fatalf("%d answer rows, want 3", n)
	}
	// Not anywhere in the files, while open and after a clean close.
	plain := make([]string, 0, 3)
	for _, ans := range threeAnswers {
		plain = append(plain, ans.Response)
	}
	e.assertNotOnDisk(plain...)
	e.reopen()
	e.assertNotOnDisk(plain...)
	// The same key still reads them.
	got, err := e.svc.SecurityQuestions(e.ctx, a)
	noErr(t, err)
	if got[0].Response != "Zanzibarfluff" {
		t.Fatalf("answer 1 after reopen = %q", got[0].Response)
	}
	// Another key cannot.
	other := core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: e.store, Box: newBox(t), SMS: e.sms, Now: e.clock.Now})
	if _, err := other.SecurityQuestions(e.ctx, a); err == nil {
		t.Fatal("answers decrypted with another key")
	}
}
