package contracts

import (
	"context"
	"strings"
)

// ErasedUnsettled is a dead letter's lastError when the application's
// personal data was erased while its dispatch, which may have reached the
// department, still waited to be settled: the request cannot be sent
// again, so an operator settles it with the department by hand and then
// replays it to clear it (the replay sends nothing). The error it
// replaces, if any, follows it (ErasedUnsettledAfter).
const ErasedUnsettled = "个人信息已删除，此前的派单可能已送达部门：请与部门核实并撤销其办件，然后重发以清除本条 / " +
	"personal data erased while an earlier case request may have reached the department: settle it with the department by hand, then replay to clear this"

// ErasedUnsettledAfter is ErasedUnsettled with the error the dispatch
// failed with before ("" or already marked: unchanged).
func ErasedUnsettledAfter(lastError string) string {
	if strings.HasPrefix(lastError, ErasedUnsettled) {
		return lastError // marked already, the earlier error with it
	}
	if lastError == "" {
		return ErasedUnsettled
	}
	return ErasedUnsettled + "（此前 / before: " + lastError + "）"
}

type resendKey struct{}

// WithResendCheck returns ctx carrying ok, which a client asks before it
// sends a request again within one call (its in-call retries): a request
// that carries personal data must not go again once the application is
// erased (an outside tester's department got two full case requests
// after the erasure was committed).
func WithResendCheck(ctx context.Context, ok func() bool) context.Context {
	return context.WithValue(ctx, resendKey{}, ok)
}

// MayResend reports whether a request of ctx may be sent again (true when
// no check was given).
func MayResend(ctx context.Context) bool {
	ok, _ := ctx.Value(resendKey{}).(func() bool)
	return ok == nil || ok()
}
