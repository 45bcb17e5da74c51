package sqlstore

import (
	"context"
	"slices"

	"github.com/profiled/profiled/core"
)

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
