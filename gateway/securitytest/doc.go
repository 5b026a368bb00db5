// Package securitytest holds end-to-end security tests of the whole chain
// (gateway/devstack): no personal data in logs or replies.
package securitytest
