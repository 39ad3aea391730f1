package main

import (
	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/buildinfo"
)

// version, commit and date are set at build time with -ldflags
// "-X main.version=... -X main.commit=... -X main.date=..." (the Makefile
// and .goreleaser.yaml do). Without them, the module version and the VCS
// stamp that `go build` records are used.
var version, commit, date = "", "", ""

func versionString() string { return buildinfo.Read(version, commit, date).Version }

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print hush's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b := buildinfo.Read(version, commit, date)
			if a.jsonOut {
				return a.writeJSON(b.JSON())
			}
			a.printf("%s\n", b)
			return nil
		},
	}
}
