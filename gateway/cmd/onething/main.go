// Command onething runs the "扶残助困一件事" integration gateway.
//
//	onething dev      gateway + all mocks + embedded store, one process
//	onething serve    the gateway alone, from a configuration file
//	onething submit   send a submission, signed as the portal signs it
//	onething status   show (or watch) an application's consolidated status
package main

import (
	"fmt"
	"os"
)

const usage = `onething: the "扶残助困一件事" integration gateway

usage:
  onething dev    [--data DIR] [--port 8080] [--mock-port 8081] [--delay 300ms]
  onething serve  --config FILE.json
  onething submit --url URL --secret whsec_… [--id WEBHOOK_ID] [--new-ref] FILE.json
  onething status --url URL --token TOKEN [--watch] APPLICATION_ID

Run "onething COMMAND -h" for the flags of a command.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{"dev": dev, "serve": serve, "submit": submit, "status": status}
	run, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err := run(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "onething:", err)
		os.Exit(1)
	}
}
