package vault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

// listFixture is a vault whose secrets carry every kind of metadata a
// listing shows, plain and not (a revocation, a dynamic source, a time
// outside UTC).
func listFixture(t *testing.T) *Vault {
	t.Helper()
	v := newVault(t)
	typ, note, tags := TypeAPIKey, "the billing key", []string{"billing", "prod"}
	every := 30 * 24 * time.Hour
	expires := time.Date(2031, 5, 6, 7, 8, 9, 10, time.UTC)
	rotator := "gen-token --len 32"
	if _, err := v.Set("app/prod/BILLING", []byte("b1"), Update{Type: &typ, Note: &note, Tags: &tags, RotateEvery: &every, Expires: &expires, Rotator: &rotator}); err != nil {
		t.Fatal(err)
	}
	zoned := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("", 2*3600))
	if _, err := v.Set("app/dev/ZONED", []byte("z"), Update{Expires: &zoned}); err != nil {
		t.Fatal(err)
	}
	mustSet(t, v, "app/prod/LEAKED", "l1")
	if _, err := v.Revoke("app/prod/LEAKED", "pasted in chat"); err != nil {
		t.Fatal(err)
	}
	dyn := TypeDynamicPostgres
	if _, err := v.Set("db/admin", []byte("postgres://admin@db/app"), Update{Type: &dyn, Dynamic: &DynamicSource{Template: "GRANT SELECT ON t TO {{name}}", TTL: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		mustSet(t, v, fmt.Sprintf("app/f%d/K%02d", i%3, i), "x")
	}
	mustSet(t, v, "app/x.y-z_1", "u")
	return v
}

// TestListCacheIsTheListing: a listing from the cache is exactly the
// listing of every row opened and checked, for the whole vault and for a
// folder, and the second List reads the cache.
func TestListCacheIsTheListing(t *testing.T) {
	v := listFixture(t)
	for _, folder := range []string{"", "app", "app/prod", "app/f1", "db", "none"} {
		want, err := v.list(folder)
		if err != nil {
			t.Fatal(err)
		}
		first, err := v.List(folder) // writes the cache when it is missing
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := v.cachedList(); !ok {
			t.Fatalf("List(%q) left no cache that opens", folder)
		}
		second, err := v.List(folder)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, want) || !reflect.DeepEqual(second, want) {
			t.Errorf("List(%q):\n uncached %+v\n first    %+v\n cached   %+v", folder, want, first, second)
		}
	}
	// The browser's index reads the cache too: the same entries, and
	// their metadata opens.
	idx, err := v.Index()
	if err != nil {
		t.Fatal(err)
	}
	full, err := v.indexAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(idx, full) {
		t.Errorf("Index from the cache:\n %+v\nwant\n %+v", idx, full)
	}
	for i := range idx {
		if _, err := v.Meta(&idx[i]); err != nil {
			t.Errorf("Meta(%s): %v", idx[i].Name, err)
		}
	}
	// Through ListWithPolicies too (what ls and due call).
	if err := v.SetPolicy("app", 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	es, err := v.ListWithPolicies("app/f0")
	if err != nil || len(es) == 0 || es[0].RotateFrom != "app" {
		t.Fatalf("ListWithPolicies: %+v, %v", es, err)
	}
}

// TestListCacheShowsNothing: the cache is sealed (no name, note, tag or
// other metadata in it) and readable by the owner only.
func TestListCacheShowsNothing(t *testing.T) {
	v := listFixture(t)
	if _, err := v.List(""); err != nil {
		t.Fatal(err)
	}
	path := ListCachePath(v.Path())
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no cache written: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("cache mode %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	for _, s := range []string{"BILLING", "app/", "billing key", "gen-token", "pasted in chat", "GRANT", "x.y-z_1", "api-key"} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the cache holds %q in plaintext", s)
		}
	}
}

// TestListCacheFollowsChanges: every change, by this handle or by another
// process's, is listed; a damaged or foreign cache is not believed.
func TestListCacheFollowsChanges(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/A", "a")
	names := func(step string, want ...string) {
		t.Helper()
		es, err := v.List("")
		if err != nil {
			t.Fatalf("after %s: %v", step, err)
		}
		var got []string
		for _, e := range es {
			got = append(got, e.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("after %s: List = %q, want %q", step, got, want)
		}
	}
	names("set", "app/A")
	mustSet(t, v, "app/B", "b")
	names("set", "app/A", "app/B")
	v.Move("app/B", "app/C")
	names("mv", "app/A", "app/C")
	v.Remove("app/A")
	names("rm", "app/C")
	v.Rollback("app/A", 1)
	names("rollback", "app/A", "app/C")
	// Another process's write (a second handle on the file).
	w := reopenKey(t, v.Path())
	mustSet(t, w, "app/D", "d")
	w.Close()
	names("a write by another hush", "app/A", "app/C", "app/D")
	// A damaged cache, and another vault's, are rebuilt.
	path := ListCachePath(v.Path())
	b, _ := os.ReadFile(path)
	b[len(b)-1] ^= 1
	os.WriteFile(path, b, 0o600)
	names("damage", "app/A", "app/C", "app/D")
	other := newVault(t)
	mustSet(t, other, "other/X", "x")
	if _, err := other.List(""); err != nil {
		t.Fatal(err)
	}
	copyFile(t, ListCachePath(other.Path()), path)
	names("another vault's cache", "app/A", "app/C", "app/D")
	// A purge and a key rotation delete it.
	if _, err := v.List(""); err != nil {
		t.Fatal(err)
	}
	if err := v.Purge("app/D"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("purge left the listing cache: %v", err)
	}
	names("purge", "app/A", "app/C")
	if err := v.RotateKey([]byte("a new passphrase"), crypto.FloorKDF); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a key rotation left the listing cache sealed under the old key: %v", err)
	}
	names("rotate", "app/A", "app/C")
	v.Lock()
	if _, err := v.List(""); err == nil {
		t.Error("List on a locked vault")
	}
}

// TestListCacheWithAnOlderVault: an older copy of the vault put back
// together with its own listing cache (the audit log kept) opens that
// cache, and is still refused: the anchor is compared with the log at
// every List.
func TestListCacheWithAnOlderVault(t *testing.T) {
	v := newVault(t)
	set(t, v, "app/K1", "k1")
	path := v.Path()
	v.Close()
	// The cache is written against the file as a new process finds it
	// (the handle that wrote has frames in the -wal until it closes).
	v = reopenKey(t, path)
	if _, err := v.List(""); err != nil {
		t.Fatal(err)
	}
	v.Close()
	files := []string{path, path + "-wal", ListCachePath(path)}
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			copyFile(t, f, f+".old")
		}
	}
	v = reopenKey(t, path)
	set(t, v, "app/K2", "k2")
	if _, err := v.List(""); err != nil {
		t.Fatal(err)
	}
	v.Close()
	for _, f := range files {
		os.Remove(f)
		if _, err := os.Stat(f + ".old"); err == nil {
			copyFile(t, f+".old", f)
		}
	}
	v = reopenKey(t, path)
	if _, _, ok := v.cachedList(); !ok {
		t.Fatal("the older cache does not open against the older vault: this test no longer tests what it says")
	}
	_, err := v.List("")
	wantRefused(t, "ls", err, "the vault went back in time")
}

// TestListCacheRowPutBack: a secret's older row put back (its newer
// version deleted) after the cache was written: the bytes changed, so
// every row is checked and the anchor's digest refuses it.
func TestListCacheRowPutBack(t *testing.T) {
	v := newVault(t)
	set(t, v, "app/K", "old")
	id := rowID(t, v, "app/K")
	var head, created, updated, changed int64
	var mac []byte
	if err := v.db.QueryRow(`SELECT head, created, updated, changed, row_mac FROM secrets WHERE id = x'`+id+`'`).
		Scan(&head, &created, &updated, &changed, &mac); err != nil {
		t.Fatal(err)
	}
	set(t, v, "app/K", "new")
	set(t, v, "app/OTHER", "o") // the anchor's last change is another secret
	// The control: an edit that changes nothing leaves a cache that opens.
	v = reopenKey(t, tamperFile(t, v, `SELECT 1`))
	if _, _, ok := v.cachedList(); !ok {
		t.Fatal("no listing cache that opens after a no-op edit: this test no longer tests what it says")
	}
	path := tamperFile(t, v, // tamperFile writes the cache first
		fmt.Sprintf(`DELETE FROM versions WHERE secret_id = x'%s' AND version > %d`, id, head),
		fmt.Sprintf(`UPDATE secrets SET head = %d, created = %d, updated = %d, changed = %d, row_mac = x'%x' WHERE id = x'%s'`, head, created, updated, changed, mac, id))
	v = reopenKey(t, path)
	_, err := v.List("")
	wantRefused(t, "ls", err, "the secrets the vault holds are not the ones its anchor recorded")
	// And the cache it finds is not rewritten over the tampered file.
	if _, _, ok := v.cachedList(); ok {
		t.Error("a listing cache opens against the tampered file")
	}
}

// TestListCodecKnowsEveryMetaField fails when Meta gains a field: add it
// to encodeListing and decodeListing (listcodec.go), or to plainMeta's
// exclusions, then here.
func TestListCodecKnowsEveryMetaField(t *testing.T) {
	known := []string{"Type", "Note", "Tags", "RotateEvery", "Expires", "Rotator", "Revoked", "Exposed", "NotAfter", "Summary", "Dynamic", "ValueSince"}
	var got []string
	for f := range reflect.TypeFor[Meta]().Fields() {
		got = append(got, f.Name)
	}
	if !slices.Equal(got, known) {
		t.Fatalf("Meta's fields are %q; the listing cache's codec knows %q", got, known)
	}
	known = []string{"ID", "Name", "Version", "Meta", "Created", "Updated", "RotateFrom"}
	got = nil
	for f := range reflect.TypeFor[Entry]().Fields() {
		got = append(got, f.Name)
	}
	if !slices.Equal(got, known) {
		t.Fatalf("Entry's fields are %q; the listing cache's codec knows %q", got, known)
	}
}

// TestListCodecRoundTrip: every field of every kind of metadata comes
// back as it went in.
func TestListCodecRoundTrip(t *testing.T) {
	at := time.Date(2029, 3, 4, 5, 6, 7, 8, time.UTC)
	es := []Entry{
		{ID: "00", Name: "a", Version: 1, Created: time.Unix(0, 5), Updated: time.Unix(0, 6)},
		{ID: "0102", Name: "b/c", Version: 7, Created: time.Unix(0, -5), Updated: time.Unix(1e9, 0), Meta: Meta{
			Type: TypeToken, Note: "n", Tags: []string{"x", ""}, RotateEvery: time.Hour, Expires: at, Rotator: "r",
			NotAfter: at.Add(time.Hour), Summary: "s", ValueSince: at.Add(-time.Hour)}},
		{ID: "03", Name: "d", Version: 2, Created: time.Unix(0, 1), Updated: time.Unix(0, 2), Meta: Meta{
			Revoked: &Revocation{At: at, Reason: "leak"}, Exposed: &Exposure{At: at, Reason: "left"},
			Dynamic: &DynamicSource{Template: "t", TTL: time.Minute}, Expires: at.In(time.FixedZone("", -3600))}},
		{ID: "04", Name: "far", Version: 1, Created: time.Unix(0, 1), Updated: time.Unix(0, 1), Meta: Meta{
			Expires: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}},
	}
	got, maxSeen, err := decodeListing(encodeListing(es, 42))
	if err != nil || maxSeen != 42 {
		t.Fatalf("decode: %v, maxSeen %d", err, maxSeen)
	}
	if len(got) != len(es) {
		t.Fatalf("%d entries back, want %d", len(got), len(es))
	}
	for i := range es {
		if !reflect.DeepEqual(got[i].Meta.Tags, es[i].Meta.Tags) || got[i].ID != es[i].ID || got[i].Name != es[i].Name ||
			got[i].Version != es[i].Version || !got[i].Created.Equal(es[i].Created) || !got[i].Updated.Equal(es[i].Updated) {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], es[i])
		}
		a, _ := jsonMeta(got[i].Meta)
		b, _ := jsonMeta(es[i].Meta)
		if a != b {
			t.Errorf("entry %d's metadata: %s, want %s", i, a, b)
		}
	}
}

// FuzzListCache feeds any bytes as the listing cache: List never panics
// and never lists what the vault does not hold (a forged cache does not
// open, and every row is read instead); the codec never panics on any
// plaintext either.
func FuzzListCache(f *testing.F) {
	v := newVault(f)
	v.Set("app/KEY", []byte("x"), Update{})
	if _, err := v.List(""); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(ListCachePath(v.Path()))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(listCacheMagic))
	f.Add(append([]byte(listCacheMagic), make([]byte, 48)...))
	f.Add(encodeListing([]Entry{{ID: "ab", Name: "x", Meta: Meta{Tags: []string{"t"}}}}, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeListing(b)
		if err := os.WriteFile(ListCachePath(v.Path()), b, 0o600); err != nil {
			t.Fatal(err)
		}
		es, err := v.List("")
		if err != nil || len(es) != 1 || es[0].Name != "app/KEY" {
			t.Fatalf("List = %+v, %v", es, err)
		}
	})
}

func jsonMeta(m Meta) (string, error) {
	b, err := json.Marshal(m)
	return string(b), err
}
