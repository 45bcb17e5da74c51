package core_test

import (
	"encoding/json"
	"testing"

	"github.com/profiled/profiled/core"
)

func TestGrants(t *testing.T) {
	e := newEnv(t)
	unrestricted := e.user("alice", false)
	restricted := e.user("bobby", true)

	g, err := e.svc.Grants(e.ctx, unrestricted)
	noErr(t, err)
	if g != nil {
		t.Fatalf("grants of an unrestricted user = %s, want nil", g)
	}

	// A restricted user with nothing stored has nothing granted.
	g, err = e.svc.Grants(e.ctx, restricted)
	noErr(t, err)
	var empty map[string]any
	noErr(t, json.Unmarshal(g, &empty))
	if l, ok := empty["linode"].([]any); !ok || len(l) != 0 {
		t.Fatalf("grants of a restricted user without any = %s", g)
	}

	doc := []byte(`{"global":{"account_access":"read_only","add_linodes":true},"linode":[{"id":1,"label":"web","permissions":"read_write"}]}`)
	noErr(t, e.svc.SetGrants(e.ctx, "bobby", doc))
	want, err := core.ParseGrants(doc)
	noErr(t, err)
	g, err = e.svc.Grants(e.ctx, restricted)
	noErr(t, err)
	if string(g) != string(want) {
		t.Fatalf("grants = %s\nwant %s", g, want)
	}
	// Any token of the user may ask, whatever its scopes.
	ro := e.token("bobby", "linodes:read_only")
	g, err = e.svc.Grants(e.ctx, ro)
	noErr(t, err)
	if string(g) != string(want) {
		t.Fatalf("grants via a linodes token = %s", g)
	}

	wantErr(t, e.svc.SetGrants(e.ctx, "alice", doc), core.KindConflict, "username")
	g, err = e.svc.Grants(e.ctx, unrestricted)
	noErr(t, err)
	if g != nil {
		t.Fatalf("grants of alice after a refused SetGrants = %s", g)
	}
	wantErr(t, e.svc.SetGrants(e.ctx, "nobody", doc), core.KindNotFound, "")
	wantErr(t, e.svc.SetGrants(e.ctx, "bobby", []byte(`{"linode":[{"id":1,"permissions":"all"}]}`)), core.KindInvalid, "linode.permissions")
	wantErr(t, e.svc.SetGrants(e.ctx, "bobby", []byte(`{"bogus":1}`)), core.KindInvalid, "grants")
	g, err = e.svc.Grants(e.ctx, restricted)
	noErr(t, err)
	if string(g) != string(want) {
		t.Fatalf("a refused SetGrants changed the grants to %s", g)
	}
}
