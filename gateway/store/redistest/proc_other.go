//go:build !linux

package redistest

import "os/exec"

// dieWithParent: only Linux has a parent-death signal; elsewhere the
// test's cleanup stops the server.
func dieWithParent(*exec.Cmd) {}

func killGroup(int) {}
