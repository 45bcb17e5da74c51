//go:build !unix

package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// Without mmap the WAL-index cannot be read, and tokens are looked up in
// the database at every request.
type walIndex struct{}

type walHeader [12]uint32

func openWALIndex(context.Context, *sql.DB, string) (*walIndex, error) {
	return nil, errors.New("reading the WAL-index needs a unix system")
}

func (*walIndex) header() (walHeader, bool) { return walHeader{}, false }
func (*walIndex) close() error              { return nil }
func (*walIndex) closeFile() error          { return nil }
