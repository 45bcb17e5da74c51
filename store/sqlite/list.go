package sqlite

import (
	"context"
	"slices"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlfilter"
)

// listing describes one listable resource.
type listing struct {
	table   string            // the table, unaliased
	columns string            // the select list, unqualified
	fields  sqlfilter.Columns // what lists may filter and order on
}

// list returns one page of a user's rows of l that match q.Filter, ordered
// by q.OrderBy then id, and the number of all matching rows. A PageSize of
// zero or less returns every matching row. The page and the total are
// read in one snapshot, so they agree.
func list[T any](ctx context.Context, r reader, l listing, userID int64, q core.ListQuery, scan func(scanner) (T, error)) ([]T, int, error) {
	b := sqlfilter.New(sqlfilter.SQLite)
	where := "user_id = " + b.Arg(userID)
	cond, err := b.Where(l.fields, q.Filter)
	if err != nil {
		return nil, 0, err
	}
	if cond != "" {
		where += " AND (" + cond + ")"
	}
	order, err := sqlfilter.OrderBy(l.fields, "id", q.OrderBy, q.Desc)
	if err != nil {
		return nil, 0, err
	}
	countArgs := slices.Clone(b.Args())
	page := "SELECT " + l.columns + " FROM " + l.table + " WHERE " + where + " ORDER BY " + order
	if q.PageSize > 0 {
		page += " LIMIT " + b.Arg(q.PageSize) + " OFFSET " + b.Arg(max(0, q.Offset()))
	}

	out := []T{}
	var total int
	err = r.snapshot(ctx, func(r reader) error {
		if err := r.q.QueryRowContext(ctx, "SELECT count(*) FROM "+l.table+" WHERE "+where, countArgs...).Scan(&total); err != nil {
			return storeErr("count "+l.table, err)
		}
		if total == 0 {
			return nil
		}
		rows, err := r.q.QueryContext(ctx, page, b.Args()...)
		if err != nil {
			return storeErr("list "+l.table, err)
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return storeErr("list "+l.table, rows.Err())
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}
