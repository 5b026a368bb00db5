// Command onething runs the "扶残助困一件事" integration gateway.
//
//	onething dev      gateway + all mocks + embedded store, one process
//	onething serve    the gateway alone, from a configuration file
//	onething mocks    the department mocks and the portal receiver alone
//	onething submit   send a submission (or supplement, withdrawal), signed as the portal signs it
//	onething status   show (or watch) an application's consolidated status
//	onething deadletters  list, inspect and replay dead letters (operators)
//	onething config check  validate a configuration, print it with secrets masked
//	onething bench    loopback benchmark of intake, end to end and growth (docs/BENCHMARKS.md)
package main

import (
	"fmt"
	"os"
)

const usage = `onething: the "扶残助困一件事" integration gateway

usage:
  onething dev    [--data DIR] [--port 8080] [--mock-port 8081] [--delay 300ms]
  onething serve  --config FILE.yaml|FILE.json [--store redis://host:6379/0] [--log-format json|text] [--log-level info]
  onething mocks  [--host 127.0.0.1] [--port 0] [--delay 50ms] [--latency 0] [--out FILE.json]
  onething submit --url URL --secret whsec_… [--id WEBHOOK_ID] [--new-ref] [--path PATH] FILE.json
  onething status --url URL --token TOKEN [--watch] APPLICATION_ID
  onething deadletters --url URL --token ADMIN_TOKEN list [--dept D] | show TASK | replay TASK | replay --dept D | replay --all
  onething config check [--json] FILE.yaml
  onething bench  [--backend bolt,redis] [--phases intake,baseline,e2e,growth] [--grow-to 1000000] [--json] [--doc FILE.md]

Run "onething COMMAND -h" for the flags of a command.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{"dev": dev, "serve": serve, "mocks": mocksCmd, "submit": submit, "status": status, "deadletters": deadletters,
		"config": configCmd, "bench": benchCmd, "bench-child": benchChild}
	run, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	tuneGC()
	if err := run(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "onething:", err)
		os.Exit(1)
	}
}
