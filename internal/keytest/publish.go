package keytest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// Publisher is a client's web server publishing its key set at URL (a
// jwks_uri), on loopback, for as long as the test runs.
type Publisher struct {
	URL   string
	reads atomic.Int64
	mu    sync.Mutex
	body  string
	// cacheControl is sent with each answer, when not "".
	cacheControl string
}

// Publish serves the public keys given at a new URL.
func Publish(t testing.TB, keys ...Key) *Publisher {
	t.Helper()
	p := &Publisher{}
	p.Set(t, keys...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.reads.Add(1)
		p.mu.Lock()
		body, cc := p.body, p.cacheControl
		p.mu.Unlock()
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL + "/.well-known/jwks.json"
	return p
}

// Set publishes the public keys given instead, as a client rotating them.
func (p *Publisher) Set(t testing.TB, keys ...Key) {
	t.Helper()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.Private.PublicKey, KeyID: k.KID, Algorithm: "ES256", Use: "sig"})
	}
	p.SetBody(marshal(t, set), "")
}

// SetBody publishes body, with the Cache-Control cc when not "".
func (p *Publisher) SetBody(body, cc string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.body, p.cacheControl = body, cc
}

// Reads is how many requests the server answered.
func (p *Publisher) Reads() int { return int(p.reads.Load()) }
