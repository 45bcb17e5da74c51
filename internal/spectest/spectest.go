// Package spectest checks a face's wire behaviour against its OpenAPI
// description: a Recorder (an http.RoundTripper) keeps every exchange a
// test's clients make with the real server, and Validate checks each
// response against the operation it belongs to and that every operation of
// the description was exercised.
package spectest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Exchange is one request and its response, as the client saw them.
type Exchange struct {
	Method, URL string
	ReqHeader   http.Header
	ReqBody     []byte
	Status      int
	RespHeader  http.Header
	RespBody    []byte
}

// Recorder is an http.RoundTripper that keeps every exchange for
// validation. Next sends the requests.
type Recorder struct {
	Next http.RoundTripper
	mu   sync.Mutex
	log  []Exchange
}

// RoundTrip implements http.RoundTripper.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := r.Next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	r.mu.Lock()
	r.log = append(r.log, Exchange{req.Method, req.URL.String(), req.Header.Clone(), body, resp.StatusCode, resp.Header.Clone(), respBody})
	r.mu.Unlock()
	return resp, nil
}

// Take returns the exchanges recorded so far and forgets them.
func (r *Recorder) Take() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.log
	r.log = nil
	return out
}

// Checks are what a face adds to Validate.
type Checks struct {
	// Skip reports an exchange the description does not describe (another
	// face's, an unknown path): it is not validated. Nil skips none.
	Skip func(Exchange) bool
	// Exchange checks, for every exchange validated, what the description
	// cannot say (an exact Content-Type, an empty body), reporting with
	// t.Errorf. Nil checks nothing more.
	Exchange func(t *testing.T, ex Exchange)
	// MultiError reports every fault of a response, not just the first.
	MultiError bool
	// Some is for a log that exercises only some operations: those it
	// has are validated, and none is required.
	Some bool
}

// Validate checks every exchange of log against doc, whose servers must
// name the test server: the operation exists, and the response's status,
// headers and body are what it declares. Every operation of doc must have
// been exercised, unless c.Some.
func Validate(t *testing.T, doc *openapi3.T, log []Exchange, c Checks) {
	t.Helper()
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	validated := 0
	for _, ex := range log {
		if c.Skip != nil && c.Skip(ex) {
			continue
		}
		req, err := http.NewRequest(ex.Method, ex.URL, bytes.NewReader(ex.ReqBody))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = ex.ReqHeader
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s %s: no operation in the spec: %v", ex.Method, ex.URL, err)
			continue
		}
		checked[route.Operation.OperationID] = true
		if c.Exchange != nil {
			c.Exchange(t, ex)
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: c.MultiError}}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: ex.Status,
			Header: ex.RespHeader, Body: io.NopCloser(bytes.NewReader(ex.RespBody)), Options: in.Options}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s %s -> %d %s\n%v", ex.Method, ex.URL, ex.Status, truncate(ex.RespBody), err)
		}
		validated++
	}
	var missing []string
	for _, path := range doc.Paths.InMatchingOrder() {
		for _, op := range doc.Paths.Value(path).Operations() {
			if !checked[op.OperationID] {
				missing = append(missing, op.OperationID)
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 && !c.Some {
		t.Errorf("operations never exercised: %s", strings.Join(missing, ", "))
	}
	t.Logf("validated %d responses covering %d operations", validated, len(checked))
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// Load reads an OpenAPI 3.1 description with kin-openapi (which validates
// 3.1 schemas as JSON Schema 2020-12), checks that it is valid, and points
// it at serverURL, for Validate.
func Load(t testing.TB, description []byte, serverURL string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(description)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("the description is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the description is not valid: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: serverURL}}
	return doc
}

// Capture is the server-side Recorder: a middleware that keeps every
// exchange next serves, whatever client made it (a browser, an OAuth
// library). Request bodies are kept up to captureLimit bytes.
type Capture struct {
	Recorder
}

const captureLimit = 1 << 20

// Wrap returns next, recording into c.
func (c *Capture) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(io.LimitReader(r.Body, captureLimit))
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		}
		rec := &capturingWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if rec.header == nil {
			rec.header = w.Header().Clone()
		}
		ex := Exchange{r.Method, "http://" + r.Host + r.URL.RequestURI(), r.Header.Clone(), body, rec.status, rec.header, rec.body.Bytes()}
		c.mu.Lock()
		c.log = append(c.log, ex)
		c.mu.Unlock()
	})
}

// capturingWriter keeps the status, the headers as sent and the body.
type capturingWriter struct {
	http.ResponseWriter
	status int
	header http.Header
	body   bytes.Buffer
}

func (c *capturingWriter) WriteHeader(code int) {
	if c.header == nil {
		c.status, c.header = code, c.ResponseWriter.Header().Clone()
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *capturingWriter) Write(b []byte) (int, error) {
	if c.header == nil {
		c.WriteHeader(http.StatusOK)
	}
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

func (c *capturingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
