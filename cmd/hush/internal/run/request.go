package run

import (
	"fmt"
	"io"
	"os"

	"github.com/hush-secrets/hush/vault/envfile"
)

// Request is a `hush run` as asked for, before the project file and the
// env file are read.
type Request struct {
	From        []string          // --from folders
	EnvFile     string            // a dotenv file to read, "" for none
	PreserveEnv bool              // inherited variables win
	NoProject   bool              // ignore ProjectFile
	Env         map[string]string // the parent's environment
	Command     []string
}

// Prepare reads the project file, looked for in the working folder and
// its parents (its folders count when r gives no --from), and the env file, and returns the Options to build the plan
// from, with the vault the project names ("" for none): the caller uses it
// when no vault was chosen otherwise.
func Prepare(r Request) (o Options, projectVault string, err error) {
	from := r.From
	if !r.NoProject {
		wd, err := os.Getwd()
		if err != nil {
			return o, "", err
		}
		proj, err := FindProject(wd)
		if err != nil {
			return o, "", err
		}
		if proj != nil {
			projectVault = proj.Vault
			if len(from) == 0 {
				from = proj.From
			}
		}
	}
	o = Options{From: from, PreserveEnv: r.PreserveEnv, Command: r.Command}
	for k, v := range r.Env {
		o.Parent = append(o.Parent, k+"="+v)
	}
	if r.EnvFile != "" {
		b, err := readFile(r.EnvFile, envfile.MaxInput)
		if err != nil {
			return o, "", err
		}
		o.EnvFile, o.EnvFileName = b, r.EnvFile
	}
	return o, projectVault, nil
}

// readFile reads the file path, refusing one larger than limit.
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}
