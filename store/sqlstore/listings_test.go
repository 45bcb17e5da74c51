package sqlstore

import "testing"

func TestListColumns(t *testing.T) {
	for _, l := range []Listing{SSHKeys, Tokens, Apps, Devices, Logins} {
		if err := l.Fields.Check(); err != nil {
			t.Errorf("%s: %v", l.Table, err)
		}
	}
}
