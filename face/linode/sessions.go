package linode

import (
	"net/http"

	"github.com/profiled/profiled/core"
)

type appJSON struct {
	ID           int64       `json:"id"`
	Label        string      `json:"label"`
	Scopes       string      `json:"scopes"`
	Website      string      `json:"website"`
	Created      linodeTime  `json:"created"`
	Expiry       *linodeTime `json:"expiry"`
	ThumbnailURL *string     `json:"thumbnail_url"`
}

func toApp(a core.App) appJSON {
	out := appJSON{ID: a.ID, Label: a.Label, Scopes: string(a.Scopes), Website: a.Website,
		Created: linodeTime(a.Created), Expiry: timePtr(a.Expiry)}
	if a.ThumbnailURL != "" {
		out.ThumbnailURL = &a.ThumbnailURL
	}
	return out
}

type deviceJSON struct {
	ID                int64      `json:"id"`
	Created           linodeTime `json:"created"`
	Expiry            linodeTime `json:"expiry"`
	LastAuthenticated linodeTime `json:"last_authenticated"`
	LastRemoteAddr    string     `json:"last_remote_addr"`
	UserAgent         string     `json:"user_agent"`
}

func toDevice(d core.Device) deviceJSON {
	return deviceJSON{ID: d.ID, Created: linodeTime(d.Created), Expiry: linodeTime(d.Expiry),
		LastAuthenticated: linodeTime(d.LastAuthenticated), LastRemoteAddr: d.LastRemoteAddr, UserAgent: d.UserAgent}
}

type loginJSON struct {
	ID         int64      `json:"id"`
	Datetime   linodeTime `json:"datetime"`
	IP         string     `json:"ip"`
	Username   string     `json:"username"`
	Status     string     `json:"status"`
	Restricted bool       `json:"restricted"`
}

func toLogin(l core.Login) loginJSON {
	return loginJSON{ID: l.ID, Datetime: linodeTime(l.Datetime), IP: l.IP, Username: l.Username, Status: l.Status, Restricted: l.Restricted}
}

func (s *server) listApps(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	q, err := listQuery(r, core.AppFields)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.Apps(r.Context(), a, q)
	return toPage(p, toApp), err
}

func (s *server) getApp(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "appId")
	if err != nil {
		return nil, err
	}
	app, err := s.svc.App(r.Context(), a, id)
	return toApp(app), err
}

func (s *server) deleteApp(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "appId")
	if err != nil {
		return nil, err
	}
	return empty, s.svc.RevokeApp(r.Context(), a, id)
}

func (s *server) listDevices(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	q, err := listQuery(r, core.DeviceFields)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.Devices(r.Context(), a, q)
	return toPage(p, toDevice), err
}

func (s *server) getDevice(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "deviceId")
	if err != nil {
		return nil, err
	}
	d, err := s.svc.Device(r.Context(), a, id)
	return toDevice(d), err
}

func (s *server) deleteDevice(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "deviceId")
	if err != nil {
		return nil, err
	}
	return empty, s.svc.RevokeDevice(r.Context(), a, id)
}

func (s *server) listLogins(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	q, err := listQuery(r, core.LoginFields)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.Logins(r.Context(), a, q)
	return toPage(p, toLogin), err
}

func (s *server) getLogin(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "loginId")
	if err != nil {
		return nil, err
	}
	l, err := s.svc.Login(r.Context(), a, id)
	return toLogin(l), err
}
