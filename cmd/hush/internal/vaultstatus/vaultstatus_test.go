package vaultstatus

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/unlock"
)

func TestReadNeverUnlocksAndListsEveryField(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vaults", "default.db")
	v, err := vault.Create(path, []byte("correct horse battery staple"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Set("app/KEY", []byte("v"), vault.Update{}); err != nil {
		t.Fatal(err)
	}
	v.Close()
	if v, err = vault.Open(path); err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	st, err := Read(v, "default", path, &unlock.Chain{Passphrase: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Locked() {
		t.Error("status unlocked a vault of one's own (only a team's sealed state calls for that)")
	}
	if !st.Locked || st.Secrets != 1 || st.Sync != nil || st.KDF.MemoryKiB != crypto.FloorKDF.MemoryKiB {
		t.Errorf("status = %+v", st)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"` + st.ID + `","kdf":{"algorithm":"argon2id","lanes":` // keys in the order status --json has always had
	if !strings.HasPrefix(string(b), want) || !strings.Contains(string(b), `"remembered":[],"secrets":1,"unavailable":[],"vault":"default"}`) {
		t.Errorf("JSON = %s", b)
	}
	var text []string
	for _, l := range st.Lines(time.Now()) {
		text = append(text, l.Label+": "+l.Text)
	}
	if got := strings.Join(text, "\n"); got != "vault: default ("+path+")\nsecrets: 1\nkey: "+crypto.FloorKDF.String()+"\nstate: locked: commands ask for the passphrase (`hush unlock` remembers it)" {
		t.Errorf("lines:\n%s", got)
	}
}
