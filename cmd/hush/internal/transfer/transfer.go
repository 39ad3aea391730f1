// Package transfer moves secrets between the vault and files for `hush
// import` and `hush export`: a dotenv, JSON or YAML file's KEY=value pairs
// become the secrets FOLDER/KEY, all or nothing ([Requests]); a folder's
// secrets become entries named by their last segment, as `hush run`
// injects them ([Entries]), written in a format to stdout or to a file
// only its owner can read, never over an existing one ([Export],
// [WritePrivate]); another store's export is read ([ReadExport]) and
// applied ([ApplyExport]); [Formats] says which of the two an import
// reads. The formats are vault/envfile's; another store's export is
// vault/importer's.
package transfer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/human"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/envfile"
	"github.com/hush-secrets/hush/vault/importer"
)

// DisplayName names an input for a person: "-" is stdin.
func DisplayName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}

// DisplayFolder names a folder for a person: "" is the root folder.
func DisplayFolder(f string) string {
	if f == "" {
		return "the root folder"
	}
	return f
}

// ReadInput reads path ("-": stdin) up to envfile.MaxInput (and one byte
// more, which the parser refuses).
func ReadInput(stdin io.Reader, path string) ([]byte, error) {
	r := stdin
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
		return nil, fmt.Errorf("failed to read %s: %w", DisplayName(path), err)
	}
	return b, nil
}

// ParseOptions tell [Parse] how to expand variables in a dotenv file.
type ParseOptions struct {
	NoExpand bool
	// Env, when not nil, is also looked in for a variable the file does
	// not define; hush's own variables (HUSH_*) never are, so that the
	// passphrase cannot end up in a secret.
	Env map[string]string
	// Undefined is called for each reference to a variable defined
	// nowhere it was looked for (see envfile.Options.Undefined).
	Undefined func(line int, key string)
}

// Parse reads a file's entries in format f; name names the file in errors.
// A file without any entry is an error: nothing is imported.
func Parse(f envfile.Format, data []byte, name string, o ParseOptions) ([]envfile.Entry, error) {
	opts := envfile.Options{NoExpand: o.NoExpand, Undefined: o.Undefined}
	if o.Env != nil {
		opts.LookupEnv = func(k string) (string, bool) {
			if strings.HasPrefix(k, "HUSH_") {
				return "", false // the passphrase must never end up in a secret
			}
			v, ok := o.Env[k]
			return v, ok
		}
	}
	entries, err := opts.Parse(f, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s holds no secrets: nothing imported", name)
	}
	return entries, nil
}

// Requests are entries as the secrets FOLDER/KEY, and their names; a key
// that makes no valid name is an error.
func Requests(entries []envfile.Entry, folder string) ([]vault.SetRequest, []string, error) {
	reqs := make([]vault.SetRequest, len(entries))
	names := make([]string, 0, len(entries))
	for i, e := range entries {
		name := e.Key
		if folder != "" {
			name = folder + "/" + e.Key
		}
		if err := vault.ValidName(name); err != nil {
			return nil, nil, err
		}
		reqs[i] = vault.SetRequest{Name: name, Value: e.Value}
		names = append(names, name)
	}
	return reqs, names, nil
}

// File is a dotenv, JSON or YAML file to import.
type File struct {
	Path   string // "-": stdin
	Format envfile.Format
	Folder string // the folder its keys go into
	// NoExpand reads every $ literally; ExpandEnv also looks in Env for a
	// variable the file does not define (dotenv).
	NoExpand, ExpandEnv bool
	Env                 map[string]string
}

// Read reads f as `hush import` does: its entries as requests for the
// secrets FOLDER/KEY, and their names. A variable the file refers to but
// defines nowhere it was looked for is said with notef (it expands to
// nothing). wipe clears the file's bytes, which the requests' values
// share: call it once they are stored.
func (f File) Read(stdin io.Reader, notef func(format string, args ...any)) (reqs []vault.SetRequest, names []string, wipe func(), err error) {
	data, err := ReadInput(stdin, f.Path)
	if err != nil {
		return nil, nil, nil, err
	}
	wipe = func() { crypto.Wipe(data) }
	po := ParseOptions{NoExpand: f.NoExpand}
	where := "earlier in the file"
	if f.ExpandEnv {
		po.Env = f.Env
		where += " nor in the environment"
	}
	po.Undefined = func(line int, key string) {
		notef("note: %s line %d: the value of %s refers to a variable defined neither %s: it expands to nothing (write \\$ or use single quotes for a literal $, or --no-expand)", DisplayName(f.Path), line, key, where)
	}
	entries, err := Parse(f.Format, data, DisplayName(f.Path), po)
	if err == nil {
		reqs, names, err = Requests(entries, f.Folder)
	}
	if err != nil {
		wipe()
		return nil, nil, nil, err
	}
	return reqs, names, wipe, nil
}

// Entries are the secrets directly in folder, each named by its last
// segment. Dynamic sources are left out (an admin credential is read with
// `hush get` if at all) and named in skipped; a revoked secret is an
// error. The caller wipes the values.
func Entries(v *vault.Vault, folder string) (entries []envfile.Entry, skipped []string, err error) {
	secrets, err := v.Children(folder)
	if err != nil {
		return nil, nil, err
	}
	if len(secrets) == 0 {
		return nil, nil, fmt.Errorf("no secrets directly in %s: `hush ls %s` shows what is below it", DisplayFolder(folder), folder)
	}
	wipe := func() {
		for _, s := range secrets {
			clear(s.Value)
		}
	}
	entries = make([]envfile.Entry, 0, len(secrets))
	for _, s := range secrets {
		if s.IsDynamic() {
			clear(s.Value)
			skipped = append(skipped, s.Name)
			continue
		}
		if err := s.RevokedErr(); err != nil {
			wipe()
			return nil, skipped, err
		}
		entries = append(entries, envfile.Entry{Key: vault.Base(s.Name), Value: s.Value})
	}
	if len(entries) == 0 {
		return nil, skipped, fmt.Errorf("nothing to export in %s: it holds only dynamic sources", DisplayFolder(folder))
	}
	return entries, skipped, nil
}

// Export writes the secrets directly in folder (Entries) in format f, to
// out, or with output to a new private file (WritePrivate). A dynamic
// source is left out, and notef says so.
func Export(v *vault.Vault, folder string, f envfile.Format, out io.Writer, output string, notef func(format string, args ...any)) error {
	entries, skipped, err := Entries(v, folder)
	for _, name := range skipped {
		notef("note: %s is a dynamic source: its admin URL is not exported (`hush get %s` shows it)", name, name)
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	defer func() { crypto.Wipe(buf.Bytes()) }()
	if err := envfile.Write(&buf, f, entries); err != nil {
		return err
	}
	if output == "" {
		_, err := out.Write(buf.Bytes())
		return err
	}
	return WritePrivate(output, buf.Bytes())
}

// Formats is what import reads: another store's export (src, when from
// names one) or a file in format f (from --format, from when it names a
// file format, else from the path's extension). A name of neither is a
// usage error.
func Formats(from, format, path string) (src importer.Format, f envfile.Format, err error) {
	if from != "" {
		if f, err := envfile.ParseFormat(from); err == nil && f != envfile.Shell {
			format = from // --from dotenv|json|yaml is --format
		} else {
			src, err := importer.ParseFormat(from)
			if err != nil {
				return "", f, usage.Wrap(err)
			}
			return src, f, nil
		}
	}
	f = envfile.FormatFromPath(path)
	if format != "" {
		if f, err = envfile.ParseFormat(format); err != nil {
			return "", f, usage.Wrap(err)
		}
	}
	return "", f, nil
}

// WritePrivate writes data to a new file only its owner can read. An
// existing file is refused rather than overwritten: it may be another
// export the user still needs.
func WritePrivate(path string, data []byte) error {
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

// ReadExport reads another store's export at path ("-": stdin, for the
// formats that are one file) into a plan; password is asked only when the
// export is protected by one. Nothing is imported yet. The caller wipes
// the plan.
func ReadExport(f importer.Format, path string, stdin io.Reader, password func() ([]byte, error)) (*importer.Plan, error) {
	opts := importer.Options{Password: password}
	var plan *importer.Plan
	var err error
	if path == "-" && f != importer.Pass && f != importer.SOPS {
		data, rerr := io.ReadAll(io.LimitReader(stdin, importer.MaxInput+1))
		if rerr != nil {
			return nil, fmt.Errorf("failed to read stdin: %w", rerr)
		}
		defer crypto.Wipe(data)
		plan, err = importer.Parse(f, data, opts)
	} else {
		plan, err = importer.Read(f, path, opts)
	}
	switch {
	case errors.Is(err, importer.ErrNoPassword) || errors.Is(err, importer.ErrWrongPassword):
		return nil, fmt.Errorf("%s: %w: nothing imported", DisplayName(path), err)
	case err != nil:
		return nil, fmt.Errorf("%s: %w (nothing imported)", DisplayName(path), err)
	}
	return plan, nil
}

// Importable refuses an export plan that holds nothing to import, after
// writing to w what was skipped, by reason and name.
func Importable(w io.Writer, plan *importer.Plan, folder, path string) error {
	if len(plan.Items) > 0 {
		return nil
	}
	importer.WriteSkipped(w, plan, folder, true)
	return fmt.Errorf("%s holds nothing hush can import: nothing imported", DisplayName(path))
}

// ApplyExport writes an export's plan into v under folder, all or nothing
// (a name that exists is refused unless overwrite), and writes to w what
// it did.
func ApplyExport(v *vault.Vault, folder string, plan *importer.Plan, overwrite bool, w io.Writer) error {
	res, err := importer.Apply(v, folder, plan, overwrite)
	var ee *importer.ExistsError
	if errors.As(err, &ee) {
		return fmt.Errorf("%w: use --overwrite to add a version to each, or --into another folder", err)
	}
	if err != nil {
		return err
	}
	importer.WriteResult(w, plan, folder, res)
	if len(plan.Skipped) > 0 {
		fmt.Fprintln(w, "(--dry-run lists what was not imported by name)")
	}
	return nil
}

// WritePlan writes to w the names a dry run of a file's import lists.
func WritePlan(w io.Writer, names []string) {
	fmt.Fprintf(w, "would import %s (new, or a new version where the value changed):\n", human.Count(len(names), "secret"))
	for _, n := range names {
		fmt.Fprintf(w, "  %s\n", n)
	}
}

// Import writes a file's requests into v in one transaction (Read made
// them) and says what it did.
func Import(v *vault.Vault, reqs []vault.SetRequest, folder string) (string, error) {
	res, err := v.SetMany(reqs, time.Time{})
	if err != nil {
		return "", err
	}
	created, updated, same := vault.Tally(res)
	return fmt.Sprintf("imported %s into %s: %d new, %d updated, %d unchanged", human.Count(len(res), "secret"), DisplayFolder(folder), created, updated, same), nil
}
