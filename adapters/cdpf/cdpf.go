// Package cdpf is the adapter to the 全国残联信息化服务平台 of the district
// Disabled Persons' Federation: every certificate business goes there.
package cdpf

import (
	"onething/adapters/client"
	"onething/contracts"
)

// Path is the certificate-case endpoint (contracts/openapi/dept-cdpf.yaml).
const Path = "/api/v1/certificate-cases"

// New returns the adapter; callbackPath is the gateway's path where cdpf
// posts its events ("": none, it is polled).
func New(c *client.Client, callbackPath string) *client.CaseAdapter {
	return client.NewCaseAdapter(c, Path, callbackPath, Request)
}

// Request maps a certificate task: cdpf handles the whole person (the
// certificate application form needs address, guardian and delivery).
func Request(app *contracts.Application, task *contracts.Task, callbackURL string) contracts.CaseRequest {
	a := &app.Applicant
	req := client.CaseBase(app, task, callbackURL)
	p := client.AssistancePerson(a)
	p.BirthDate, p.Ethnicity, p.Mobile = a.BirthDate, a.Ethnicity, a.Mobile
	addr := a.Address
	p.Address, p.HouseholdType, p.Guardian = &addr, string(a.HouseholdType), a.Guardian
	req.Person = p
	req.Business = app.Requests.Certificate
	req.Procedure = task.Procedure
	req.Certificate = a.Certificate
	d := app.Delivery
	req.Delivery = &d
	return req
}
