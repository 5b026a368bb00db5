//go:build linux

package bench

import "syscall"

// sysProcAttr makes a child die with the bench.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
