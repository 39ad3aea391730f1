package main

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version, commit and date are set at build time with -ldflags
// "-X main.version=... -X main.commit=... -X main.date=..." (the Makefile
// and .goreleaser.yaml do). Without them, the module version and the VCS
// stamp that `go build` records are used.
var version, commit, date = "", "", ""

// buildCommit and buildDate: the linker's values, else the VCS stamp.
func buildCommit() (string, string) {
	c, d := commit, date
	if bi, ok := debug.ReadBuildInfo(); ok && (c == "" || d == "") {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "":
				c = s.Value
				if len(c) > 12 {
					c = c[:12]
				}
			case s.Key == "vcs.time" && d == "":
				d = s.Value
			}
		}
	}
	return c, d
}

func versionString() string {
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return v
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print hush's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, d := buildCommit()
			if a.jsonOut {
				return a.writeJSON(map[string]string{"version": versionString(), "commit": c, "date": d, "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH})
			}
			stamp := ""
			if c != "" {
				stamp = "; commit " + c
			}
			if d != "" {
				stamp += "; built " + d
			}
			a.printf("hush %s (%s, %s/%s%s)\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH, stamp)
			return nil
		},
	}
}
