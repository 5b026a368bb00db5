package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"onething/gateway/metrics"
)

// Set at build time, where the build knows them (these machines build
// with -buildvcs=false, and the container build has no .git):
//
//	go build -ldflags "-X main.version=$(git describe --tags --always --dirty) \
//	  -X main.commit=$(git rev-parse HEAD) -X main.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
//
// `make build` and deploy/Dockerfile do. Unset (or "unknown"), the
// module's build information fills what it knows: the VCS revision of a
// build with VCS stamping, the module version of `go install …@version`.
var (
	version   string
	commit    string
	buildDate string
)

// buildInfo is what `onething version` reports.
type buildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	// Modified: built from a tree with uncommitted changes (known from
	// VCS stamping only; a stamped version says "-dirty").
	Modified bool   `json:"modified,omitempty"`
	Built    string `json:"built"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

const unknown = "unknown"

func stamped(s string) string {
	if s = strings.TrimSpace(s); s == unknown {
		return ""
	}
	return s
}

// currentBuild is this binary's build: the -ldflags stamp first, then the
// module's build information, else "unknown".
func currentBuild() buildInfo {
	b := buildInfo{Version: stamped(version), Commit: stamped(commit), Built: stamped(buildDate),
		Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; b.Version == "" && v != "" && v != "(devel)" {
			b.Version = v
		}
		if b.Commit == "" {
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					b.Commit = s.Value
				case "vcs.modified":
					b.Modified = s.Value == "true"
				}
			}
			if b.Commit == "" {
				b.Modified = false
			}
		}
	}
	for _, s := range []*string{&b.Version, &b.Commit, &b.Built} {
		if *s == "" {
			*s = unknown
		}
	}
	return b
}

// line is the one-line form (`onething --version`).
func (b buildInfo) line() string {
	c := b.Commit
	if b.Modified {
		c += "+modified"
	}
	return fmt.Sprintf("%s (commit %s, built %s, %s %s)", b.Version, c, b.Built, b.Go, b.Platform)
}

func init() {
	register(groupOps, newVersionCmd)
	// The gateway's onething_build_info says what `onething version` says.
	b := currentBuild()
	metrics.SetBuild(b.Version, b.Commit)
}

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "版本、提交、构建日期与 Go 版本 / version, commit, build date and Go version",
		Long: `版本、提交、构建日期与 Go 版本 / the version, commit, build date and Go version of this binary.

The version and commit are stamped by the build (make build, deploy/Dockerfile: -ldflags -X);
without a stamp they come from the module's VCS information, else "unknown".`,
		Example: `  onething version
  onething version --json
  onething --version          # the same on one line`,
		RunE: func(cmd *cobra.Command, args []string) error {
			b := currentBuild()
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(b)
			}
			modified := ""
			if b.Modified {
				modified = "  (含未提交的修改 / with uncommitted changes)"
			}
			_, err := fmt.Fprintf(w, "version   %s\ncommit    %s%s\nbuilt     %s\ngo        %s %s\n", b.Version, b.Commit, modified, b.Built, b.Go, b.Platform)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print it as JSON")
	return cmd
}
