package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/credhelper"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/vault"
)

func (a *app) credentialCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credential",
		Short: "answer git's and docker's requests for logins (credential helpers)",
		Long: `Credential helpers, so git and docker keep their logins in the vault.

git:    git config --global credential.helper hush
        (with git-credential-hush on PATH: a link to hush), or
        git config --global credential.helper '!hush credential git'
docker: "credsStore": "hush" in ~/.docker/config.json
        (with docker-credential-hush on PATH: a link to hush)

A locked vault is unlocked as for any command (remembered key,
HUSH_PASSPHRASE, a prompt on the terminal); with none of them the helper
fails at once with "vault is locked", so git or docker never hang.
Every answer and change is recorded in the audit log.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(a.gitCredentialCommand(), a.dockerCredentialCommand())
	return cmd
}

func (a *app) gitCredentialCommand() *cobra.Command {
	var folder string
	cmd := &cobra.Command{
		Use:   "git get|store|erase",
		Short: "git's credential helper: logins in git/PROTOCOL/HOST-HASH (username and password)",
		Long: `git's credential helper (git-credential(1)). A login is two secrets,
git/PROTOCOL/HOST-HASH/username and .../password (HASH: of protocol, host
and path, so an https login is never answered for http, nor for a host
that reads alike; an older hush's git/HOST login answers https only and
moves at the next store); --folder FOLDER keeps FOLDER/username,
FOLDER/password and FOLDER/protocol (none: https) for every host instead.

get prints the login when the vault has one (and nothing when not, so git
asks you); store keeps the login git used successfully; erase forgets a
login the server refused.`,
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
			l, err := credhelper.LocateGit(folder, req)
			if err != nil {
				return usage.Wrap(err)
			}
			if l.Folder == "" {
				return nil // no host: nothing hush can answer for
			}
			return a.Audited("git-credential-"+op, l.Names(op), func(v *vault.Vault) error {
				return credhelper.Git(v, op, req, l, a.stdout)
			})
		},
	}
	cmd.Flags().StringVar(&folder, "folder", "", "the folder for every host's login (default git/HOST)")
	return cmd
}

func (a *app) dockerCredentialCommand() *cobra.Command {
	var folder string
	cmd := &cobra.Command{
		Use:   "docker get|store|erase|list|version",
		Short: "docker's credential helper: registry logins in docker/",
		Long: `docker's credential helper (the docker-credential-helpers protocol: the
server URL or a JSON login on stdin, JSON on stdout). Each registry's login
is one secret in the folder (default docker), named after the server URL,
holding {"ServerURL","Username","Secret"}.`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"get", "store", "erase", "list", "version"},
		RunE: func(_ *cobra.Command, args []string) error {
			f, err := vault.CleanFolder(folder)
			if err != nil {
				return usage.Wrap(err)
			}
			if args[0] == "version" {
				a.printf("docker-credential-hush %s\n", versionString())
				return nil
			}
			err = a.Audited("docker-credential-"+args[0], []string{f}, func(v *vault.Vault) error {
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
