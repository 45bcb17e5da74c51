package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlfilter"
)

var dialect = sqlfilter.PostgreSQL

// listing is a resource the store lists.
type listing = sqlfilter.Listing

// list returns one page of a user's rows of l that match q.Filter, ordered
// by q.OrderBy then id, and the number of all matching rows. A PageSize of
// zero or less returns every matching row. The page and the total come
// from one statement, so they agree; only a page past the end, which has
// no row to carry the total, costs a second statement to count.
func list[T any](ctx context.Context, r reader, l listing, userID int64, q core.ListQuery, scan func(pgx.Row, ...any) (T, error)) ([]T, int, error) {
	b := sqlfilter.New(dialect)
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
	countArgs := append([]any(nil), b.Args()...)
	page := "SELECT " + l.Columns + ", count(*) OVER () FROM " + l.Table + " WHERE " + where + " ORDER BY " + order
	offset := max(0, q.Offset())
	if q.PageSize > 0 {
		page += " LIMIT " + b.Arg(q.PageSize) + " OFFSET " + b.Arg(offset)
	}

	out := []T{}
	var total int
	rows, err := r.q.Query(ctx, page, b.Args()...)
	if err != nil {
		return nil, 0, r.err("list "+l.Table, err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows, &total)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, r.err("list "+l.Table, err)
	}
	if len(out) == 0 && q.PageSize > 0 && offset > 0 {
		err := r.q.QueryRow(ctx, "SELECT count(*) FROM "+l.Table+" WHERE "+where, countArgs...).Scan(&total)
		if err != nil {
			return nil, 0, r.err("count "+l.Table, err)
		}
	}
	return out, total, nil
}
