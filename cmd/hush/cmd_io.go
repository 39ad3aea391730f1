package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/envfile"
)

func (a *app) importCommand() *cobra.Command {
	var into, format string
	cmd := &cobra.Command{
		Use:   "import [--into FOLDER] FILE|-",
		Short: "import a .env, JSON or YAML file",
		Long: `Import every KEY=value of a file as the secret FOLDER/KEY, in one transaction:
all or nothing. The format follows the file's extension (.json, .yaml/.yml,
anything else dotenv) unless --format says otherwise; "-" reads stdin.
Existing secrets get a new version; unchanged ones are left alone.`,
		Example: `  hush import --into app/dev .env
  hush import --into app/prod --format json secrets.json`,
		Args: exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			folder, err := vault.CleanFolder(into)
			if err != nil {
				return err
			}
			f := envfile.FormatFromPath(args[0])
			if format != "" {
				if f, err = envfile.ParseFormat(format); err != nil {
					return usageError{err}
				}
			}
			data, err := a.readInput(args[0])
			if err != nil {
				return err
			}
			defer crypto.Wipe(data)
			entries, err := envfile.Parse(f, data)
			if err != nil {
				return fmt.Errorf("%s: %w", displayName(args[0]), err)
			}
			if len(entries) == 0 {
				return fmt.Errorf("%s holds no secrets: nothing imported", displayName(args[0]))
			}
			reqs := make([]vault.SetRequest, len(entries))
			var names []string
			for i, e := range entries {
				name := e.Key
				if folder != "" {
					name = folder + "/" + e.Key
				}
				if err := vault.ValidName(name); err != nil {
					return err
				}
				reqs[i] = vault.SetRequest{Name: name, Value: e.Value}
				names = append(names, name)
			}
			return a.audited("import", names, func(v *vault.Vault) error {
				res, err := v.SetMany(reqs, time.Time{})
				if err != nil {
					return err
				}
				var created, updated, same int
				for _, r := range res {
					switch {
					case !r.Changed:
						same++
					case r.Created:
						created++
					default:
						updated++
					}
				}
				a.notef("imported %s into %s: %d new, %d updated, %d unchanged", plural(len(res), "secret"), displayFolder(folder), created, updated, same)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&into, "into", "", "the `FOLDER` to import into (default: the root)")
	cmd.Flags().StringVar(&format, "format", "", "dotenv, json or yaml (default: from the file name)")
	return cmd
}

func displayName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}

func displayFolder(f string) string {
	if f == "" {
		return "the root folder"
	}
	return f
}

func (a *app) readInput(path string) ([]byte, error) {
	var r io.Reader = a.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("failed to read %s: %w", path, err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, envfile.MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", displayName(path), err)
	}
	return b, nil
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
				return usageError{err}
			}
			folder := ""
			if len(args) == 1 {
				if folder, err = vault.CleanFolder(args[0]); err != nil {
					return err
				}
			}
			return a.audited("export", []string{displayFolder(folder)}, func(v *vault.Vault) error {
				secrets, err := v.Children(folder)
				if err != nil {
					return err
				}
				if len(secrets) == 0 {
					return fmt.Errorf("no secrets directly in %s: `hush ls %s` shows what is below it", displayFolder(folder), folder)
				}
				entries := make([]envfile.Entry, 0, len(secrets))
				for _, s := range secrets {
					if s.IsDynamic() {
						// An admin credential: read it with `hush get` if you must.
						clear(s.Value)
						a.notef("note: %s is a dynamic source: its admin URL is not exported (`hush get %s` shows it)", s.Name, s.Name)
						continue
					}
					if err := s.RevokedErr(); err != nil {
						return err
					}
					entries = append(entries, envfile.Entry{Key: vault.Base(s.Name), Value: s.Value})
				}
				if len(entries) == 0 {
					return fmt.Errorf("nothing to export in %s: it holds only dynamic sources", displayFolder(folder))
				}
				var buf bytes.Buffer
				defer func() { crypto.Wipe(buf.Bytes()) }()
				if err := envfile.Write(&buf, f, entries); err != nil {
					return err
				}
				if output == "" {
					_, err := a.stdout.Write(buf.Bytes())
					return err
				}
				return writePrivateFile(output, buf.Bytes())
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "dotenv", "dotenv, json, yaml or shell")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to `FILE` (mode 0600) instead of stdout")
	return cmd
}

// writePrivateFile writes data to a new file only its owner can read. An
// existing file is refused rather than overwritten: it may be another
// export the user still needs.
func writePrivateFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("failed to create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return f.Close()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
