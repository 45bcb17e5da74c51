package iam_test

import (
	"encoding/json"
	"testing"

	"github.com/profiled/profiled/internal/testenv"
)

// FuzzRequestBodies sends any bytes as the JSON body of each operation
// that takes one: the answer is never a 5xx, always JSON, and every error
// is in the face's format.
func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{`{}`, `{"first_name":"Ada","locale":"fr"}`, `{"email":null}`, `{"theme":"dark","locale":"und"}`,
		`{"security":{"email":false}}`, `{"account":{"sms":true}}`, `{"product":[]}`, `null`, `[]`, `"x"`, `{"a":{"b":1}}`, `{} {}`, "\xff"} {
		for i := range 3 {
			f.Add(uint8(i), []byte(s))
		}
	}
	e := newEnv(f, testenv.Backend{Name: "sqlite", Open: testenv.OpenSQLite})
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		e.t = t
		ops := [][2]string{{"PATCH", "/iam/v1/users/me/"}, {"PUT", "/iam/v1/users/me/config/"}, {"PUT", "/iam/v1/users/me/notification-preferences/"}}
		op := ops[int(which)%len(ops)]
		o := jsonReq("", string(body))
		o.skipSpec = true
		r := e.do(op[0], op[1], o)
		if r.status >= 500 || r.header.Get("Content-Type") != "application/json" || !json.Valid(r.body) {
			t.Fatalf("%s %s %q -> %d %q %s", op[0], op[1], body, r.status, r.header.Get("Content-Type"), r.body)
		}
		switch r.status {
		case 200:
		case 422:
			wantProblemShape(t, r)
		case 413:
			wantDetail(t, "413", r, 413, "")
		default:
			t.Fatalf("%s %s %q -> %d %s", op[0], op[1], body, r.status, r.body)
		}
		e.rec.Take()
	})
}

// wantProblemShape checks that a 422 is a non-empty list of {loc, msg, type}.
func wantProblemShape(t *testing.T, r response) {
	t.Helper()
	var body struct {
		Detail []problemJSON `json:"detail"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || len(body.Detail) == 0 {
		t.Fatalf("422 body %s: %v", r.body, err)
	}
	for _, p := range body.Detail {
		if len(p.Loc) == 0 || p.Loc[0] != "body" || p.Msg == "" || p.Type == "" {
			t.Fatalf("422 entry %+v in %s", p, r.body)
		}
	}
}
