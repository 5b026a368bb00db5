package devstack

import (
	"encoding/json"
	"strings"

	"onething/contracts/collections"
)

// PostmanEnvironment is a Postman environment (v2.1 export format) for the
// request collection in contracts/collections: exactly its variables,
// filled from these credentials (`onething dev --postman-env FILE`), so an
// integrator imports one file instead of copying the banner by hand.
func (cr Credentials) PostmanEnvironment() ([]byte, error) {
	vars, err := collections.Variables()
	if err != nil {
		return nil, err
	}
	type value struct {
		Key     string `json:"key"`
		Value   string `json:"value"`
		Type    string `json:"type"`
		Enabled bool   `json:"enabled"`
	}
	env := struct {
		Name   string  `json:"name"`
		Values []value `json:"values"`
		Scope  string  `json:"_postman_variable_scope"`
	}{Name: "扶残助困一件事 开发环境 / onething dev " + cr.GatewayURL, Values: []value{}, Scope: "environment"}
	for _, v := range vars {
		val, ok := cr.postmanValue(v.Key)
		if !ok {
			val = v.Value // not a credential (pollLimit): the collection's own default
		}
		typ := "default"
		if strings.HasSuffix(v.Key, "Secret") || strings.HasSuffix(v.Key, "Token") {
			typ = "secret" // Postman masks it on screen
		}
		env.Values = append(env.Values, value{Key: v.Key, Value: val, Type: typ, Enabled: true})
	}
	return json.MarshalIndent(env, "", "  ")
}

// postmanValue is the credential a collection variable names: the portal's
// and the tokens by name, a department's as {dept}EventSecret, {dept}Url,
// {dept}AppKey, {dept}AppSecret (hrss and medical: the home county's
// system, as the collection's descriptions say).
func (cr Credentials) postmanValue(key string) (string, bool) {
	switch key {
	case "baseUrl":
		return cr.GatewayURL, true
	case "portalSecret":
		return cr.Portal.SigningSecret, true
	case "readToken":
		return cr.Tokens.Read, true
	case "adminToken":
		return cr.Tokens.Admin, true
	}
	for _, d := range cr.Departments {
		if d.Endpoint != d.Dept {
			continue // another county's system
		}
		switch key {
		case d.Dept + "EventSecret":
			return d.EventSecret, true
		case d.Dept + "Url":
			return d.BaseURL, true
		case d.Dept + "AppKey":
			return d.AppKey, true
		case d.Dept + "AppSecret":
			return d.AppSecret, true
		}
	}
	return "", false
}
