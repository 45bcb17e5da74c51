package backchannel_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/profiled/profiled/backchannel"
	"github.com/profiled/profiled/core"
)

// fixedTokens makes every message's logout token for uri, or none.
type fixedTokens struct {
	uri string
	key core.SigningKey
}

func (f fixedTokens) LogoutToken(context.Context, core.OutboxMessage) (*core.LogoutToken, error) {
	if f.uri == "" {
		return nil, nil
	}
	return &core.LogoutToken{URI: f.uri, Key: f.key, Claims: map[string]any{"iss": "https://id.example", "sid": "s"}}, nil
}

// TestDeliver: what each answer of a relying party means to the outbox:
// delivered, tried again, or dropped; a redirect is not followed.
func TestDeliver(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key := core.SigningKey{ID: "k1", Private: priv}
	var followed atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("POST /elsewhere", func(w http.ResponseWriter, r *http.Request) { followed.Store(true) })
	for path, status := range map[string]int{"/ok": 200, "/no-content": 204, "/refused": 400, "/gone": 404,
		"/down": 503, "/busy": 429, "/slow": 408, "/moved": 302} {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			raw := r.PostFormValue("logout_token")
			jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
			if err != nil {
				http.Error(w, "no logout token: "+err.Error(), http.StatusUnprocessableEntity)
				return
			}
			if _, err := jws.Verify(&priv.PublicKey); err != nil || jws.Signatures[0].Header.KeyID != "k1" {
				http.Error(w, "bad signature", http.StatusUnprocessableEntity)
				return
			}
			if status == 302 {
				http.Redirect(w, r, "/elsewhere", status)
				return
			}
			if status == 400 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				w.Write([]byte(`{"error":"invalid_request","error_description":"unknown sid"}`))
				return
			}
			w.WriteHeader(status)
		})
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, c := range []struct {
		path  string
		want  string // delivered, retried or dropped
		quote string // in the error, for the operator
	}{
		{"/ok", "delivered", ""}, {"/no-content", "delivered", ""},
		{"/refused", "dropped", "unknown sid"}, {"/gone", "dropped", "404"}, {"/moved", "dropped", "302"},
		{"/down", "retried", "503"}, {"/busy", "retried", "429"}, {"/slow", "retried", "408"},
	} {
		l := &backchannel.Logouts{Tokens: fixedTokens{uri: srv.URL + c.path, key: key}}
		err := l.Deliver(t.Context(), core.OutboxMessage{ID: 1, Topic: core.OutboxLogout})
		got := "retried"
		switch {
		case err == nil:
			got = "delivered"
		case errors.Is(err, core.ErrUndeliverable):
			got = "dropped"
		}
		if got != c.want || (err != nil && !strings.Contains(err.Error(), c.quote)) {
			t.Errorf("%s: %s (%v), want %s, saying %q", c.path, got, err, c.want, c.quote)
		}
	}
	if followed.Load() {
		t.Error("a redirect was followed")
	}
	// Nothing to send (the client is gone): done.
	if err := (&backchannel.Logouts{Tokens: fixedTokens{}}).Deliver(t.Context(), core.OutboxMessage{ID: 2}); err != nil {
		t.Errorf("nothing to send: %v", err)
	}
	// No answer at all is tried again.
	srv.Close()
	l := &backchannel.Logouts{Tokens: fixedTokens{uri: srv.URL + "/ok", key: key}}
	if err := l.Deliver(t.Context(), core.OutboxMessage{ID: 3}); err == nil || errors.Is(err, core.ErrUndeliverable) {
		t.Errorf("a relying party that is down: %v, want an error to try again", err)
	}
}
