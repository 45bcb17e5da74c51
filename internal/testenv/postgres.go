package testenv

import "testing"

// postgresBackend is filled in when the PostgreSQL store lands.
func postgresBackend(t *testing.T) (Backend, bool) { return Backend{}, false }
