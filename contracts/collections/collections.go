package collections

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"
)

//go:embed onething.postman_collection.json
var postmanCollection []byte

// Variable is one of the collection's variables: its name and the value the
// file ships (empty for a secret, which is never committed).
type Variable struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Variables are the Postman collection's variables, in its order: what an
// environment for it must fill (`onething dev --postman-env`).
var Variables = sync.OnceValues(func() ([]Variable, error) {
	var col struct {
		Variable []Variable `json:"variable"`
	}
	if err := json.Unmarshal(postmanCollection, &col); err != nil {
		return nil, fmt.Errorf("the Postman collection: %w", err)
	}
	return col.Variable, nil
})
