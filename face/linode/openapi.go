package linode

import (
	_ "embed"
	"net/http"

	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/reqlog"
)

// openAPIDoc is the face's OpenAPI description as profiled serves it:
// Linode's, with the real API's deviations written in, made by the test
// TestServedOpenAPI from testdata/linode-profile-openapi.yaml. The
// conformance tests check every answer against it.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the face's OpenAPI description.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

var document = httpx.Document(openAPIDoc)

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	reqlog.SetRoute(r.Context(), "GET /openapi.json")
	document(w, r)
}
