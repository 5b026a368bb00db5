// Package opstest holds the operations tests: the deploy/ manifests
// parsed and checked for the essentials (no container engine runs here),
// a real `onething serve` stopped with SIGTERM under load losing nothing,
// and a short run of `onething bench`. The onething binary is built once
// for the package.
package opstest
