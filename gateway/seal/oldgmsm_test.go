package seal_test

import (
	"strings"
	"testing"

	"onething/gateway/seal"
)

// Data sealed before the upgrade of github.com/emmansun/gmsm from v0.15.5
// to v0.41.1 must still open: stores hold blobs and key checks written by
// v0.15.5, and blind indexes made with its SM3.
//
// The values below were written by gmsm v0.15.5 (go1.26.8, the toolchain
// the gateway then ran on; go1.27.3 writes the same bytes), through a
// throwaway program that is not committed: a module outside this
// repository requiring github.com/emmansun/gmsm v0.15.5 (golang.org/x/sys
// v0.48.0), holding a verbatim copy of gateway/seal/seal.go at 2491b6d^
// whose only change was that the nonce of the n-th seal (n from 1) is the
// bytes n*16, n*16+1, … instead of random ones (so a rerun reproduces
// them). It built the keyring below and printed Seal of each plaintext
// under its context, KeyCheck("sm4old"), Index("idNumber", oldIDNumber)
// and IndexCheck("sm3old").
const (
	oldDataKey  = "ASNFZ4mrze/+3LqYdlQyEA=="                     // hex 0123456789abcdeffedcba9876543210
	oldIndexKey = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=" // the bytes 0x20 … 0x3f

	oldKeyCheck   = "ot1.sm4old.sm4-gcm.QEFCQ0RFRkdISUpL8Gc4gk-qZJBHLZXKB_Lrk6TRPlAbWR0LP-0By393ZIpG8g"
	oldIDNumber   = "51170219850307123X"
	oldIndex      = "sm3old.9cfd6571afb0e807b82fa1039f61a8622549796055b32e4c41f480559e404e6c"
	oldIndexCheck = "sm3old.2ac33ae4b6c0a2513b93cd68aaab69e76d51fe54df0d0f8a54ca5216529cc8d5"
)

var oldBlobs = []struct{ plain, context, blob string }{
	{
		`{"name":"张志明","idNumber":"51170219850307123X"}`, "01JOLDGMSM0000000000000001",
		"ot1.sm4old.sm4-gcm.EBESExQVFhcYGRobbOEMo9dNNR4b7dz87A5adEl97QT7_zLkoofnc1Bw9rZ2_EalcTfZ8-Wv3fKtNRdUv5KhvhXZrTysTwubA7ILPiczuyI",
	},
	{"", "01JOLDGMSM0000000000000002", "ot1.sm4old.sm4-gcm.ICEiIyQlJicoKSorcbNfbWYD7Uk6eLICc9cgZw"},
	{
		// 426 bytes: many blocks, the last one partial.
		strings.Repeat("四川省广安市广安区 一件事一次办 ", 9) + "end", "01JOLDGMSM0000000000000003",
		"ot1.sm4old.sm4-gcm.MDEyMzQ1Njc4OTo7aBEVpaFjBN-xFgY5keaYCOe28ye7tEE_P-Ae-44LnG48a9P5XxKyTTHUYEBkDX7gjc_iaw5tdtDeY1RZGPFZrG5EH18MIK2Tho03wGHUE9Owm0KWP9U1iOm8bESfic1OYub0zqMNIblLT2GHLFCg2WRRoN0u3LUnDnSfPXaV1Uc7dKLoKin6TbaTrmtUIRZAA9bsZxMApPOoTiV53wrI53KN0ucYiLFFOouBrlsPwtxNFRMNeatOvx94H1wt0HQUu2e3cs1bK1WxAbEZ6VUOq6GC9UmCdgqo0texn7hEKQEcuZJR3v6fW20nfmxDxpX3MYuv_jDyM4FmdHYgcNUKs15XzGqc8m77ldd-qY49wy5IXp-qbXSB8-4btNRQ5ZkdpE8i0w9UMWG8KJZxBu4HMD0CRVpMKFD5Dk3CvLF-lzHeNIxmjQ8e-QqgC-uxf-oVweW0Rs9FAobGVlq8dDa7_6Ux-u2fu-vJpTmgShDiPsBrhXTTVnrduXVTnMIfljS6-mgbzPyWWPjKYpfemv56erH5WZktyLxn4tBbW1170femgj_Oc908jQAZGjhhEyaafld2z84DjqdpiA",
	},
}

func oldKeyring(t *testing.T) *seal.Keyring {
	return keyring(t, seal.Config{
		CurrentKey:      "sm4old",
		Keys:            []seal.KeySpec{{ID: "sm4old", Algorithm: seal.SM4GCM, Key: oldDataKey}},
		CurrentIndexKey: "sm3old",
		IndexKeys:       []seal.KeySpec{{ID: "sm3old", Algorithm: seal.HMACSM3, Key: oldIndexKey}},
	})
}

func TestBlobsOfGmsmV0155StillOpen(t *testing.T) {
	k := oldKeyring(t)
	for _, c := range oldBlobs {
		plain, err := k.Open(c.blob, []byte(c.context))
		if err != nil || string(plain) != c.plain {
			t.Errorf("Open(blob of %d bytes written by gmsm v0.15.5) = %q, %v; want %q", len(c.plain), plain, err, c.plain)
		}
		// Still bound to its context.
		if _, err := k.Open(c.blob, []byte(c.context+"x")); err == nil {
			t.Errorf("the blob of %d bytes opens under another context", len(c.plain))
		}
	}
	// A store's key check written by v0.15.5 still verifies: the gateway
	// starts on a store made before the upgrade.
	if err := k.VerifyKeyCheck("sm4old", oldKeyCheck); err != nil {
		t.Errorf("key check written by gmsm v0.15.5: %v", err)
	}
}

func TestBlindIndexOfGmsmV0155Unchanged(t *testing.T) {
	// HMAC-SM3 must give the same index as before, or a search by ID
	// number misses every record indexed before the upgrade.
	k := oldKeyring(t)
	if got := k.Index("idNumber", oldIDNumber); got != oldIndex {
		t.Errorf("Index = %s, gmsm v0.15.5 made %s", got, oldIndex)
	}
	if err := k.VerifyIndexCheck("sm3old", oldIndexCheck); err != nil {
		t.Errorf("index check made by gmsm v0.15.5: %v", err)
	}
}
