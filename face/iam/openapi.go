package iam

import _ "embed"

// openAPIDoc is the face's OpenAPI 3.1 description, written by hand: the
// models, the rules of each operation, the scopes they need and the
// errors they answer. The end-to-end test checks every response against it.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the face's OpenAPI description.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }
