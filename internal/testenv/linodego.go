package testenv

import (
	"errors"
	"net/http"

	"github.com/linode/linodego"
)

// Linodego returns an unmodified linodego client for the server at
// baseURL, acting with token and sending through hc: no retries (a 429
// must reach the test) and no response cache.
func Linodego(hc *http.Client, baseURL, token string) *linodego.Client {
	c := linodego.NewClient(hc)
	c.SetBaseURL(baseURL)
	c.SetToken(token)
	c.SetRetryCount(0)
	c.UseCache(false)
	return &c
}

// APIStatus returns the HTTP status of a linodego error: 0 for nil, -1
// for an error that is not an API answer.
func APIStatus(err error) int {
	var le *linodego.Error
	if errors.As(err, &le) {
		return le.Code
	}
	if err != nil {
		return -1
	}
	return 0
}
