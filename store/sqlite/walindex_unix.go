//go:build unix

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// walIndex reads the header of the WAL-index, the "-shm" file that every
// connection to a WAL database maps and updates (https://sqlite.org/walformat.html,
// section 2.2). Its writer rewrites the header at the end of every
// committed transaction: iChange is incremented, and mxFrame and the
// checksum of the last frame move. Whichever process commits (this server,
// another replica of it on the same file, the operator's CLI), every
// mapping of the file sees the new header at once. Comparing the header
// with the one seen before is therefore a proof that nothing was committed
// in between, at the cost of 24 memory loads, where asking SQLite (PRAGMA
// data_version) costs a read transaction: 3.5 µs, fcntl calls and 16
// allocations.
//
// Two rules keep that proof sound. The file must stay the one SQLite uses:
// SQLite deletes or truncates it only when the last connection to the
// database closes or the first opens, so pin holds a connection open for as
// long as the mapping lives. And the descriptor must stay open: POSIX
// record locks belong to the process and the inode, so closing any
// descriptor of the file would drop the locks SQLite's own connections
// hold on it.
type walIndex struct {
	pin *sql.Conn
	fd  int
	mem []byte
}

// walHeaderWords is one copy of the header: 48 bytes.
const walHeaderWords = 12

// walHeader is a snapshot of the header. The zero value is never a real
// header (isInit and the page size are set in every written one).
type walHeader [walHeaderWords]uint32

// openWALIndex pins a connection of db, makes SQLite create and initialize
// the WAL-index of the database at path, and maps its first page.
func openWALIndex(ctx context.Context, db *sql.DB, path string) (*walIndex, error) {
	pin, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	// A read opens the WAL, and with it the WAL-index.
	var n int
	if err := pin.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		pin.Close()
		return nil, err
	}
	fd, err := syscall.Open(path+"-shm", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		pin.Close()
		return nil, fmt.Errorf("open the WAL-index: %w", err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Size < 2*4*walHeaderWords {
		pin.Close() // the descriptor stays open: see walIndex
		return nil, fmt.Errorf("the WAL-index %s-shm is not initialized (%d bytes)", path, st.Size)
	}
	mem, err := syscall.Mmap(fd, 0, syscall.Getpagesize(), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		pin.Close()
		return nil, fmt.Errorf("map the WAL-index: %w", err)
	}
	return &walIndex{pin: pin, fd: fd, mem: mem}, nil
}

// header returns the current header, and false while a writer is midway
// through rewriting it. SQLite writes the second copy first and the first
// last; reading the first, then the second, and finding them equal means
// neither was torn (the same order as SQLite's walIndexTryHdr). Atomic
// loads keep the reads in that order.
func (w *walIndex) header() (h walHeader, ok bool) {
	base := unsafe.Pointer(&w.mem[0])
	for i := range walHeaderWords {
		h[i] = atomic.LoadUint32((*uint32)(unsafe.Add(base, 4*i)))
	}
	for i := range walHeaderWords {
		if atomic.LoadUint32((*uint32)(unsafe.Add(base, 4*(walHeaderWords+i)))) != h[i] {
			return walHeader{}, false
		}
	}
	return h, h != walHeader{}
}

// close releases the pinned connection. The descriptor is closed only by
// closeFile, after every pool of the file is closed. The page stays mapped
// (4 KiB until the process exits): a request still running while the store
// closes may read it, and an unmapped page would crash the process where a
// stale one only makes that request's lookup fail on the closed pools.
func (w *walIndex) close() error { return w.pin.Close() }

func (w *walIndex) closeFile() error { return syscall.Close(w.fd) }
