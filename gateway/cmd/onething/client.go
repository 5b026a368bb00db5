package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	c "onething/contracts"
	"onething/gateway/devstack"
)

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func submit(args []string) error {
	fs := flag.NewFlagSet("submit", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "gateway base URL")
	secret := fs.String("secret", os.Getenv("ONETHING_PORTAL_SECRET"), "portal signing secret (whsec_…)")
	id := fs.String("id", "", "webhook-id (default: a new one; repeat one to test deduplication)")
	newRef := fs.Bool("new-ref", false, "give the submission a fresh portalRef and submittedAt (send the same example many times)")
	path := fs.String("path", "/v1/portal/submissions", "where to post: also /v1/applications/ID/supplements or /v1/applications/ID/withdraw")
	fs.Parse(args)
	if fs.NArg() != 1 || *secret == "" {
		return errors.New("usage: onething submit --url URL --secret whsec_… [--id ID] [--new-ref] [--path PATH] FILE.json")
	}
	body, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	if *newRef {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return fmt.Errorf("%s: %w", fs.Arg(0), err)
		}
		m["portalRef"] = "DEV-" + time.Now().Format("20060102150405") + "-" + randomHex(3)
		m["submittedAt"] = time.Now().UTC().Format(time.RFC3339)
		body, _ = json.Marshal(m)
	}
	if *id == "" {
		*id = "msg_" + randomHex(12)
	}
	resp, err := devstack.PostSigned(strings.TrimRight(*url, "/")+*path, *secret, *id, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	fmt.Printf("HTTP %d (webhook-id %s)\n%s\n", resp.StatusCode, *id, indent(out))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("refused: HTTP %d", resp.StatusCode)
	}
	return nil
}

func indent(b []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, b, "", "  ") != nil {
		return string(b)
	}
	return buf.String()
}

func status(args []string) error {
	fs := flag.NewFlagSet("status", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "gateway base URL")
	token := fs.String("token", os.Getenv("ONETHING_READ_TOKEN"), "read token")
	watch := fs.Bool("watch", false, "poll until the application is completed")
	fs.Parse(args)
	if fs.NArg() != 1 {
		return errors.New("usage: onething status --url URL --token TOKEN [--watch] APPLICATION_ID")
	}
	last := int64(-1)
	for {
		req, _ := http.NewRequest(http.MethodGet, strings.TrimRight(*url, "/")+"/v1/applications/"+fs.Arg(0), nil)
		req.Header.Set("Authorization", "Bearer "+*token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
		}
		var v c.ApplicationView
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		if v.Version != last {
			last = v.Version
			fmt.Printf("%s  %s  version %d  status %s\n", time.Now().Format("15:04:05"), v.ApplicationID, v.Version, v.Status.State)
			for _, it := range v.Items {
				fmt.Printf("    %-18s %-8s %-20s %s\n", it.Item, it.Dept, it.State, it.CaseNo)
			}
		}
		if !*watch || v.Status.State == c.AppCompleted {
			return nil
		}
		time.Sleep(300 * time.Millisecond)
	}
}
