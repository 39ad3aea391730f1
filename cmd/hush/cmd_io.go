package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/prompt"
	"github.com/hush-secrets/hush/cmd/hush/internal/transfer"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/envfile"
	"github.com/hush-secrets/hush/vault/importer"
	"github.com/hush-secrets/hush/vault/unlock"
)

func (a *app) importCommand() *cobra.Command {
	var into, format, from, passwordFile string
	var dryRun, overwrite, noExpand, expandEnv bool
	cmd := &cobra.Command{
		Use:   "import [--from FORMAT] [--into FOLDER] FILE|-",
		Short: "import a .env, JSON or YAML file, or another secret store's export",
		Long: `Import every KEY=value of a file as the secret FOLDER/KEY, in one transaction:
all or nothing. The format follows the file's extension (.json, .yaml/.yml,
anything else dotenv) unless --format says otherwise; "-" reads stdin.
Existing secrets get a new version; unchanged ones are left alone. In a
dotenv file ${A} and $B expand to keys defined earlier in the same file
(the environment takes part only with --expand-env); --no-expand reads
every $ literally.

--from FORMAT reads another store's export instead (docs/import.md says how
to make each and what carries over):
  1pux           1Password export (.1pux)
  1password-csv  1Password CSV export
  bitwarden      Bitwarden JSON export, plain or password-protected
  keepassxc-csv  KeePassXC CSV export
  kdbx           a KeePass database, read through keepassxc-cli
  pass           a pass or gopass (gpg) password store: FILE is its folder
  sops           a SOPS-encrypted dotenv, JSON or YAML file (runs sops -d)
  vault-kv       HashiCorp Vault / OpenBao: vault kv get -format=json, or a tree
An item becomes FOLDER/TITLE (its password or main secret), with
FOLDER/TITLE.totp and FOLDER/TITLE.FIELD for its TOTP seed and hidden
fields; username, URLs and notes go into the note. A name that already
exists is refused unless --overwrite (which adds a version). What could not
be brought is counted by reason; --dry-run shows every name, never a value.`,
		Example: `  hush import --into app/dev .env
  hush import --into app/prod --format json secrets.json
  hush import --from 1pux --into moved/1password --dry-run export.1pux
  hush import --from bitwarden --password-file pw.txt bitwarden_export.json
  hush import --from pass --into moved ~/.password-store`,
		Args: exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			folder, err := usage.Folder(into)
			if err != nil {
				return err
			}
			src, f, err := transfer.Formats(from, format, args[0])
			if err != nil {
				return err
			}
			if src != "" {
				return a.importFrom(src, args[0], folder, passwordFile, dryRun, overwrite)
			}
			file := transfer.File{Path: args[0], Format: f, Folder: folder, NoExpand: noExpand, ExpandEnv: expandEnv, Env: a.Env}
			reqs, names, wipe, err := file.Read(a.stdin, a.notef)
			if err != nil {
				return err
			}
			defer wipe()
			if dryRun {
				transfer.WritePlan(a.stdout, names)
				return nil
			}
			return a.Audited("import", names, func(v *vault.Vault) error {
				done, err := transfer.Import(v, reqs, folder)
				a.note(done)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&into, "into", "", "the `FOLDER` to import into (default: the root)")
	cmd.Flags().StringVar(&format, "format", "", "dotenv, json or yaml (default: from the file name)")
	cmd.Flags().StringVar(&from, "from", "", "the `FORMAT` of another store's export: "+importFormats())
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be imported (names only) and what would be skipped; write nothing")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "with --from: add a version to secrets that already exist instead of refusing")
	cmd.Flags().StringVar(&passwordFile, "password-file", "", "with --from bitwarden or kdbx: read the export's password from `FILE`")
	cmd.Flags().BoolVar(&noExpand, "no-expand", false, "dotenv: read $VAR and ${VAR} literally")
	cmd.Flags().BoolVar(&expandEnv, "expand-env", false, "dotenv: expand variables not defined in the file from the environment (never HUSH_*)")
	cmd.MarkFlagsMutuallyExclusive("no-expand", "expand-env")
	cmd.MarkFlagsMutuallyExclusive("from", "format")
	return cmd
}

func importFormats() string {
	names := make([]string, len(importer.Formats))
	for i, f := range importer.Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// importFrom imports another store's export (hush import --from).
func (a *app) importFrom(f importer.Format, path, folder, passwordFile string, dryRun, overwrite bool) error {
	plan, err := transfer.ReadExport(f, path, a.stdin, func() ([]byte, error) {
		if passwordFile != "" {
			return unlock.ReadPassphraseFile(passwordFile, a.notef)
		}
		return prompt.Hidden("Password of the export: ",
			errors.New("this export is protected by a password: give --password-file FILE, or run on a terminal to be asked"),
			errors.New("no password given: nothing imported"))
	})
	if err != nil {
		return err
	}
	defer plan.Wipe()
	if dryRun {
		importer.WritePlan(a.stdout, plan, folder)
		return nil
	}
	if err := transfer.Importable(a.stderr, plan, folder, path); err != nil {
		return err
	}
	return a.Audited("import", plan.Names(folder), func(v *vault.Vault) error {
		return transfer.ApplyExport(v, folder, plan, overwrite, a.stderr)
	})
}

func (a *app) exportCommand() *cobra.Command {
	var format, output string
	cmd := &cobra.Command{
		Use:   "export [FOLDER]",
		Short: "print the secrets of a folder as dotenv, JSON, YAML or shell",
		Long: `Print the secrets directly in FOLDER (not in its sub-folders), each under the
last segment of its name, as ` + "`hush run --from FOLDER`" + ` would inject them.
The output is plaintext: mind where it goes. -o writes a file readable only by you.`,
		Example: `  hush export --format dotenv app/dev > .env.backup
  hush export --format json -o secrets.json app/prod
  eval "$(hush export --format shell app/dev)"`,
		Args: rangeArgs(0, 1, "FOLDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := envfile.ParseFormat(format)
			if err != nil {
				return usage.Wrap(err)
			}
			folder := ""
			if len(args) == 1 {
				if folder, err = usage.Folder(args[0]); err != nil {
					return err
				}
			}
			return a.Audited("export", []string{transfer.DisplayFolder(folder)}, func(v *vault.Vault) error {
				return transfer.Export(v, folder, f, a.stdout, output, a.notef)
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "dotenv", "dotenv, json, yaml or shell")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to `FILE` (mode 0600) instead of stdout")
	return cmd
}
