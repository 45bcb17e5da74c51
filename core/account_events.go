package core

import "context"

// This file serves the Linode Events API (/account/events): the security
// events of the account's users that have a Linode action, kept in the
// transaction of the change they report (Service.update). Unrestricted
// users see every event of the account; a restricted user sees their own.
// Both see the last 90 days (History), as the Linode API shows.

func (s *Service) visibleEvent(ctx context.Context, a Actor, id int64) (AccountEvent, error) {
	e, err := s.store.AccountEvent(ctx, a.User.AccountID, id)
	if err != nil {
		return AccountEvent{}, notFound(err, "get event")
	}
	if a.User.Restricted && e.UserID != a.User.ID || e.Created.Before(s.historyStart()) {
		return AccountEvent{}, NotFound()
	}
	return e, nil
}

// AccountEvents lists the events the actor may see, newest first unless q
// orders otherwise.
func (s *Service) AccountEvents(ctx context.Context, a Actor, q ListQuery) (Page[AccountEvent], error) {
	if err := require(a, "events", ReadOnly); err != nil {
		return Page[AccountEvent]{}, err
	}
	if q.OrderBy == "" {
		q.OrderBy, q.Desc = "id", true // as the Linode API lists them
	}
	if a.User.Restricted {
		mine := Match("user_id", OpEq, a.User.ID)
		q.Filter = AllOf(q.Filter, &mine)
	}
	data, n, err := s.store.ListAccountEvents(ctx, a.User.AccountID, s.recentOnly(q, "created"))
	return Page[AccountEvent]{Data: data, Page: q.Page, PageSize: q.PageSize, Results: n}, notFound(err, "list events")
}

// AccountEvent returns one event the actor may see.
func (s *Service) AccountEvent(ctx context.Context, a Actor, id int64) (AccountEvent, error) {
	if err := require(a, "events", ReadOnly); err != nil {
		return AccountEvent{}, err
	}
	return s.visibleEvent(ctx, a, id)
}

// MarkEventsSeen marks the account's events up to id seen, as the Linode
// API does when a console has shown them.
func (s *Service) MarkEventsSeen(ctx context.Context, a Actor, id int64) error {
	if err := require(a, "events", ReadOnly); err != nil { // as the Linode API: marks need only read_only
		return err
	}
	if _, err := s.visibleEvent(ctx, a, id); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		return notFound(tx.MarkAccountEventsSeen(ctx, a.User.AccountID, id), "mark events seen")
	})
}

// MarkEventRead marks one event read.
func (s *Service) MarkEventRead(ctx context.Context, a Actor, id int64) error {
	if err := require(a, "events", ReadOnly); err != nil { // as the Linode API: marks need only read_only
		return err
	}
	if _, err := s.visibleEvent(ctx, a, id); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		return notFound(tx.MarkAccountEventRead(ctx, a.User.AccountID, id), "mark event read")
	})
}
