package auth

import _ "embed"

// openAPIDoc is the OpenAPI 3.1 description of the JSON sign-in API, the
// OAuth endpoints and the platform endpoints, written by hand and served
// at GET /auth/openapi.json. The face's tests check every answer of the
// operations it describes against it.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the face's OpenAPI description.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }
