package contracts_test

import (
	"bytes"
	"crypto/cipher"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"

	"onething/contracts"
)

// The SM4 envelope example (case-request-cdpf-sm4.json) is the example cdpf
// case request sealed under this key (the key of the SM4-GCM test vector of
// RFC 8998) and key id. Regenerate it with
// ONETHING_WRITE_EXAMPLES=1 go test -run TestSM4EnvelopeExample ./contracts/
const (
	exampleSM4Key = "0123456789abcdeffedcba9876543210"
	exampleSM4Kid = "sm4-2026-10"
	exampleSM4Env = "case-request-cdpf-sm4.json"
)

func init() {
	// The envelope example's Go type (see goTypes and schemaTypes in
	// spec_test.go).
	goTypes["SM4Envelope"] = func() any { return new(contracts.SM4Envelope) }
	schemaTypes["SM4Envelope"] = struct {
		typ    any
		subset bool
	}{contracts.SM4Envelope{}, false}
}

// TestSMKnownAnswers pins the national-crypto primitives to published
// vectors: SM3 of "abc" (GB/T 32905 appendix A) and the SM4-GCM vector of
// RFC 8998 appendix A.
func TestSMKnownAnswers(t *testing.T) {
	if got := contracts.SM3Hex([]byte("abc")); got != "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" {
		t.Errorf("SM3(abc) = %s", got)
	}
	h := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	block, err := sm4.NewCipher(h("0123456789ABCDEFFEDCBA9876543210"))
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	pt := h("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA")
	got := gcm.Seal(nil, h("00001234567800000000ABCD"), pt, h("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2"))
	want := h("17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D" +
		"83DE3541E4C2B58177E065A9BF7B62EC")
	if !bytes.Equal(got, want) {
		t.Errorf("SM4-GCM vector:\n got %x\nwant %x", got, want)
	}
	// HMAC-SM3 is RFC 2104 HMAC over SM3: recompute it by the definition.
	key, msg := []byte("dept-secret"), []byte("POST\n/p\n1\nn\n"+contracts.SM3Hex(nil))
	ipad, opad := make([]byte, sm3.BlockSize), make([]byte, sm3.BlockSize)
	copy(ipad, key)
	copy(opad, key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	inner := sm3.Sum(append(ipad, msg...))
	outer := sm3.Sum(append(opad, inner[:]...))
	if sig := contracts.DeptSignatureSM3("dept-secret", "post", "/p", "1", "n", nil); sig != hex.EncodeToString(outer[:]) {
		t.Errorf("HMAC-SM3 %s, by definition %x", sig, outer)
	}
}

func TestSM3SignatureChecks(t *testing.T) {
	now := time.Now()
	ts := func(d time.Duration) string { return jsonNum(now.Add(d).Unix()) }
	body := []byte(`{"taskId":"T"}`)
	sig := contracts.DeptSignatureSM3("s", "POST", "/p", ts(0), "nonce-1", body)
	if sig == contracts.DeptSignature("s", "POST", "/p", ts(0), "nonce-1", body) {
		t.Fatal("SM3 and SHA-256 signatures agree")
	}
	cases := []struct {
		name                       string
		secret, path, stamp, nonce string
		sig                        string
		body                       []byte
		want                       error
	}{
		{"good", "s", "/p", ts(0), "nonce-1", sig, body, nil},
		{"other secret", "t", "/p", ts(0), "nonce-1", sig, body, contracts.ErrBadSignature},
		{"other path", "s", "/q", ts(0), "nonce-1", sig, body, contracts.ErrBadSignature},
		{"other body", "s", "/p", ts(0), "nonce-1", sig, []byte(`{}`), contracts.ErrBadSignature},
		{"no nonce", "s", "/p", ts(0), "", sig, body, contracts.ErrBadSignature},
		{"stale", "s", "/p", ts(-6 * time.Minute), "nonce-1", contracts.DeptSignatureSM3("s", "POST", "/p", ts(-6*time.Minute), "nonce-1", body), body, contracts.ErrStaleTimestamp},
		{"future", "s", "/p", ts(6 * time.Minute), "nonce-1", contracts.DeptSignatureSM3("s", "POST", "/p", ts(6*time.Minute), "nonce-1", body), body, contracts.ErrStaleTimestamp},
		{"no timestamp", "s", "/p", "", "nonce-1", sig, body, contracts.ErrStaleTimestamp},
	}
	for _, c := range cases {
		err := contracts.VerifyDeptSignatureSM3(c.secret, "POST", c.path, c.stamp, c.nonce, c.sig, c.body, now)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if err != nil && !errors.Is(err, contracts.ErrBadSignature) {
			t.Errorf("%s: %v does not wrap ErrBadSignature", c.name, err)
		}
	}
}

func jsonNum(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestSM4Envelope(t *testing.T) {
	key, _ := contracts.ParseSM4Key(exampleSM4Key)
	other, _ := contracts.ParseSM4Key("fedcba98765432100123456789abcdef")
	plain := []byte(`{"taskId":"T","person":{"idNumber":"51170219850307123X"}}`)
	env, err := contracts.SealSM4("k1", key, "POST", "/api/v1/certificate-cases", plain)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := contracts.SealSM4("k1", key, "POST", "/api/v1/certificate-cases", plain)
	if bytes.Equal(env, again) || bytes.Contains(env, []byte("51170219850307123X")) {
		t.Fatalf("envelope %s", env)
	}
	keys := map[string][]byte{"k1": key, "k0": other}
	got, kid, err := contracts.OpenSM4(keys, "POST", "/api/v1/certificate-cases", env)
	if err != nil || kid != "k1" || !bytes.Equal(got, plain) {
		t.Fatalf("open: %s %s %v", got, kid, err)
	}
	var e contracts.SM4Envelope
	json.Unmarshal(env, &e)
	mutate := func(f func(*contracts.SM4Envelope)) []byte {
		c := e
		f(&c)
		b, _ := json.Marshal(c)
		return b
	}
	bad := map[string][]byte{
		"unknown kid":          mutate(func(c *contracts.SM4Envelope) { c.Kid = "k9" }),
		"wrong key":            mutate(func(c *contracts.SM4Envelope) { c.Kid = "k0" }),
		"other alg":            mutate(func(c *contracts.SM4Envelope) { c.Alg = "AES-GCM" }),
		"short nonce":          mutate(func(c *contracts.SM4Envelope) { c.Nonce = "AAAA" }),
		"nonce not base64":     mutate(func(c *contracts.SM4Envelope) { c.Nonce = "!!!!!!!!!!!!!!!!" }),
		"truncated ciphertext": mutate(func(c *contracts.SM4Envelope) { c.Ciphertext = c.Ciphertext[:8] }),
		"plaintext":            plain,
		"extra field":          append(bytes.TrimSuffix(env, []byte("}")), []byte(`,"x":1}`)...),
		"empty":                nil,
	}
	for name, b := range bad {
		if _, _, err := contracts.OpenSM4(keys, "POST", "/api/v1/certificate-cases", b); !errors.Is(err, contracts.ErrEnvelope) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The additional data binds method and path.
	if _, _, err := contracts.OpenSM4(keys, "POST", "/api/v1/certificate-cases/X/cancel", env); !errors.Is(err, contracts.ErrEnvelope) {
		t.Errorf("moved envelope opened: %v", err)
	}
	for _, k := range []string{"", "0123", "zz23456789abcdeffedcba9876543210", exampleSM4Key + "00"} {
		if _, err := contracts.ParseSM4Key(k); err == nil {
			t.Errorf("ParseSM4Key(%q) accepted", k)
		}
	}
	if id := contracts.SM4KeyID(key); len(id) != 12 || id == contracts.SM4KeyID(other) {
		t.Errorf("SM4KeyID %q", id)
	}
}

// TestSM4EnvelopeExample: the example envelope opens, with the documented
// key, to the example cdpf case request.
func TestSM4EnvelopeExample(t *testing.T) {
	key, _ := contracts.ParseSM4Key(exampleSM4Key)
	raw, err := contracts.Example("case-request-cdpf.json")
	if err != nil {
		t.Fatal(err)
	}
	var req contracts.CaseRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(req) // as the gateway sends it
	if os.Getenv("ONETHING_WRITE_EXAMPLES") == "1" {
		env, err := contracts.SealSM4(exampleSM4Kid, key, "POST", "/api/v1/certificate-cases", plain)
		if err != nil {
			t.Fatal(err)
		}
		var pretty bytes.Buffer
		json.Indent(&pretty, env, "", "  ")
		pretty.WriteByte('\n')
		if err := os.WriteFile(filepath.Join("examples", exampleSM4Env), pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env, err := contracts.Example(exampleSM4Env)
	if err != nil {
		t.Fatal(err)
	}
	got, kid, err := contracts.OpenSM4(map[string][]byte{exampleSM4Kid: key}, "POST", "/api/v1/certificate-cases", bytes.TrimSpace(env))
	if err != nil || kid != exampleSM4Kid {
		t.Fatalf("example envelope: %v", err)
	}
	var back contracts.CaseRequest
	if err := json.Unmarshal(got, &back); err != nil || !reflect.DeepEqual(back, req) {
		t.Errorf("example envelope opens to %s", got)
	}
}

// TestSigningInDeptDocuments: each department document offers the three
// schemes, and every operation accepts any of them (the deployment picks
// one), with the envelope as an alternative body.
func TestSigningInDeptDocuments(t *testing.T) {
	for _, d := range contracts.Depts {
		doc := mustSpec(t, "dept-"+string(d))
		ss := doc.Components.SecuritySchemes
		if ss["signedRequest"] == nil || ss["signedRequestSM3"] == nil || ss["bearerJWT"] == nil ||
			ss["bearerJWT"].Value.Scheme != "bearer" || ss["bearerJWT"].Value.BearerFormat != "JWT" {
			t.Errorf("dept-%s: security schemes %v", d, ss)
		}
		if doc.Components.Schemas["SM4Envelope"] == nil {
			t.Errorf("dept-%s: no SM4Envelope", d)
		}
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				if op.Security == nil || len(*op.Security) != 3 {
					t.Errorf("dept-%s: %s %s: security should offer the three schemes", d, method, path)
				}
				if op.RequestBody == nil {
					continue
				}
				s := op.RequestBody.Value.Content.Get("application/json").Schema.Value
				if len(s.OneOf) != 2 || s.OneOf[1].Ref != "#/components/schemas/SM4Envelope" {
					t.Errorf("dept-%s: %s %s: body should be oneOf [request, SM4Envelope]", d, method, path)
				}
			}
		}
	}
}
