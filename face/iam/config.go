package iam

import (
	"net/http"

	"github.com/profiled/profiled/core"
)

// userConfigJSON is the UserConfig model.
type userConfigJSON struct {
	Locale      string `json:"locale"`
	Theme       string `json:"theme"`
	DateFormat  string `json:"date_format"`
	TimeFormat  string `json:"time_format"`
	WeekStart   string `json:"week_start"`
	LandingPage string `json:"landing_page"`
}

func toConfig(c core.UserConfig) userConfigJSON {
	return userConfigJSON{Locale: c.Locale, Theme: c.Theme, DateFormat: c.DateFormat, TimeFormat: c.TimeFormat,
		WeekStart: c.WeekStart, LandingPage: c.LandingPage}
}

func (s *server) getConfig(r *http.Request, a core.Actor) (answer, error) {
	c, err := s.svc.MyConfig(r.Context(), a)
	return ok(toConfig(c)), err
}

// putConfig replaces the configuration: a field left out takes its
// default, as the model declares it.
func (s *server) putConfig(r *http.Request, a core.Actor) (answer, error) {
	o, err := readObject(r)
	if err != nil {
		return answer{}, err
	}
	d := core.DefaultUserConfig()
	in := core.UserConfig{
		Locale: o.str("locale", d.Locale), Theme: o.str("theme", d.Theme), DateFormat: o.str("date_format", d.DateFormat),
		TimeFormat: o.str("time_format", d.TimeFormat), WeekStart: o.str("week_start", d.WeekStart),
		LandingPage: o.str("landing_page", d.LandingPage),
	}
	if err := o.done(); err != nil {
		return answer{}, err
	}
	c, err := s.svc.PutMyConfig(r.Context(), a, in)
	return ok(toConfig(c)), err
}

// channelsJSON and notificationConfigJSON are the NotificationConfig model.
type channelsJSON struct {
	Email bool `json:"email"`
	SMS   bool `json:"sms"`
}

type notificationConfigJSON struct {
	Security channelsJSON `json:"security"`
	Account  channelsJSON `json:"account"`
	Product  channelsJSON `json:"product"`
}

func toNotifications(n core.NotificationConfig) notificationConfigJSON {
	ch := func(c core.Channels) channelsJSON { return channelsJSON{Email: c.Email, SMS: c.SMS} }
	return notificationConfigJSON{Security: ch(n.Security), Account: ch(n.Account), Product: ch(n.Product)}
}

func (s *server) getNotifications(r *http.Request, a core.Actor) (answer, error) {
	n, err := s.svc.MyNotifications(r.Context(), a)
	return ok(toNotifications(n)), err
}

// notificationDefaults are the model's defaults, which a PUT that leaves a
// field out gets: security email on, account email on, the rest off.
var notificationDefaults = core.NotificationConfig{Security: core.Channels{Email: true}, Account: core.Channels{Email: true}}

// putNotifications replaces the notification preferences.
func (s *server) putNotifications(r *http.Request, a core.Actor) (answer, error) {
	o, err := readObject(r)
	if err != nil {
		return answer{}, err
	}
	in := notificationDefaults
	var children []*object
	for _, c := range []struct {
		name string
		ch   *core.Channels
	}{{"security", &in.Security}, {"account", &in.Account}, {"product", &in.Product}} {
		if co := o.child(c.name); co != nil {
			c.ch.Email = co.boolean("email", c.ch.Email)
			c.ch.SMS = co.boolean("sms", c.ch.SMS)
			children = append(children, co)
		}
	}
	if err := o.done(children...); err != nil {
		return answer{}, err
	}
	n, err := s.svc.PutMyNotifications(r.Context(), a, in)
	return ok(toNotifications(n)), err
}
