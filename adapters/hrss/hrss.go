// Package hrss is the adapter to the residents pension system of the
// district HR & Social Security bureau: the pension contribution subsidy.
package hrss

import (
	"onething/adapters/client"
	"onething/contracts"
)

// Path is the subsidy-case endpoint (contracts/openapi/dept-hrss.yaml).
const Path = "/api/v1/pension-subsidy-cases"

// New returns the adapter; callbackPath is the gateway's path where hrss
// posts its events ("": none, it is polled).
func New(c *client.Client, callbackPath string) *client.CaseAdapter {
	return client.NewCaseAdapter(c, Path, callbackPath, Request)
}

// Request maps a pension task: HRSS grants it from shared data (免审即享):
// the assistance groups and, for severe disability, the certificate.
func Request(app *contracts.Application, task *contracts.Task, callbackURL string) contracts.CaseRequest {
	return client.AssistanceCase(app, task, callbackURL)
}
