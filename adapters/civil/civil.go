// Package civil is the adapter to the 全国残疾人两项补贴信息系统 of the
// district Civil Affairs bureau: the living and nursing subsidies.
package civil

import (
	"onething/adapters/client"
	"onething/contracts"
)

// Path is the subsidy-case endpoint (contracts/openapi/dept-civil.yaml).
const Path = "/api/v1/subsidy-cases"

// New returns the adapter; callbackPath is the gateway's path where civil
// posts its events ("": none, it is polled).
func New(c *client.Client, callbackPath string) *client.CaseAdapter {
	return client.NewCaseAdapter(c, Path, callbackPath, Request)
}

// Request maps a subsidy task: Civil Affairs decides from the applicant's
// registration and 低保 status and the certificate face data (from cdpf).
func Request(app *contracts.Application, task *contracts.Task, callbackURL string) contracts.CaseRequest {
	return client.AssistanceCase(app, task, callbackURL)
}
