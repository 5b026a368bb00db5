//go:build linux

package childproc

import "syscall"

// sysProcAttr makes a child die with its parent.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
