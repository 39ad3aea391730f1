package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/hush-secrets/hush/vault/envfile"
)

// readSOPS decrypts a SOPS file by running `sops --decrypt --output-type
// json FILE` (sops finds the key as it always does: age, PGP or a cloud
// KMS) and reads the result as a flat JSON object, by envfile's rules:
// each key becomes a secret; a nested value is an error naming its key.
// The input type (dotenv, JSON, YAML, INI) is sops's to tell from the
// file name. Nothing decrypted touches the disk.
func readSOPS(file string, o Options) (*Plan, error) {
	if st, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", file, err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory: give one sops-encrypted file", file)
	}
	prog := o.SOPS
	if prog == "" {
		prog = "sops"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, "--decrypt", "--output-type", "json", "--", file)
	cmd.Env = o.Env
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	defer clear(out.Bytes())
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("sops could not decrypt %s: %s", file, lastLine(stderr.String()))
		}
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("sops is not installed (or not on PATH): hush runs `sops --decrypt` rather than reading SOPS files itself")
		}
		return nil, fmt.Errorf("failed to run %s: %w", prog, err)
	}
	entries, err := envfile.Parse(envfile.JSON, out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("decrypted %s: %w", file, err)
	}
	b := newBuilder()
	for _, e := range entries {
		b.secret(path(nil, e.Key), e.Value, "", "", nil)
	}
	if len(b.plan.Items) == 0 && len(b.plan.Skipped) == 0 {
		return nil, fmt.Errorf("%s holds no secrets", file)
	}
	return &b.plan, nil
}
