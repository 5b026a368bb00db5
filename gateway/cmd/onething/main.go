// Command onething runs the "扶残助困一件事" integration gateway.
//
//	onething dev          gateway + all mocks + embedded store, one process
//	onething serve        the gateway alone, from a configuration file
//	onething mocks        the department mocks and the portal receiver alone
//	onething submit       send a submission (or supplement, withdrawal), signed as the portal signs it
//	onething status       show (or watch) an application's consolidated status
//	onething deadletters  list, inspect and replay dead letters (operators)
//	onething config check validate a configuration, print it with secrets masked
//	onething secrets init make a random set of the gateway's secrets (one file each)
//	onething console adduser  a window console account with its bcrypt hash (console.accountsFile)
//	onething bench        loopback benchmark of intake, end to end and growth (docs/BENCHMARKS.md)
//	onething version      version, commit, build date and Go version of this binary
//
// Exit status: 0 done (help included), 1 failed, 2 usage error. Each
// command is in its own file; cli.go says how to add one.
package main

import "os"

func main() {
	tuneGC()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
