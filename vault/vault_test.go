package vault

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

var testPass = []byte("correct horse battery staple")

// newVault creates an unlocked vault at the KDF floor: tests use the
// cheapest parameters a real vault may have, never a bypass.
func newVault(t testing.TB) *Vault {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vaults", "test.db")
	v, err := Create(path, testPass, CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func reopen(t testing.TB, v *Vault) *Vault {
	t.Helper()
	path := v.Path()
	v.Close()
	v2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := v2.Unlock(testPass); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v2.Close() })
	return v2
}

func mustSet(t testing.TB, v *Vault, name, value string) SetResult {
	t.Helper()
	res, err := v.Set(name, []byte(value), Update{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestCreateOpenUnlock(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/prod/DATABASE_URL", "postgres://u:p@db/app")
	dir := filepath.Dir(v.Path())
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("vault folder mode %o, want 0700", st.Mode().Perm())
	}
	if st, _ := os.Stat(v.Path()); st.Mode().Perm() != 0o600 {
		t.Errorf("vault file mode %o, want 0600", st.Mode().Perm())
	}
	v = reopen(t, v)
	s, err := v.Get("app/prod/DATABASE_URL")
	if err != nil || string(s.Value) != "postgres://u:p@db/app" {
		t.Fatalf("Get after reopen = %v, %v", s, err)
	}
	if _, err := Create(v.Path(), testPass, CreateOptions{KDF: crypto.FloorKDF}); !errors.Is(err, ErrVaultExists) {
		t.Fatalf("second Create: %v, want ErrVaultExists", err)
	}
	if _, err := Open(filepath.Join(dir, "nope.db")); !errors.Is(err, ErrNoVault) {
		t.Fatalf("Open missing: %v, want ErrNoVault", err)
	}
}

func TestWrongPassphrase(t *testing.T) {
	v := newVault(t)
	path := v.Path()
	v.Close()
	v, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for _, p := range []string{"", "correct horse battery stapl", "Correct horse battery staple"} {
		if err := v.Unlock([]byte(p)); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("Unlock(%q) = %v, want ErrWrongPassphrase", p, err)
		}
	}
	if _, err := v.Get("x"); !errors.Is(err, ErrLocked) {
		t.Errorf("Get on a locked vault = %v, want ErrLocked", err)
	}
}

func TestReadableVaultRefused(t *testing.T) {
	v := newVault(t)
	path := v.Path()
	v.Close()
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		os.Chmod(path, mode)
		_, err := Open(path)
		var pe *PermissionError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %o: err = %v, want a PermissionError saying chmod 600", mode, err)
		}
	}
}

func TestVersionsHistoryRollback(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "a/KEY", "one")
	mustSet(t, v, "a/KEY", "two")
	if res := mustSet(t, v, "a/KEY", "two"); res.Changed || res.Version != 2 {
		t.Errorf("writing the same value again: %+v, want unchanged at version 2", res)
	}
	mustSet(t, v, "a/KEY", "three")
	old, err := v.GetVersion("a/KEY", 1)
	if err != nil || string(old.Value) != "one" {
		t.Fatalf("GetVersion 1 = %v %v", old, err)
	}
	if _, err := v.GetVersion("a/KEY", 9); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "latest is 3") {
		t.Errorf("GetVersion 9 = %v", err)
	}
	res, err := v.Rollback("a/KEY", 1)
	if err != nil || res.Version != 4 {
		t.Fatalf("Rollback = %+v %v", res, err)
	}
	s, _ := v.Get("a/KEY")
	if string(s.Value) != "one" || s.Version != 4 {
		t.Fatalf("after rollback: %q version %d", s.Value, s.Version)
	}
	h, _, err := v.History("a/KEY")
	if err != nil || len(h) != 4 || !h[3].Current || h[0].Size != 3 {
		t.Fatalf("History = %+v %v", h, err)
	}
}

func TestMetadataKeptAcrossVersions(t *testing.T) {
	v := newVault(t)
	typ, note, tags, every := TypeAPIKey, "from the stripe dashboard", []string{"billing", "prod"}, 30*24*time.Hour
	exp := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)
	if _, err := v.Set("stripe/KEY", []byte("sk_1"), Update{Type: &typ, Note: &note, Tags: &tags, RotateEvery: &every, Expires: &exp}); err != nil {
		t.Fatal(err)
	}
	mustSet(t, v, "stripe/KEY", "sk_2")
	s, _ := v.Get("stripe/KEY")
	if s.Type != TypeAPIKey || s.Note != note || len(s.Tags) != 2 || s.RotateEvery != every || !s.Expires.Equal(exp) {
		t.Fatalf("metadata lost on a new version: %+v", s.Meta)
	}
	if !s.RotationDue(s.Updated, time.Now().Add(31*24*time.Hour)) || s.RotationDue(s.Updated, time.Now()) {
		t.Error("rotation due computed wrongly")
	}
	bad := Type("bogus")
	if _, err := v.Set("x", []byte("v"), Update{Type: &bad}); err == nil {
		t.Error("unknown type accepted")
	}
	badTags := []string{"has space"}
	if _, err := v.Set("x", []byte("v"), Update{Tags: &badTags}); err == nil {
		t.Error("tag with a space accepted")
	}
}

func TestBinaryAndLargeValues(t *testing.T) {
	v := newVault(t)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>8)
	}
	odd := []byte("line1\nline2\r\n\x00\xff\xfe not utf-8 \xc3\x28")
	for name, val := range map[string][]byte{"big": big, "odd": odd, "empty": {}} {
		if _, err := v.Set(name, val, Update{}); err != nil {
			t.Fatal(err)
		}
		s, err := v.Get(name)
		if err != nil || !bytes.Equal(s.Value, val) {
			t.Fatalf("%s: value changed on the way through (%v)", name, err)
		}
	}
	if _, err := v.Set("huge", make([]byte, MaxValueSize+1), Update{}); err == nil {
		t.Fatal("value over the limit accepted")
	}
}

func TestRemovePurgeMoveCopy(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/A", "1")
	mustSet(t, v, "app/A", "2")
	if err := v.Remove("app/A"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get("app/A"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after rm = %v", err)
	}
	if l, _ := v.List(""); len(l) != 0 {
		t.Fatalf("List after rm = %v", l)
	}
	if h, _, err := v.History("app/A"); err != nil || len(h) != 2 {
		t.Fatalf("history after rm: %v %v", h, err)
	}
	if err := v.Remove("app/A"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second rm = %v", err)
	}
	// Setting a removed name revives it with its history.
	if res := mustSet(t, v, "app/A", "3"); res.Version != 3 {
		t.Fatalf("revive: %+v", res)
	}
	if err := v.Purge("app/A"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := v.History("app/A"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("history after purge = %v", err)
	}

	mustSet(t, v, "app/B", "b")
	mustSet(t, v, "app/C", "c")
	if _, err := v.Move("app/B", "app/C"); !errors.Is(err, ErrExists) {
		t.Fatalf("mv onto an existing name = %v", err)
	}
	if _, err := v.Move("app/B", "other/B2"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get("app/B"); !errors.Is(err, ErrNotFound) {
		t.Fatal("old name still answers after mv")
	}
	if s, err := v.Get("other/B2"); err != nil || string(s.Value) != "b" || s.Version != 2 {
		t.Fatalf("after mv: %v %v", s, err)
	}
	if _, err := v.Copy("other/B2", "app/B"); err != nil {
		t.Fatal(err)
	}
	if s, _ := v.Get("app/B"); string(s.Value) != "b" || s.Version != 1 {
		t.Fatalf("copy: %+v", s)
	}
	kids, err := v.Children("app")
	if err != nil || len(kids) != 2 || kids[0].Name != "app/B" || kids[1].Name != "app/C" {
		t.Fatalf("Children(app) = %v %v", kids, err)
	}
	l, _ := v.List("app")
	if len(l) != 2 {
		t.Fatalf("List(app) = %v", l)
	}
}

func TestNames(t *testing.T) {
	good := []string{"a", "app/prod/DATABASE_URL", "x.y-z_1/A", "..a", "a.."}
	bad := map[string]string{
		"":       "empty",
		"a//b":   "empty segment",
		"/a":     `starts with "/"`,
		"a/":     `ends with "/"`,
		"a/../b": `segment ".."`,
		"./a":    `segment "."`,
		"a b":    "not allowed",
		"a\x00b": "not allowed",
		"a\nb":   "not allowed",
		"é":      "not allowed",
	}
	for _, n := range good {
		if err := ValidName(n); err != nil {
			t.Errorf("ValidName(%q) = %v", n, err)
		}
	}
	for n, want := range bad {
		err := ValidName(n)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidName(%q) = %v, want %q", n, err, want)
		}
	}
	if err := ValidName(strings.Repeat("a", MaxNameLen+1)); err == nil {
		t.Error("over-long name accepted")
	}
	v := newVault(t)
	if _, err := v.Set("a//b", []byte("x"), Update{}); err == nil || err.Error() != `invalid name "a//b": empty segment` {
		t.Errorf("Set(a//b) = %v", err)
	}
}

// TestNoPlaintextOnDisk looks for names, values, notes and tags in the
// database file and its WAL, while the vault is open and after it closed.
func TestNoPlaintextOnDisk(t *testing.T) {
	v := newVault(t)
	typ, note, tags := TypeToken, "NOTE-MARKER-tqz", []string{"TAG-MARKER-kwm"}
	markers := []string{"VALUE-MARKER-xyz", "NAME-MARKER-abc", "FOLDER-MARKER-def", "NOTE-MARKER-tqz", "TAG-MARKER-kwm", "RENAMED-MARKER-q"}
	if _, err := v.Set("FOLDER-MARKER-def/NAME-MARKER-abc", []byte("VALUE-MARKER-xyz"), Update{Type: &typ, Note: &note, Tags: &tags}); err != nil {
		t.Fatal(err)
	}
	mustSet(t, v, "FOLDER-MARKER-def/NAME-MARKER-abc", "VALUE-MARKER-xyz-2")
	if _, err := v.Move("FOLDER-MARKER-def/NAME-MARKER-abc", "RENAMED-MARKER-q"); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		for _, suffix := range []string{"", "-wal", "-journal", "-shm"} {
			b, err := os.ReadFile(v.Path() + suffix)
			if err != nil {
				continue
			}
			for _, m := range markers {
				if bytes.Contains(b, []byte(m)) {
					t.Errorf("%s: %q found in %s", when, m, filepath.Base(v.Path()+suffix))
				}
			}
		}
	}
	check("while open")
	v.Close()
	check("after close")
}

// tamper opens the vault file directly, runs sql, and returns a freshly
// unlocked vault.
func tamper(t *testing.T, v *Vault, stmts ...string) *Vault {
	t.Helper()
	path := tamperFile(t, v, stmts...)
	v2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v2.Close() })
	return v2
}

// tamperFile closes v and runs sql on its file directly.
func tamperFile(t *testing.T, v *Vault, stmts ...string) string {
	t.Helper()
	path := v.Path()
	cacheListing(t, v)
	v.Close()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return path
}

// cacheListing closes v and writes its listing cache as the next process
// finds the file (v's -wal is checkpointed at close), when it lists
// without error: every edit of the file after it is made with a cache in
// place that would otherwise open, and a List after the edit must see the
// edit, not the cache (listcache.go).
func cacheListing(t *testing.T, v *Vault) {
	t.Helper()
	if v.keys == nil || v.memory {
		v.Close()
		return
	}
	key, err := v.Key()
	if err != nil {
		t.Fatal(err)
	}
	defer key.Wipe()
	path := v.Path()
	v.Close()
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.UnlockWithKey(key); err != nil {
		t.Fatal(err)
	}
	if _, err := w.List(""); err != nil {
		return
	}
	if _, _, ok := w.cachedList(); !ok {
		t.Fatal("List wrote no listing cache that opens")
	}
}

func wantTampered(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrTampered) || !strings.HasPrefix(err.Error(), "vault data failed authentication: ") {
		t.Errorf("%s: err = %v, want vault data failed authentication", what, err)
	}
}

func TestTampering(t *testing.T) {
	setup := func(t *testing.T) *Vault {
		v := newVault(t)
		mustSet(t, v, "a", "alpha-1")
		mustSet(t, v, "a", "alpha-2")
		mustSet(t, v, "b", "bravo-1")
		return v
	}
	flipByte := func(col string) string {
		return fmt.Sprintf(`UPDATE versions SET %[1]s = CAST(substr(%[1]s, 1, 30) || CASE WHEN substr(%[1]s, 31, 1) = x'00' THEN x'01' ELSE x'00' END || substr(%[1]s, 32) AS BLOB) WHERE version = 2`, col)
	}
	cases := []struct {
		name  string
		stmts []string
		read  func(v *Vault) error
	}{
		{"changed value byte", []string{flipByte("value")}, func(v *Vault) error { _, err := v.Get("a"); return err }},
		{"changed meta byte", []string{flipByte("meta")}, func(v *Vault) error { _, err := v.Get("a"); return err }},
		{"changed name byte", []string{flipByte("name")}, func(v *Vault) error { _, err := v.Get("a"); return err }},
		{"changed name byte, listing", []string{flipByte("name")}, func(v *Vault) error { _, err := v.List(""); return err }},
		{"value moved to another secret", []string{
			`UPDATE versions SET value = (SELECT value FROM versions WHERE version = 2) WHERE version = 1 AND secret_id = (SELECT id FROM secrets WHERE head = 1)`,
		}, func(v *Vault) error { _, err := v.Get("b"); return err }},
		{"value moved to another version", []string{
			`UPDATE versions SET value = (SELECT v1.value FROM versions v1 WHERE v1.secret_id = versions.secret_id AND v1.version = 1) WHERE version = 2`,
		}, func(v *Vault) error { _, err := v.Get("a"); return err }},
		{"lookup swapped between secrets", []string{
			`CREATE TEMP TABLE orig AS SELECT id, name_mac FROM secrets`,
			`UPDATE secrets SET name_mac = randomblob(32)`,
			`UPDATE secrets SET name_mac = (SELECT o.name_mac FROM orig o WHERE o.id != secrets.id)`,
		}, func(v *Vault) error { _, err := v.Get("b"); return err }},
		{"version re-numbered", []string{
			`DELETE FROM versions WHERE version = 2`,
			`UPDATE versions SET version = 2 WHERE version = 1 AND secret_id = (SELECT id FROM secrets WHERE head = 2)`,
		}, func(v *Vault) error { _, err := v.Get("a"); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := tamper(t, setup(t), tc.stmts...)
			if err := v.Unlock(testPass); err != nil {
				t.Fatal(err)
			}
			wantTampered(t, tc.name, tc.read(v))
		})
	}

	t.Run("changed header", func(t *testing.T) {
		for _, stmt := range []string{
			`UPDATE header SET epoch = 2`,
			`UPDATE header SET created = created + 1`,
			`UPDATE header SET vault_id = x'00112233445566778899aabbccddeeff'`,
			`UPDATE header SET wrapped_key = CAST(substr(wrapped_key, 1, 30) || CASE WHEN substr(wrapped_key, 31, 1) = x'00' THEN x'01' ELSE x'00' END || substr(wrapped_key, 32) AS BLOB)`,
			`UPDATE header SET header_mac = CAST(CASE WHEN substr(header_mac, 1, 1) = x'00' THEN x'01' ELSE x'00' END || substr(header_mac, 2) AS BLOB)`,
		} {
			v := tamper(t, setup(t), stmt)
			wantTampered(t, stmt, v.Unlock(testPass))
		}
	})
	t.Run("weakened KDF refused", func(t *testing.T) {
		v := setup(t)
		path := tamperFile(t, v, `UPDATE header SET kdf_memory = 1024, kdf_passes = 1`)
		if _, err := Open(path); !errors.Is(err, crypto.ErrWeakKDF) {
			t.Fatalf("Open with a weakened header = %v, want ErrWeakKDF", err)
		}
	})
	t.Run("remembered key checked", func(t *testing.T) {
		v := setup(t)
		other, _ := crypto.NewKey()
		if err := v.UnlockWithKey(other); !errors.Is(err, ErrWrongKey) {
			t.Fatalf("UnlockWithKey(random) = %v", err)
		}
		k, _ := v.Key()
		v = tamper(t, v, `UPDATE header SET epoch = 2`)
		if err := v.UnlockWithKey(k); err == nil {
			t.Fatal("a changed header was accepted with a remembered key")
		}
	})
}

func TestChangePassphrase(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "k", "v")
	key, _ := v.Key()
	newPass := []byte("a new and different passphrase")
	if err := v.ChangePassphrase(newPass, crypto.KDFParams{MemoryKiB: 20 * 1024, Passes: 2, Lanes: 1}); err != nil {
		t.Fatal(err)
	}
	path := v.Path()
	v.Close()
	v, _ = Open(path)
	defer v.Close()
	if err := v.Unlock(testPass); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("old passphrase still opens: %v", err)
	}
	if err := v.Unlock(newPass); err != nil {
		t.Fatal(err)
	}
	if v.KDF().MemoryKiB != 20*1024 {
		t.Fatalf("KDF parameters not updated: %v", v.KDF())
	}
	if s, err := v.Get("k"); err != nil || string(s.Value) != "v" {
		t.Fatal("secret lost in passwd")
	}
	if err := v.UnlockWithKey(key); err != nil {
		t.Fatalf("remembered key no longer valid after passwd: %v", err)
	}
	if err := v.ChangePassphrase(newPass, crypto.KDFParams{MemoryKiB: 1024, Passes: 1, Lanes: 1}); err == nil {
		t.Fatal("passwd accepted parameters below the floor")
	}
}

// TestConcurrentWriters uses separate handles, as separate processes would.
func TestConcurrentWriters(t *testing.T) {
	v := newVault(t)
	key, _ := v.Key()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := Open(v.Path())
			if err != nil {
				errs <- err
				return
			}
			defer h.Close()
			if err := h.UnlockWithKey(key); err != nil {
				errs <- err
				return
			}
			for j := range 10 {
				if _, err := h.Set(fmt.Sprintf("w%d/K%d", i, j), []byte(fmt.Sprint(i, j)), Update{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	l, err := v.List("")
	if err != nil || len(l) != 80 {
		t.Fatalf("after concurrent writes: %d secrets, %v", len(l), err)
	}
}

func TestSetManyIsAtomic(t *testing.T) {
	v := newVault(t)
	_, err := v.SetMany([]SetRequest{{Name: "ok/A", Value: []byte("1")}, {Name: "bad//name", Value: []byte("2")}}, time.Time{})
	if err == nil {
		t.Fatal("a bad name in a batch was accepted")
	}
	if l, _ := v.List(""); len(l) != 0 {
		t.Fatalf("a failed batch wrote %d secrets", len(l))
	}
}

func TestSetManyCreate(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/A", "old")
	mustSet(t, v, "app/gone", "x")
	if err := v.Remove("app/gone"); err != nil {
		t.Fatal(err)
	}
	_, err := v.SetMany([]SetRequest{{Name: "app/B", Value: []byte("1"), Create: true}, {Name: "app/A", Value: []byte("new"), Create: true}}, time.Time{})
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "app/A") {
		t.Fatalf("Create over a live secret = %v", err)
	}
	if s, _ := v.Get("app/A"); string(s.Value) != "old" || s.Version != 1 {
		t.Fatalf("app/A changed to %q v%d", s.Value, s.Version)
	}
	if _, err := v.Get("app/B"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the refused batch wrote app/B: %v", err)
	}
	res, err := v.SetMany([]SetRequest{{Name: "app/gone", Value: []byte("back"), Create: true}}, time.Time{})
	if err != nil || res[0].Version != 2 {
		t.Fatalf("Create over a removed secret = %v, %v", res, err)
	}
}

// TestSetManyMixesNewAndExisting: a batch larger than one existence query
// (500 names) of new, live and removed names gives each its right version,
// and a swapped lookup MAC is still caught for a name that exists.
func TestSetManyMixesNewAndExisting(t *testing.T) {
	v := newVault(t)
	var reqs []SetRequest
	for i := range 1200 {
		name := fmt.Sprintf("app/K%04d", i)
		switch i % 3 {
		case 1: // live, changed by the batch
			mustSet(t, v, name, "old")
		case 2: // removed, revived by the batch
			mustSet(t, v, name, "old")
			if err := v.Remove(name); err != nil {
				t.Fatal(err)
			}
		}
		reqs = append(reqs, SetRequest{Name: name, Value: []byte("new")})
	}
	res, err := v.SetMany(reqs, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		wantCreated, wantVersion := i%3 == 0, map[int]int{0: 1, 1: 2, 2: 2}[i%3]
		if r.Created != wantCreated || r.Version != wantVersion || !r.Changed {
			t.Fatalf("%s: created %v version %d changed %v, want created %v version %d", r.Name, r.Created, r.Version, r.Changed, wantCreated, wantVersion)
		}
		if s, err := v.Get(r.Name); err != nil || string(s.Value) != "new" || s.Version != wantVersion {
			t.Fatalf("%s after the batch: %v %v", r.Name, s, err)
		}
	}
	if l, _ := v.List(""); len(l) != 1200 {
		t.Fatalf("%d live secrets after the batch, want 1200", len(l))
	}
	// The folder's authenticated count, sealed once at the batch's end,
	// is right: a folder read checks it.
	if c, err := v.Children("app"); err != nil || len(c) != 1200 {
		t.Fatalf("Children(app) after the batch = %d, %v", len(c), err)
	}
	// A batch that fails leaves no folder seal pending: the next write
	// seals its folder at once.
	if _, err := v.SetMany([]SetRequest{{Name: "app/NEW1", Value: []byte("x")}, {Name: "app/GONE", Value: []byte("x"), Existing: true}}, time.Time{}); err == nil {
		t.Fatal("a batch with a missing Existing name was accepted")
	}
	mustSet(t, v, "app/NEW2", "x")
	if c, err := v.Children("app"); err != nil || len(c) != 1201 {
		t.Fatalf("Children(app) after a failed batch and a set = %d, %v", len(c), err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	v := newVault(t)
	path := tamperFile(t, v, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()+1))
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "upgrade hush") {
		t.Fatalf("Open of a newer schema = %v", err)
	}
}

func TestFolderPolicies(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/prod/DB", "x")
	own := 7 * 24 * time.Hour
	if _, err := v.Set("app/prod/OWN", []byte("y"), Update{RotateEvery: &own}); err != nil {
		t.Fatal(err)
	}
	mustSet(t, v, "other/K", "z")
	if err := v.SetPolicy("app", 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := v.SetPolicy("app/prod", 90*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	ps, err := v.Policies()
	if err != nil || len(ps) != 2 || ps[0].Folder != "app" {
		t.Fatalf("Policies = %v, %v", ps, err)
	}
	for name, want := range map[string]time.Duration{"app/prod/DB": 90 * 24 * time.Hour, "app/prod/OWN": own, "other/K": 0} {
		s, _ := v.Get(name)
		Inherit(&s.Meta, name, ps)
		if s.RotateEvery != want {
			t.Errorf("%s inherits %v, want %v", name, s.RotateEvery, want)
		}
	}
	if err := v.SetPolicy("app/prod", 0); err != nil {
		t.Fatal(err)
	}
	ps, _ = v.Policies()
	if len(ps) != 1 {
		t.Fatalf("policy not removed: %v", ps)
	}
	v = tamper(t, v, `UPDATE policies SET policy = CAST(substr(policy, 1, 30) || CASE WHEN substr(policy, 31, 1) = x'00' THEN x'01' ELSE x'00' END || substr(policy, 32) AS BLOB)`)
	v.Unlock(testPass)
	if _, err := v.Policies(); !errors.Is(err, ErrTampered) {
		t.Fatalf("a changed policy: %v", err)
	}
}

func TestIntervalsReadBack(t *testing.T) {
	for _, d := range []time.Duration{8 * time.Hour, 90 * time.Minute, 30 * 24 * time.Hour, 45 * time.Second, 2*time.Hour + 30*time.Second} {
		s := FormatInterval(d)
		back, err := ParseInterval(s)
		if err != nil || back != d {
			t.Errorf("FormatInterval(%v) = %q, reads back as %v (%v)", d, s, back, err)
		}
	}
	if got := FormatInterval(8 * time.Hour); got != "8h" {
		t.Errorf("FormatInterval(8h) = %q", got)
	}
}

// A vault made without a KDF cost gets the default memory, with passes
// calibrated for this machine (never fewer than the default).
func TestCreateCalibratesWithoutKDF(t *testing.T) {
	v, err := Create(filepath.Join(t.TempDir(), "vaults", "c.db"), testPass, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	p := v.KDF()
	if p.MemoryKiB != crypto.DefaultKDF.MemoryKiB || p.Lanes != crypto.DefaultKDF.Lanes || p.Passes < crypto.DefaultKDF.Passes {
		t.Errorf("KDF %s, want %s or more passes", p, crypto.DefaultKDF)
	}
}

// Remove deletes the vault with its SQLite side files and its audit log,
// and nothing else in the folder.
func TestRemoveDeletesTheVaultAndItsFiles(t *testing.T) {
	v := newVault(t)
	if _, err := v.Set("a/KEY", []byte("x"), Update{}); err != nil {
		t.Fatal(err)
	}
	if err := v.Record("set", []string{"a/KEY"}, nil); err != nil {
		t.Fatal(err)
	}
	// Its caches too: the sealed listing and names.
	if _, err := v.List(""); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Names(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(v.Path())
	other := filepath.Join(dir, "other.db")
	if err := os.WriteFile(other, []byte("another vault"), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadDir(dir)
	if len(before) < 3 {
		t.Fatalf("expected the vault, its audit log and other.db, got %d files", len(before))
	}
	// Removed while still open, as a failed join does before closing.
	if err := Remove(v.Path()); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadDir(dir)
	if len(after) != 1 || after[0].Name() != "other.db" {
		var names []string
		for _, e := range after {
			names = append(names, e.Name())
		}
		t.Errorf("left: %v", names)
	}
	if err := Remove(v.Path()); err != nil {
		t.Errorf("removing again: %v", err)
	}
}

// TestIndexHead: the head is part of the index, sorted, and the count is
// every live secret's.
func TestIndexHead(t *testing.T) {
	v := newVault(t)
	for i := range 30 {
		mustSet(t, v, fmt.Sprintf("app/K%02d", 29-i), "x")
	}
	if err := v.Remove("app/K00"); err != nil {
		t.Fatal(err)
	}
	head, total, err := v.IndexHead(10)
	if err != nil || total != 29 || len(head) != 10 {
		t.Fatalf("IndexHead(10) = %d entries, total %d, %v; want 10 of 29", len(head), total, err)
	}
	all, err := v.Index()
	if err != nil || len(all) != 29 {
		t.Fatalf("Index = %d, %v", len(all), err)
	}
	names := map[string]bool{}
	for _, e := range all {
		names[e.Name] = true
	}
	for i, e := range head {
		if !names[e.Name] {
			t.Errorf("head entry %s is not a live secret", e.Name)
		}
		if i > 0 && head[i-1].Name >= e.Name {
			t.Errorf("head not sorted: %s before %s", head[i-1].Name, e.Name)
		}
	}
}

// TestSetManyBatchesNewRows: new secrets are written many rows per
// statement, with their row MACs computed before the INSERT. Runs longer
// than one batch, in several folders, around an existing name, each come
// out readable, counted, and sealed exactly as sealRow seals a row read
// back from the file.
func TestSetManyBatchesNewRows(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "a/EXISTING", "old")
	var reqs []SetRequest
	for i := range 2*insertBatch + 44 {
		reqs = append(reqs, SetRequest{Name: fmt.Sprintf("%c/N%04d", 'a'+i%3, i), Value: fmt.Appendf(nil, "v%d", i)})
	}
	reqs = append(reqs, SetRequest{Name: "a/EXISTING", Value: []byte("new")})
	for i := range insertBatch + 1 {
		reqs = append(reqs, SetRequest{Name: fmt.Sprintf("d/M%04d", i), Value: []byte("m")})
	}
	res, err := v.SetMany(reqs, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		s, err := v.Get(r.Name)
		if err != nil || string(s.Value) != string(reqs[i].Value) {
			t.Fatalf("%s after the batch: %v %v", r.Name, s, err)
		}
	}
	for folder, want := range map[string]int{"a": 101, "b": 100, "c": 100, "d": insertBatch + 1} {
		if c, err := v.Children(folder); err != nil || len(c) != want {
			t.Fatalf("Children(%s) = %d, %v; want %d", folder, len(c), err, want)
		}
	}
	rows, err := v.db.Query(`SELECT id, row_mac FROM secrets`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string][]byte{}
	for rows.Next() {
		var id, mac []byte
		if err := rows.Scan(&id, &mac); err != nil {
			t.Fatal(err)
		}
		stored[string(id)] = mac
	}
	rows.Close()
	for id, mac := range stored {
		if err := v.sealRow(v.db, []byte(id)); err != nil {
			t.Fatal(err)
		}
		var again []byte
		if err := v.db.QueryRow(`SELECT row_mac FROM secrets WHERE id = ?`, []byte(id)).Scan(&again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mac, again) {
			t.Fatalf("row %x: the MAC written with the INSERT differs from sealRow's", id)
		}
	}
}
