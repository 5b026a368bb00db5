// Package zh holds the Chinese documentation for integrators and operators
// (README.md, portal.md, departments.md, operations.md). Its test keeps it in
// step with the English README.md: both must name the same endpoints,
// commands, configuration keys and error codes (docs_test.go).
package zh
