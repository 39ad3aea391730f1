//go:build gendocs

package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// gen-docs is built only with `-tags gendocs` (`go run -tags gendocs
// ./cmd/hush gen-docs DIR`, as .goreleaser.yaml does): cobra's man page
// generator links a Markdown library whose init builds an HTML entity table
// (about a million instructions), which every command would pay for.
func init() { buildTagCommands = append(buildTagCommands, (*app).genDocsCommand) }

// genDocsCommand writes what a release archive carries beside the binary:
// a man page per command (cobra's doc generator) and the shell completions
// (`hush completion`), into DIR/man and DIR/completions. Hidden: packagers
// and .goreleaser.yaml use it, people use `man hush` and `hush completion`.
func (a *app) genDocsCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "gen-docs DIR",
		Short:  "write man pages and shell completions into DIR (for packagers)",
		Args:   cobra.ExactArgs(1),
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			man := filepath.Join(args[0], "man")
			comp := filepath.Join(args[0], "completions")
			for _, d := range []string{man, comp} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return fmt.Errorf("failed to create %s: %w", d, err)
				}
			}
			// The pages' date is SOURCE_DATE_EPOCH when set (reproducible builds).
			hdr := &doc.GenManHeader{Title: "HUSH", Section: "1", Source: "hush " + versionString(), Manual: "hush manual"}
			root.DisableAutoGenTag = true
			if err := doc.GenManTree(root, hdr, man); err != nil {
				return fmt.Errorf("failed to write man pages: %w", err)
			}
			for name, gen := range map[string]func(string) error{
				"hush.bash": func(p string) error { return root.GenBashCompletionFileV2(p, true) },
				"_hush":     root.GenZshCompletionFile,
				"hush.fish": func(p string) error { return root.GenFishCompletionFile(p, true) },
				"hush.ps1":  root.GenPowerShellCompletionFileWithDesc,
			} {
				if err := gen(filepath.Join(comp, name)); err != nil {
					return fmt.Errorf("failed to write %s: %w", name, err)
				}
			}
			a.notef("wrote man pages to %s and completions to %s", man, comp)
			return nil
		},
	}
}
