package sqlite

import (
	"context"
	"slices"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlfilter"
)

// listing is a resource the store lists.
type listing = sqlfilter.Listing

// list returns one page of a user's rows of l that match q.Filter, ordered
// by q.OrderBy then id, and the number of all matching rows. A PageSize of
// zero or less returns every matching row.
//
// The page and the total come from one statement, the total as a scalar
// subquery that SQLite evaluates once per statement, so they agree without
// a read transaction around two statements, which cost more than the
// statements themselves. (count(*) OVER (), as store/postgres uses, made
// SQLite copy every matching row into a temporary b-tree first.) Only a
// page past the end, which has no row to carry the total, costs a second
// statement to count.
func list[T any](ctx context.Context, r reader, l listing, userID int64, q core.ListQuery, scan func(scanner) (T, error)) ([]T, int, error) {
	b := sqlfilter.New(sqlfilter.SQLite)
	where := "user_id = " + b.Arg(userID)
	cond, err := b.Where(l.Fields, q.Filter)
	if err != nil {
		return nil, 0, err
	}
	if cond != "" {
		where += " AND (" + cond + ")"
	}
	order, err := sqlfilter.OrderBy(l.Fields, "id", q.OrderBy, q.Desc)
	if err != nil {
		return nil, 0, err
	}
	countArgs := slices.Clone(b.Args())
	count := "SELECT count(*) FROM " + l.Table + " WHERE " + where
	// SQLite numbers ? placeholders in order: the subquery's come first.
	args := append(slices.Clone(countArgs), countArgs...)
	page := "SELECT " + l.Columns + ", (" + count + ") FROM " + l.Table + " WHERE " + where + " ORDER BY " + order
	offset := max(0, q.Offset())
	if q.PageSize > 0 {
		// LIMIT takes its value as +?, not ?: SQLite re-plans a prepared
		// statement at every run when a value is bound to a bare LIMIT
		// parameter (the planner may use it), which made each list parse
		// its query again. The unary plus hides the value from the
		// planner; the page is cut at the limit all the same.
		page += " LIMIT +? OFFSET ?"
		args = append(args, q.PageSize, offset)
	}

	out := []T{}
	var total int
	rows, err := r.q.QueryContext(ctx, page, args...)
	if err != nil {
		return nil, 0, storeErr("list "+l.Table, err)
	}
	defer rows.Close()
	withTotal := totalScanner{rows: rows, total: &total}
	for rows.Next() {
		v, err := scan(withTotal)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, storeErr("list "+l.Table, err)
	}
	if len(out) == 0 && q.PageSize > 0 && offset > 0 {
		err := r.q.QueryRowContext(ctx, count, countArgs...).Scan(&total)
		if err != nil {
			return nil, 0, storeErr("count "+l.Table, err)
		}
	}
	return out, total, nil
}

// totalScanner scans a row of a list and its last column, the total.
type totalScanner struct {
	rows  scanner
	total *int
}

func (t totalScanner) Scan(dest ...any) error { return t.rows.Scan(append(dest, t.total)...) }
