package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hush-secrets/hush/vault"
)

// readPass reads a password store (pass, or gopass with its default gpg
// backend): every NAME.gpg file under dir, decrypted by the user's gpg
// (`gpg --batch --quiet --decrypt`, so the gpg agent asks for the key's
// passphrase as it does for pass itself). NAME's path becomes the secret's
// name. By pass's convention the first line is the password and the value;
// the other lines are the note, except a line starting with otpauth://
// (pass-otp, gopass), which becomes NAME.totp. A file that is not UTF-8
// text is stored whole, as bytes.
func readPass(dir string, o Options) (*Plan, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory: give the password store's folder (usually ~/.password-store)", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, ".gpg-id")); err != nil {
		if _, err2 := os.Stat(filepath.Join(dir, ".age-recipients")); err2 == nil {
			return nil, fmt.Errorf("%s is a gopass store with the age backend: only gpg stores are supported; run `gopass export` or switch it to gpg first", dir)
		}
		return nil, fmt.Errorf("%s has no .gpg-id: is it a password store?", dir)
	}
	gpg := o.GPG
	if gpg == "" {
		gpg = "gpg"
	}
	b := newBuilder()
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", p, err)
		}
		rel, _ := filepath.Rel(dir, p)
		base := d.Name()
		if strings.HasPrefix(base, ".") && rel != "." {
			if d.IsDir() {
				return filepath.SkipDir // .git, .extensions, ...
			}
			return nil // .gpg-id, .gpg-id.sig, ...
		}
		if d.IsDir() {
			return nil
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			b.skip(rel, reasonSymlink)
			return nil
		case strings.HasSuffix(base, ".age"):
			b.skip(rel, reasonAge)
			return nil
		case !strings.HasSuffix(base, ".gpg") || !d.Type().IsRegular():
			b.skip(rel, reasonNotFile)
			return nil
		}
		plain, err := gpgDecrypt(gpg, p, o.Env)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		defer clear(plain)
		segs := strings.Split(strings.TrimSuffix(rel, ".gpg"), "/")
		b.addPass(segs[:len(segs)-1], segs[len(segs)-1], plain)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &b.plan, nil
}

func (b *builder) addPass(folder []string, title string, plain []byte) {
	if !utf8.Valid(plain) {
		b.secret(path(folder, title), bytes.Clone(plain), vault.TypeOther, "", nil)
		return
	}
	first, rest, _ := strings.Cut(string(plain), "\n")
	e := entry{folder: folder, title: title, value: []byte(strings.TrimSuffix(first, "\r")), typ: vault.TypePassword}
	var note []string
	for _, l := range strings.Split(rest, "\n") {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "otpauth://") && e.totp == "" {
			e.totp = t
			continue
		}
		note = append(note, l)
	}
	e.notes = strings.Join(note, "\n")
	b.add(e)
}

// gpgTimeout bounds one decryption; the agent may be asking for a
// passphrase, so it is generous.
const gpgTimeout = 5 * time.Minute

func gpgDecrypt(gpg, file string, env []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), gpgTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, gpg, "--batch", "--quiet", "--decrypt", "--", file)
	cmd.Env = env
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		clear(out.Bytes())
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			// gpg's stderr names keys and files, never plaintext.
			return nil, fmt.Errorf("gpg could not decrypt it: %s", lastLine(stderr.String()))
		}
		return nil, fmt.Errorf("failed to run %s: %w", gpg, err)
	}
	if out.Len() > vault.MaxValueSize+vault.MaxNoteSize {
		clear(out.Bytes())
		return nil, errors.New("decrypted entry is larger than a secret and its note can be")
	}
	return out.Bytes(), nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return "no message from gpg"
	}
	return s
}
