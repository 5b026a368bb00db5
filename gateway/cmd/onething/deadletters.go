package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// deadletters lists, shows and replays dead letters through the admin API.
func deadletters(args []string) error {
	fs := flag.NewFlagSet("deadletters", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "gateway base URL")
	token := fs.String("token", os.Getenv("ONETHING_ADMIN_TOKEN"), "admin token")
	dept := fs.String("dept", "", "only this department (cdpf, civil, hrss, medical)")
	all := fs.Bool("all", false, "with replay and no task: replay every dead letter")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: onething deadletters [--url URL] [--token T] list [--dept D]\n       onething deadletters show TASK_ID\n       onething deadletters replay TASK_ID | replay --dept D | replay --all")
		fs.PrintDefaults()
	}
	fs.Parse(args)
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return errors.New("say list, show or replay")
	}
	// Flags may also follow the verb.
	fs.Parse(rest[1:])
	verb, operands := rest[0], fs.Args()
	root := strings.TrimRight(*base, "/") + "/v1/admin/dead-letters"
	var method, target string
	switch {
	case verb == "list":
		method, target = http.MethodGet, root
		if *dept != "" {
			target += "?dept=" + url.QueryEscape(*dept)
		}
	case verb == "show" && len(operands) == 1:
		method, target = http.MethodGet, root+"/"+url.PathEscape(operands[0])
	case verb == "replay" && len(operands) == 1:
		method, target = http.MethodPost, root+"/"+url.PathEscape(operands[0])+"/replay"
	case verb == "replay" && *dept != "":
		method, target = http.MethodPost, root+"/replay?dept="+url.QueryEscape(*dept)
	case verb == "replay" && *all:
		method, target = http.MethodPost, root+"/replay?all=true"
	default:
		fs.Usage()
		return errors.New("nothing to do")
	}
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+*token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(indent(body))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}
