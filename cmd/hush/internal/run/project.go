package run

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/pelletier/go-toml/v2"

	"github.com/hush-secrets/hush/vault"
)

// ProjectFile is the name of the per-project file `hush run` looks for in
// the working directory and its parents.
const ProjectFile = ".hush.toml"

// Project is a .hush.toml:
//
//	vault = "team"             # optional: the vault to use
//	from  = ["app/dev"]        # folders to inject, later wins
type Project struct {
	Path  string   `toml:"-"`
	Vault string   `toml:"vault"`
	From  []string `toml:"from"`
}

// maxProjectSize bounds what is read: a project file is a few lines.
const maxProjectSize = 64 << 10

// ErrForeignProject means a project file another user owns or can
// write was found: hush does not use it (see [FindProject]).
var ErrForeignProject = errors.New("refusing a project file")

// FindProject looks for .hush.toml in dir and each parent. It returns nil
// and no error when there is none.
//
// A project file decides which secrets `hush run` hands to a program, so,
// as git does with a repository another user owns, hush refuses one that
// someone else can have chosen: owned by another user than you or root,
// reached through a link another user owns, or writable by group or
// others. That is an error, not a file skipped: a program run with other
// secrets than meant (or none) is worse than one not run.
func FindProject(dir string) (*Project, error) {
	for {
		p := filepath.Join(dir, ProjectFile)
		b, err := readProject(p)
		if err == nil {
			proj, err := ParseProject(b)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			proj.Path = p
			return proj, nil
		}
		if errors.Is(err, ErrForeignProject) {
			return nil, err
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("failed to read %s: %w", p, err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, nil
		}
		dir = parent
	}
}

// foreignFix is what to do about a project file hush refuses.
const foreignFix = "hush will not use it, since it decides what `hush run` injects; remove it if it is not yours, take it over (`chown`), or run with --no-project (and --from)"

func readProject(p string) ([]byte, error) {
	f, st, err := vault.OpenOwned(p, foreignFix)
	if err != nil {
		if errors.Is(err, vault.ErrUnsafePath) {
			return nil, fmt.Errorf("%w: %w", ErrForeignProject, err)
		}
		return nil, err
	}
	defer f.Close()
	if st.Mode().IsRegular() && st.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("%w: %s is writable by group or others (mode %04o): others can change what `hush run` injects; run `chmod go-w %s`, or run with --no-project (and --from)",
			ErrForeignProject, p, st.Mode().Perm(), p)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxProjectSize+1)); err != nil {
		return nil, err
	}
	if buf.Len() > maxProjectSize {
		return nil, fmt.Errorf("larger than %d bytes", maxProjectSize)
	}
	return buf.Bytes(), nil
}

// ParseProject parses a .hush.toml strictly: unknown keys are errors, so a
// typo ("form = ...") is caught instead of silently injecting nothing.
func ParseProject(b []byte) (*Project, error) {
	var p Project
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		var sm *toml.StrictMissingError
		if errors.As(err, &sm) {
			return nil, fmt.Errorf("unknown key: %s (hush understands vault and from)", sm.String())
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("line %d, column %d: %s", row, col, de.Error())
		}
		return nil, err
	}
	for _, f := range p.From {
		f, _ := OptionalFolder(f)
		if _, err := vault.CleanFolder(f); err != nil || f == "" {
			if err == nil {
				err = errors.New("empty folder")
			}
			return nil, fmt.Errorf("from: %w", err)
		}
	}
	return &p, nil
}
