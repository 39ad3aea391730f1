package unlock

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/crypto"
)

// createPass is this file's own: the other tests' pass is Linux-only.
const createPass = "correct horse battery staple"

// A vault already there is refused before the passphrase is asked; a new
// one opens with the passphrase given, which Create wipes.
func TestCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	var given []byte
	ask := func() (crypto.KDFParams, []byte, error) {
		given = []byte(createPass)
		return crypto.FloorKDF, given, nil
	}
	v, note, err := Create("v", path, "", ask)
	if err != nil {
		t.Fatal(err)
	}
	if note != "" {
		t.Errorf("note for a fresh vault: %q", note)
	}
	if string(given) == createPass {
		t.Error("the passphrase was not wiped")
	}
	v.Close()
	asked := false
	_, _, err = Create("v", path, ": use --vault NAME", func() (crypto.KDFParams, []byte, error) {
		asked = true
		return crypto.FloorKDF, []byte(createPass), nil
	})
	if err == nil || !strings.Contains(err.Error(), "vault v already exists at "+path+": use --vault NAME") {
		t.Fatalf("second create: %v", err)
	}
	if asked {
		t.Error("the passphrase was asked for a vault that exists")
	}
}
