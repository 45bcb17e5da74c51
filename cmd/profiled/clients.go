package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/profiled/profiled/core"
)

// clientsValue is a repeatable flag of OAuth client ids. Each value may
// hold several, separated by commas or spaces, which is how its
// environment twin lists them: PROFILED_PREFERENCES_CLIENTS="app-a,app-b".
type clientsValue []string

func (v *clientsValue) String() string { return strings.Join(*v, ",") }

func (v *clientsValue) Set(s string) error {
	ids := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	if _, err := core.NewStaticClients(ids...); err != nil {
		return err
	}
	*v = append(*v, ids...)
	return nil
}

// clientsFlag registers --preferences-client: clients whose preferences
// namespaces exist for /user/{version}/preferences/{clientId}, besides the
// token's own, "personal" and the registered OAuth clients.
func clientsFlag(fs *flagSet) *clientsValue {
	var v clientsValue
	fs.Var(&v, "preferences-client", "a client `ID` whose preferences namespace exists at /user/{version}/preferences/{clientId}, besides the registered OAuth clients; repeat it, or list several separated by commas")
	fs.twin("preferences-client", "PROFILED_PREFERENCES_CLIENTS")
	return &v
}

// clientDirectory is the directory of clients the core gets.
func clientDirectory(ids clientsValue) (core.ClientDirectory, error) {
	return core.NewStaticClients(ids...)
}

// originsValue is the repeatable --cors-origin: origins like
// https://console.example.com, several to a value separated by commas or
// spaces, as its environment twin lists them.
type originsValue []string

func (v *originsValue) String() string { return strings.Join(*v, ",") }

func (v *originsValue) Set(s string) error {
	for _, o := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("%q is not an origin: give the scheme and host (and port) only, like https://console.example.com", o)
		}
		*v = append(*v, o)
	}
	return nil
}
