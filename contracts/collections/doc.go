// Package collections holds the request collection integrators import into
// an API client (onething.postman_collection.json, Postman v2.1) and the
// pinned Newman that runs it; Variables gives the collection's variables,
// which `onething dev --postman-env` fills. Its tests check the
// collection's shape and coverage of contracts/openapi/gateway.yaml, and
// run it against the dev stack with that environment (collection_test.go).
package collections
