package contracts_test

import (
	"testing"
	"time"

	"onething/contracts"
)

// Departments on the SM3 scheme keep their keys and secrets across the
// upgrade of github.com/emmansun/gmsm from v0.15.5 to v0.41.1: an SM4-GCM
// envelope sealed by v0.15.5 still opens, and HMAC-SM3 signatures, SM3
// digests and SM4 key ids are the same.
//
// The values below were written by gmsm v0.15.5 (go1.26.8, the toolchain
// the gateway then ran on; go1.27.3 writes the same bytes), through a
// throwaway program that is not committed: a module outside this
// repository requiring github.com/emmansun/gmsm v0.15.5 (golang.org/x/sys
// v0.48.0), holding a verbatim copy of contracts/signsm.go at 2491b6d^
// whose only change was a fixed nonce (the bytes 0x10 … 0x1b) in place of
// a random one. It printed SealSM4(oldSM4Kid, key, "POST", oldPath,
// oldBody), SM4KeyID(key), SM3Hex of the body and of the envelope, and
// DeptSignatureSM3 of the cases in TestSignaturesOfGmsmV0155Unchanged.
const (
	oldSM4Key   = "0123456789abcdeffedcba9876543210" // exampleSM4Key
	oldSM4Kid   = "sm4-2026-10"
	oldSM4KeyID = "sm4-13bcec3a"
	oldPath     = "/api/v1/certificate-cases"
	oldBody     = `{"caseNo":"CDPF5117022026103100007","applicant":{"name":"张志明"}}`
	oldEnvelope = `{"alg":"SM4-GCM","kid":"sm4-2026-10","nonce":"EBESExQVFhcYGRob","ciphertext":"bOEBo8lNWUsbMkIfTeGLp+DC+BjrpGaY4du1JRNi/KRz+lW+Y2SYurHzjqDzdgRc9+jtomtrNZxnW1kkmAwCRAuGAnKMoPfQFi9lORsIE28h55TOsw=="}`
	oldSecret   = "dept-secret-2026"
)

func TestSM4EnvelopeOfGmsmV0155StillOpens(t *testing.T) {
	key, err := contracts.ParseSM4Key(oldSM4Key)
	if err != nil {
		t.Fatal(err)
	}
	if id := contracts.SM4KeyID(key); id != oldSM4KeyID {
		t.Errorf("SM4KeyID = %s, gmsm v0.15.5 made %s", id, oldSM4KeyID)
	}
	keys := map[string][]byte{oldSM4Kid: key}
	plain, kid, err := contracts.OpenSM4(keys, "POST", oldPath, []byte(oldEnvelope))
	if err != nil || kid != oldSM4Kid || string(plain) != oldBody {
		t.Fatalf("OpenSM4(envelope sealed by gmsm v0.15.5) = %q, %q, %v; want %q", plain, kid, err, oldBody)
	}
	// Still bound to its operation.
	if _, _, err := contracts.OpenSM4(keys, "PUT", oldPath, []byte(oldEnvelope)); err == nil {
		t.Error("the old envelope opens for another method")
	}
}

func TestSignaturesOfGmsmV0155Unchanged(t *testing.T) {
	if got, want := contracts.SM3Hex([]byte(oldBody)), "accf8618afbdc018e3d7b27c326501bb37857ab7f1d81f4b247a32a277f859d5"; got != want {
		t.Errorf("SM3 of the body = %s, gmsm v0.15.5 made %s", got, want)
	}
	if got, want := contracts.SM3Hex([]byte(oldEnvelope)), "727ce082d700ec3d1eff3d21439081e1e5dea1ab4985d0d90d5fdf053bd4756c"; got != want {
		t.Errorf("SM3 of the envelope = %s, gmsm v0.15.5 made %s", got, want)
	}
	for _, c := range []struct {
		method, path, stamp, nonce, body, want string
	}{
		{"post", oldPath, "1767225600", "nonce-0001", oldBody, "e2c7e904605f21d9a5ee5a6522699691759177d864b36bdc67e6610f3af5b893"},
		{"POST", oldPath, "1767225600", "nonce-0002", oldEnvelope, "796ad62005eec8a9b04020ed48bb4b16a7eef606d7ed9e651deb87c4f80e6b41"},
		{"GET", oldPath + "/CDPF5117022026103100007", "1767225601", "nonce-0003", "", "668d7191dfe0bc6d6aaecfb30eb9185efa3bc2abe46c9eaa9b3e5c09cfd73e19"},
	} {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		if got := contracts.DeptSignatureSM3(oldSecret, c.method, c.path, c.stamp, c.nonce, body); got != c.want {
			t.Errorf("%s %s %s: HMAC-SM3 = %s, gmsm v0.15.5 made %s", c.method, c.path, c.nonce, got, c.want)
		}
		// And a department verifying with today's code accepts it.
		if err := contracts.VerifyDeptSignatureSM3(oldSecret, c.method, c.path, c.stamp, c.nonce, c.want, body, time.Unix(1767225600, 0)); err != nil {
			t.Errorf("%s %s %s: the signature of gmsm v0.15.5 is refused: %v", c.method, c.path, c.nonce, err)
		}
	}
}
