package sqlstore

import (
	"context"
	"slices"

	"github.com/profiled/profiled/core"
)

// owned is a resource whose rows each belong to an owner, a user or an
// account: its listing, the owner's column, and how a row scans. Its two
// reads, one row and a page of rows, are written once here for every
// such resource.
type owned[T any] struct {
	listing Listing
	owner   string // the column of the owner's id
	op      string // what a failed read was doing, in its error
	byID    string // the statement of get
	scan    func(Row) (T, error)
}

func ownedBy[T any](l Listing, owner, op string, scan func(Row) (T, error)) owned[T] {
	return owned[T]{listing: l, owner: owner, op: op, scan: scan,
		byID: `SELECT ` + l.Columns + ` FROM ` + l.Table + ` WHERE ` + owner + ` = ? AND ` + l.ID + ` = ?`}
}

// get reads the row id of the owner; a row of another owner is
// ErrNotFound, as a missing one is, so that callers cannot tell them apart.
func (o owned[T]) get(ctx context.Context, r Reader, ownerID, id int64) (T, error) {
	return one(ctx, r, o.op, o.scan, o.byID, ownerID, id)
}

// list is list of the owner's rows.
func (o owned[T]) list(ctx context.Context, r Reader, ownerID int64, q core.ListQuery) ([]T, int, error) {
	return list(ctx, r, o.listing, o.owner, ownerID, q, o.scan)
}

// list returns one page of the rows of l whose scope column is id (a
// user's, or an account's) that match q.Filter, ordered
// by q.OrderBy then id, and the number of all matching rows. A PageSize of
// zero or less returns every matching row.
//
// The page and the total come from one statement, the total as a scalar
// subquery that both engines evaluate once per statement, so they agree
// without a transaction around two statements. (count(*) OVER () made
// SQLite copy every matching row into a temporary b-tree first.) Only a
// page past the end, which has no row to carry the total, costs a second
// statement to count.
func list[T any](ctx context.Context, r Reader, l Listing, scope string, id int64, q core.ListQuery, scan func(Row) (T, error)) ([]T, int, error) {
	b := NewBuilder(r.d)
	where := scope + " = " + b.Arg(id)
	cond, err := b.Where(l.Fields, q.Filter)
	if err != nil {
		return nil, 0, err
	}
	if cond != "" {
		where += " AND (" + cond + ")"
	}
	order, err := OrderBy(l.Fields, l.ID, q.OrderBy, q.Desc)
	if err != nil {
		return nil, 0, err
	}
	countArgs := b.Args()
	count := "SELECT count(*) FROM " + l.Table + " WHERE " + where
	// Placeholders are taken in order: the subquery's come first.
	args := append(slices.Clone(countArgs), countArgs...)
	page := "SELECT " + l.Columns + ", (" + count + ") FROM " + l.Table + " WHERE " + where + " ORDER BY " + order
	offset := max(0, q.Offset())
	if q.PageSize > 0 {
		page += " " + r.d.Limit
		args = append(args, q.PageSize, offset)
	}

	var total int
	withTotal := func(row Row) (T, error) { return scan(totalRow{row, &total}) }
	out, err := collect(ctx, r, "list "+l.Table, withTotal, page, args...)
	if err != nil {
		return nil, 0, err
	}
	if len(out) == 0 && q.PageSize > 0 && offset > 0 {
		if err := r.q.QueryRow(ctx, count, countArgs...).Scan(&total); err != nil {
			return nil, 0, r.err("count "+l.Table, err)
		}
	}
	return out, total, nil
}

// totalRow scans a row of a list and its last column, the total.
type totalRow struct {
	row   Row
	total *int
}

func (t totalRow) Scan(dest ...any) error { return t.row.Scan(append(dest, t.total)...) }
