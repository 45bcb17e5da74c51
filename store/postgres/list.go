package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/sqlfilter"
)

// dialect is how this store writes filters.
var dialect = sqlfilter.PostgreSQL

// listing describes one listable resource.
type listing struct {
	table   string            // the table, unaliased
	columns string            // the select list, unqualified
	fields  sqlfilter.Columns // what lists may filter and order on
}

// list returns one page of a user's rows of l that match q.Filter, ordered
// by q.OrderBy then id, and the number of all matching rows. A PageSize of
// zero or less returns every matching row. The page and the total come
// from one statement, so they agree; only a page past the end, which has
// no row to carry the total, costs a second statement to count.
func list[T any](ctx context.Context, r reader, l listing, userID int64, q core.ListQuery, scan func(pgx.Row, ...any) (T, error)) ([]T, int, error) {
	b := sqlfilter.New(dialect)
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
	countArgs := append([]any(nil), b.Args()...)
	page := "SELECT " + l.columns + ", count(*) OVER () FROM " + l.table + " WHERE " + where + " ORDER BY " + order
	offset := max(0, q.Offset())
	if q.PageSize > 0 {
		page += " LIMIT " + b.Arg(q.PageSize) + " OFFSET " + b.Arg(offset)
	}

	out := []T{}
	var total int
	rows, err := r.q.Query(ctx, page, b.Args()...)
	if err != nil {
		return nil, 0, r.err("list "+l.table, err)
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
		return nil, 0, r.err("list "+l.table, err)
	}
	if len(out) == 0 && q.PageSize > 0 && offset > 0 {
		err := r.q.QueryRow(ctx, "SELECT count(*) FROM "+l.table+" WHERE "+where, countArgs...).Scan(&total)
		if err != nil {
			return nil, 0, r.err("count "+l.table, err)
		}
	}
	return out, total, nil
}
