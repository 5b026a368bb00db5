package redistest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the server die with the test binary, even when that
// is killed, and puts it in a process group of its own (killGroup).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// killGroup kills what the server forked (an AOF rewrite, a snapshot for
// a replica): such a child outlives a SIGKILL of the server and goes on
// writing into its directory, which the test's cleanup then fails to
// remove.
func killGroup(pid int) { syscall.Kill(-pid, syscall.SIGKILL) }
