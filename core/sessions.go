package core

import (
	"context"
	"strconv"
	"time"
)

// Apps lists the OAuth applications the actor has authorized (live ones).
func (s *Service) Apps(ctx context.Context, a Actor, q ListQuery) (Page[App], error) {
	if err := mustRead(a); err != nil {
		return Page[App]{}, err
	}
	data, n, err := s.store.ListApps(ctx, a.User.ID, s.activeOnly(q))
	return Page[App]{Data: data, Page: q.Page, PageSize: q.PageSize, Results: n}, notFound(err, "list apps")
}

// App returns one authorization.
func (s *Service) App(ctx context.Context, a Actor, id int64) (App, error) {
	if err := mustRead(a); err != nil {
		return App{}, err
	}
	app, err := s.store.App(ctx, a.User.ID, id)
	if err == nil && app.Expiry != nil && !s.now().Before(*app.Expiry) {
		return App{}, NotFound()
	}
	return app, notFound(err, "get app")
}

// RevokeApp ends an authorization and kills every token issued under it.
func (s *Service) RevokeApp(ctx context.Context, a Actor, id int64) error {
	if err := mustWrite(a); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		note(eventOf(EventAppRevoked, a, "app "+strconv.FormatInt(id, 10)))
		return notFound(tx.DeleteApp(ctx, a.User.ID, id), "revoke app")
	})
}

// Devices lists the actor's unexpired trusted devices.
func (s *Service) Devices(ctx context.Context, a Actor, q ListQuery) (Page[Device], error) {
	if err := mustRead(a); err != nil {
		return Page[Device]{}, err
	}
	data, n, err := s.store.ListDevices(ctx, a.User.ID, s.activeOnly(q))
	return Page[Device]{Data: data, Page: q.Page, PageSize: q.PageSize, Results: n}, notFound(err, "list devices")
}

// Device returns one trusted device.
func (s *Service) Device(ctx context.Context, a Actor, id int64) (Device, error) {
	if err := mustRead(a); err != nil {
		return Device{}, err
	}
	d, err := s.store.Device(ctx, a.User.ID, id)
	if err == nil && !s.now().Before(d.Expiry) {
		return Device{}, NotFound()
	}
	return d, notFound(err, "get device")
}

// RevokeDevice ends a device's trust: its next sign-in needs every factor again.
func (s *Service) RevokeDevice(ctx context.Context, a Actor, id int64) error {
	if err := mustWrite(a); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		return notFound(tx.DeleteDevice(ctx, a.User.ID, id), "revoke device")
	})
}

// History is how far back the lists of logins and events reach: "the
// last 90 days", as the Linode API's do. What is older is not shown, and
// PurgeExpired deletes it.
const History = 90 * 24 * time.Hour

// historyStart is the oldest time the history lists show.
func (s *Service) historyStart() time.Time { return s.clock().Add(-History) }

// recentOnly limits q to what was made since historyStart: column is the
// time it was made.
func (s *Service) recentOnly(q ListQuery, column string) ListQuery {
	recent := Match(column, OpGte, s.historyStart())
	q.Filter = AllOf(q.Filter, &recent)
	return q
}

// recentLogin is l, or NotFound for one older than History.
func (s *Service) recentLogin(l Login, err error) (Login, error) {
	if err == nil && l.Datetime.Before(s.historyStart()) {
		return Login{}, NotFound()
	}
	return l, notFound(err, "get login")
}

// Logins lists the actor's sign-ins of the last 90 days.
func (s *Service) Logins(ctx context.Context, a Actor, q ListQuery) (Page[Login], error) {
	if err := mustRead(a); err != nil {
		return Page[Login]{}, err
	}
	data, n, err := s.store.ListLogins(ctx, a.User.ID, s.recentOnly(q, "datetime"))
	return Page[Login]{Data: data, Page: q.Page, PageSize: q.PageSize, Results: n}, notFound(err, "list logins")
}

// Login returns one sign-in record of the last 90 days.
func (s *Service) Login(ctx context.Context, a Actor, id int64) (Login, error) {
	if err := mustRead(a); err != nil {
		return Login{}, err
	}
	return s.recentLogin(s.store.Login(ctx, a.User.ID, id))
}
