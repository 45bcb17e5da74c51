package clientjwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"
)

// The key sets clients publish at their jwks_uri (RFC 7591 2), read by
// each replica and kept in its memory: a copy is no state replicas must
// share, since each reads the same URL, and a restart only reads it
// again.
const (
	// A set is kept as long as its Cache-Control max-age says, within
	// these bounds, and defaultKeep without one: long enough not to read
	// it at each request, short enough that a key the client withdrew
	// stops working soon.
	minKeep, maxKeep, defaultKeep = time.Minute, time.Hour, 5 * time.Minute
	// minReread is the least time between two reads of one URL, so that
	// assertions naming unknown keys, or a URL that fails, cannot make
	// profiled hammer the client's server. A failed read is kept as long.
	minReread = 10 * time.Second
	// readTimeout bounds one read, whoever waits for it.
	readTimeout = 5 * time.Second
	// maxPublishedBytes and maxPublishedKeys bound a published set, which
	// may hold keys for other uses than this one, and old keys kept while
	// the client rotates.
	maxPublishedBytes = 64 << 10
	maxPublishedKeys  = 20
	// maxCachedSets bounds the URLs kept: past it, the expired ones go.
	maxCachedSets = 1024
)

// publishedSet is what one read of a jwks_uri gave: the usable keys, as a
// JWK Set, or why there are none.
type publishedSet struct {
	jwks    string
	err     error
	read    time.Time
	expires time.Time
}

// keyCache reads and keeps the published sets.
type keyCache struct {
	client *http.Client
	now    func() time.Time
	reads  singleflight.Group // one read of a URL at a time, whoever asks
	mu     sync.Mutex
	sets   map[string]publishedSet
}

// KeySet returns the JWK Set of the public signing keys published at uri:
// the copy kept while it is fresh, else a new read; fresh reads it again
// unless the last read was under minReread ago.
func (k *Keys) KeySet(ctx context.Context, uri string, fresh bool) (string, error) {
	c := &k.cache
	c.mu.Lock()
	set, ok := c.sets[uri]
	now := c.now()
	c.mu.Unlock()
	if ok && (now.Before(set.expires) && !fresh || now.Sub(set.read) < minReread) {
		return set.jwks, set.err
	}
	// The read outlives the request that started it, which others may
	// be waiting on too, up to readTimeout.
	v, _, _ := c.reads.Do(uri, func() (any, error) {
		set := c.read(context.WithoutCancel(ctx), uri)
		if k.OnRead != nil {
			k.OnRead(uri, set.err)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.sets) >= maxCachedSets {
			for u, s := range c.sets {
				if !set.read.Before(s.expires) {
					delete(c.sets, u)
				}
			}
		}
		c.sets[uri] = set
		return set, nil
	})
	set = v.(publishedSet)
	return set.jwks, set.err
}

// read GETs uri and keeps its usable keys, for as long as it says.
func (c *keyCache) read(ctx context.Context, uri string) publishedSet {
	now := c.now()
	failed := func(err error) publishedSet {
		return publishedSet{err: err, read: now, expires: now.Add(minReread)}
	}
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return failed(err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	req.Header.Set("User-Agent", "profiled-client-keys")
	resp, err := c.client.Do(req)
	if err != nil {
		return failed(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPublishedBytes+1))
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return failed(fmt.Errorf("GET %s answered %s, a redirect to %q, which is not followed: register the URL the keys are at",
			uri, resp.Status, resp.Header.Get("Location")))
	case resp.StatusCode != http.StatusOK:
		return failed(fmt.Errorf("GET %s answered %s", uri, resp.Status))
	case err != nil:
		return failed(fmt.Errorf("GET %s: %w", uri, err))
	case len(body) > maxPublishedBytes:
		return failed(fmt.Errorf("GET %s: the key set is over %d KiB", uri, maxPublishedBytes>>10))
	}
	jwks, err := usableKeys(body)
	if err != nil {
		return failed(fmt.Errorf("GET %s: %w", uri, err))
	}
	return publishedSet{jwks: jwks, read: now, expires: now.Add(keepFor(resp.Header.Get("Cache-Control")))}
}

// usableKeys keeps the keys of a published JWK Set that may sign an
// assertion, leaving out those for encryption or of a kind that cannot
// sign. A private key or a weak one fails the whole set: the client's
// keys are then not what it meant to publish.
func usableKeys(body []byte) (string, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return "", errors.New(`the answer is not a JWK Set ({"keys": [...]})`)
	}
	if len(set.Keys) > maxPublishedKeys {
		return "", fmt.Errorf("the key set holds over %d keys", maxPublishedKeys)
	}
	var usable jose.JSONWebKeySet
	for i, key := range set.Keys {
		if key.Use != "" && key.Use != "sig" {
			continue
		}
		switch err := checkKey(key); {
		case errors.Is(err, errCannotSign):
			continue
		case err != nil:
			return "", fmt.Errorf("key %d %w", i+1, err)
		}
		usable.Keys = append(usable.Keys, key)
	}
	if len(usable.Keys) == 0 {
		return "", errors.New("the key set holds no public signing key")
	}
	b, err := json.Marshal(usable)
	return string(b), err
}

// keepFor is how long to keep a set whose answer had Cache-Control cc.
func keepFor(cc string) time.Duration {
	for _, directive := range strings.Split(cc, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
		if !strings.EqualFold(name, "max-age") {
			continue
		}
		seconds, err := strconv.Atoi(strings.Trim(value, `"`))
		if err != nil {
			break
		}
		if seconds > int(maxKeep/time.Second) { // before it could overflow
			return maxKeep
		}
		return max(time.Duration(seconds)*time.Second, minKeep)
	}
	return defaultKeep
}
