package pace

import (
	_ "embed"
	"net/http"

	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/reqlog"
)

// openAPIDoc is the face's OpenAPI 3.1 description, written by hand (the
// seed documents the API only in prose), served at GET /user/openapi.json.
// The end-to-end tests check every answer of the face against it.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPIPath is where the face serves its description.
const OpenAPIPath = "/user/openapi.json"

// OpenAPI returns the face's OpenAPI description.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

var document = httpx.Document(openAPIDoc)

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	reqlog.SetRoute(r.Context(), "GET "+OpenAPIPath)
	document(w, r)
}
