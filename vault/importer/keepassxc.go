package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hush-secrets/hush/vault"
)

// readKeePassXCCSV reads KeePassXC's CSV export (Database > Export > CSV,
// or `keepassxc-cli export --format csv`), whose header is
// "Group","Title","Username","Password","URL","Notes","TOTP","Icon",
// "Last Modified","Created" (older versions stop after Notes). Group is the
// path from the root group, "/"-separated, root included: the root's name
// is dropped, the rest become folders.
func readKeePassXCCSV(data []byte) (*Plan, error) {
	rows, col, err := readCSV(data, []string{"group", "title", "password"}, map[string][]string{
		"group": {"group"}, "title": {"title"}, "username": {"username", "user name"}, "password": {"password"},
		"url": {"url"}, "notes": {"notes"}, "totp": {"totp"}, "tags": {"tags"},
	})
	if err != nil {
		return nil, err
	}
	b := newBuilder()
	for _, r := range rows {
		groups := strings.Split(col(r, "group"), "/")
		if len(groups) > 0 {
			groups = groups[1:] // the root group
		}
		e := entry{folder: groups, title: col(r, "title"), value: []byte(col(r, "password")), username: col(r, "username"),
			notes: col(r, "notes"), totp: col(r, "totp"), typ: vault.TypePassword}
		if u := col(r, "url"); u != "" {
			e.urls = []string{u}
		}
		if t := col(r, "tags"); t != "" {
			e.tags = strings.FieldsFunc(t, func(r rune) bool { return r == ',' || r == ';' })
		}
		if len(groups) > 0 && groups[0] == "Recycle Bin" {
			b.skip(path(e.folder, e.title), reasonTrash)
			continue
		}
		b.add(e)
	}
	return &b.plan, nil
}

// readKDBX reads a KeePass database (KDBX 3 or 4) by asking KeePassXC's
// own command line to export it as CSV (`keepassxc-cli export --format csv
// FILE`) and reading that as [KeePassXCCSV] does: hush does not
// re-implement the KDBX format. The database password comes from
// Options.Password and reaches keepassxc-cli on its standard input; the CSV
// comes back through a pipe and never touches the disk. Databases that
// also need a key file or a hardware key are not supported.
func readKDBX(file string, o Options) (*Plan, error) {
	if st, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", file, err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory: give the .kdbx file", file)
	}
	prog := o.KeePassXC
	if prog == "" {
		prog = "keepassxc-cli"
	}
	if _, err := exec.LookPath(prog); err != nil {
		return nil, errors.New("keepassxc-cli is not installed (or not on PATH): install KeePassXC, or export the database as CSV and use --from keepassxc-csv")
	}
	if o.Password == nil {
		return nil, ErrNoPassword
	}
	pw, err := o.Password()
	if err != nil {
		return nil, err
	}
	defer clear(pw)
	in := append(pw, '\n')
	defer clear(in)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Not --quiet: it silences the error messages too.
	cmd := exec.CommandContext(ctx, prog, "export", "--format", "csv", "--", file)
	cmd.Env = o.Env
	cmd.Stdin = bytes.NewReader(in)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err = cmd.Run()
	defer clear(out.Bytes())
	if err != nil {
		msg := lastLine(stderr.String())
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.HasPrefix(l, "Error") {
				msg = strings.TrimSpace(l)
				break
			}
		}
		if strings.Contains(msg, "Invalid credentials") {
			return nil, ErrWrongPassword
		}
		return nil, fmt.Errorf("keepassxc-cli could not export %s: %s", file, msg)
	}
	return readKeePassXCCSV(out.Bytes())
}
