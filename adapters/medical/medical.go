// Package medical is the adapter to the medical insurance system of the
// district Medical Security bureau: the individual contribution subsidy.
package medical

import (
	"onething/adapters/client"
	"onething/contracts"
)

// Path is the subsidy-case endpoint (contracts/openapi/dept-medical.yaml).
const Path = "/api/v1/medical-subsidy-cases"

// New returns the adapter; callbackPath is the gateway's path where medical
// posts its events ("": none, it is polled).
func New(c *client.Client, callbackPath string) *client.CaseAdapter {
	return client.NewCaseAdapter(c, Path, callbackPath, Request)
}

// Request maps a medical-subsidy task: the identity category and whether the
// premium was already paid in full; no certificate or address is needed.
func Request(app *contracts.Application, task *contracts.Task, callbackURL string) contracts.CaseRequest {
	req := client.CaseBase(app, task, callbackURL)
	req.Person = client.AssistancePerson(&app.Applicant)
	req.Medical = app.Requests.Medical
	return req
}
