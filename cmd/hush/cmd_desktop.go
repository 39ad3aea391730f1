package main

import "github.com/spf13/cobra"

// buildTagCommands are commands compiled in only with a build tag (gen-docs:
// `-tags gendocs`), so that the libraries they link, and those libraries'
// init work, stay out of the hush everyone runs. Only the whole command
// tree has them (rootCommand).
var buildTagCommands []func(*app) *cobra.Command
