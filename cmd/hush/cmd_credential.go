package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/credhelper"
	"github.com/hush-secrets/hush/cmd/hush/internal/helptext"
	"github.com/hush-secrets/hush/vault"
)

func (a *app) credentialCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credential",
		Short: "answer git's and docker's requests for logins (credential helpers)",
		Long:  helptext.Credential,
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(a.gitCredentialCommand(), a.dockerCredentialCommand())
	return cmd
}

func (a *app) gitCredentialCommand() *cobra.Command {
	var folder string
	cmd := &cobra.Command{
		Use:       "git get|store|erase",
		Short:     "git's credential helper: logins in git/HOST (username and password)",
		Long:      helptext.GitCredential,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"get", "store", "erase"},
		RunE: func(_ *cobra.Command, args []string) error {
			op := args[0]
			if op != "get" && op != "store" && op != "erase" {
				// git may grow new operations: a helper ignores them.
				return nil
			}
			req, err := credhelper.ReadGit(a.stdin)
			if err != nil {
				return err
			}
			f, err := credhelper.GitFolder(folder, req.Host)
			if err != nil {
				return usageError{err}
			}
			if f == "" {
				return nil // no host: nothing hush can answer for
			}
			_, passName := credhelper.GitNames(f)
			return a.audited("git-credential-"+op, []string{passName}, func(v *vault.Vault) error {
				return credhelper.Git(v, op, req, f, a.stdout)
			})
		},
	}
	cmd.Flags().StringVar(&folder, "folder", "", "the folder for every host's login (default git/HOST)")
	return cmd
}

func (a *app) dockerCredentialCommand() *cobra.Command {
	var folder string
	cmd := &cobra.Command{
		Use:       "docker get|store|erase|list|version",
		Short:     "docker's credential helper: registry logins in docker/",
		Long:      helptext.DockerCredential,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"get", "store", "erase", "list", "version"},
		RunE: func(_ *cobra.Command, args []string) error {
			f, err := vault.CleanFolder(folder)
			if err != nil {
				return usageError{err}
			}
			if args[0] == "version" {
				a.printf("docker-credential-hush %s\n", versionString())
				return nil
			}
			err = a.audited("docker-credential-"+args[0], []string{f}, func(v *vault.Vault) error {
				return credhelper.Docker(v, f, args[0], a.stdin, a.stdout)
			})
			if err != nil {
				// The protocol's client reads the error from stdout.
				fmt.Fprintln(a.stdout, err)
				a.notef("hush: %v", err)
				return exitStatus(exitFailure)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&folder, "folder", "docker", "the folder holding registry logins")
	return cmd
}
