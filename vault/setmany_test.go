package vault

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

// TestSetManyAcrossSortedRuns: more new secrets than one sorted run, in
// two folders, with an existing secret in the middle: every result is in
// the order asked, every value and folder count is right after the write
// (the rows were written in id order, not in the order given).
func TestSetManyAcrossSortedRuns(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "a/EXISTING", "old")
	var reqs []SetRequest
	want := map[string]string{}
	for i := range sortedRun + 5 {
		if i == sortedRun/2 {
			reqs = append(reqs, SetRequest{Name: "a/EXISTING", Value: []byte("new")})
			want["a/EXISTING"] = "new"
		}
		name := fmt.Sprintf("%c/N%05d", 'a'+i%2, i)
		reqs = append(reqs, SetRequest{Name: name, Value: fmt.Appendf(nil, "value %d", i)})
		want[name] = fmt.Sprintf("value %d", i)
	}
	res, err := v.SetMany(reqs, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Name != reqs[i].Name {
			t.Fatalf("result %d is %s, want %s", i, r.Name, reqs[i].Name)
		}
	}
	v = reopen(t, v)
	got := map[string]string{}
	for _, folder := range []string{"a", "b"} {
		ss, err := v.Children(folder)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			got[s.Name] = string(s.Value)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d secrets after the write, want %d", len(got), len(want))
	}
	for name, value := range want {
		if got[name] != value {
			t.Fatalf("%s = %q, want %q", name, got[name], value)
		}
	}
	if s, err := v.Get("a/EXISTING"); err != nil || s.Version != 2 {
		t.Fatalf("a/EXISTING after the write: %v, %v; want version 2", s, err)
	}
}

// TestSetManyFailedInsertWritesNothing: a batched INSERT that breaks a
// constraint (OR ROLLBACK: SQLite ends the whole transaction) fails the
// write with nothing of it stored, the vault's checks still pass, and
// the vault takes the next write.
func TestSetManyFailedInsertWritesNothing(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/KEEP", "kept")
	err := v.write(func(tx *sql.Tx) error {
		now := time.Now().UnixNano()
		var rows []newRow
		for i := range 3 {
			name := fmt.Sprintf("app/N%d", i)
			r, err := v.newRow(name, v.nameMAC(name), v.folderMAC("app"), Meta{Type: TypeOther}, []byte("v"), now)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
		if err := v.insertRows(tx, rows[:2]); err != nil {
			return err
		}
		return v.insertRows(tx, rows) // rows[0] and rows[1] again: their ids and names are taken
	})
	if err == nil {
		t.Fatal("writing the same rows twice succeeded")
	}
	v = reopen(t, v)
	idx, err := v.Index()
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) != 1 || idx[0].Name != "app/KEEP" {
		t.Fatalf("index after the failed write: %v", idx)
	}
	if _, err := v.List("app"); err != nil {
		t.Fatalf("list after the failed write: %v", err)
	}
	if _, err := v.Get("app/N0"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a row of the failed write: %v", err)
	}
	mustSet(t, v, "app/AFTER", "x")
	if s, err := v.Get("app/KEEP"); err != nil || string(s.Value) != "kept" {
		t.Fatalf("app/KEEP: %v %v", s, err)
	}
}

// TestSecretADIsCryptoAD: the associated data the vault builds for a
// sealed field is byte for byte crypto.AD of the same parts.
func TestSecretADIsCryptoAD(t *testing.T) {
	v := newVault(t)
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		id := make([]byte, rnd.IntN(40))
		for j := range id {
			id[j] = byte(rnd.IntN(256))
		}
		field := []string{"name", "meta", "value", "", "x\x00y"}[i%5]
		version, epoch := rnd.IntN(1<<40)-1<<20, rnd.IntN(1000)
		if i%7 == 0 {
			version = -version
		}
		got := v.ad(id, field, version, epoch)
		want := crypto.AD("hush/v1/secret", v.hdr.vaultID, id, field, version, epoch)
		if !bytes.Equal(got, want) {
			t.Fatalf("ad(%x, %q, %d, %d) = %x, want %x", id, field, version, epoch, got, want)
		}
	}
}

// TestMetaJSONMemo: the metadata sealed for a version is exactly
// encoding/json's bytes for it, whether the memo of the last metadata
// answers or not: equal metadata one after the other, metadata that
// differs in each field the memo compares, and metadata it never keeps
// (tags, a revocation).
func TestMetaJSONMemo(t *testing.T) {
	v := newVault(t)
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	note := "a note"
	metas := []Meta{
		{Type: TypeOther},
		{Type: TypeOther},
		{Type: TypePassword},
		{Type: TypePassword, Note: note},
		{Type: TypePassword, Note: note, RotateEvery: time.Hour},
		{Type: TypePassword, Note: note, RotateEvery: time.Hour, Expires: at},
		{Type: TypePassword, Note: note, RotateEvery: time.Hour, Expires: at, Rotator: "rot"},
		{Type: TypePassword, Note: note, RotateEvery: time.Hour, Expires: at, Rotator: "rot", Summary: "s"},
		{Type: TypePassword, Note: note, RotateEvery: time.Hour, Expires: at, Rotator: "rot", Summary: "s", NotAfter: at},
		{Type: TypePassword, Note: note, RotateEvery: time.Hour, Expires: at, Rotator: "rot", Summary: "s", NotAfter: at, ValueSince: at},
		{Type: TypePassword, Note: note, RotateEvery: time.Hour, Expires: at, Rotator: "rot", Summary: "s", NotAfter: at, ValueSince: at, Tags: []string{"t"}},
		{Type: TypePassword, Note: note, RotateEvery: time.Hour, Expires: at, Rotator: "rot", Summary: "s", NotAfter: at, ValueSince: at},
		{Type: TypeOther, Revoked: &Revocation{At: at, Reason: "leaked"}},
		{Type: TypeOther},
		{Type: TypeOther, Expires: at.In(time.FixedZone("X", 3600))},
		{Type: TypeOther, Expires: at},
	}
	for i, m := range metas {
		got, err := v.metaJSON(m)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("metadata %d: sealed %s, want %s", i, got, want)
		}
	}
	// And what SetMany stores opens to the metadata asked for.
	res, err := v.SetMany([]SetRequest{
		{Name: "m/A", Value: []byte("a")},
		{Name: "m/B", Value: []byte("b"), Update: Update{Note: &note}},
		{Name: "m/C", Value: []byte("c")},
	}, time.Time{})
	if err != nil || len(res) != 3 {
		t.Fatalf("SetMany: %v, %v", res, err)
	}
	for name, wantNote := range map[string]string{"m/A": "", "m/B": note, "m/C": ""} {
		s, err := v.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if s.Note != wantNote || s.Type != TypeOther {
			t.Errorf("%s: type %q note %q, want other and %q", name, s.Type, s.Note, wantNote)
		}
	}
}

// TestSetManyFindsExistingBothWays: whether SetMany reads the whole name
// index (a vault with no more rows than names written) or asks for the
// names given (a larger vault), an existing secret, live or removed, gets
// a new version instead of a second row, and a new name is created.
func TestSetManyFindsExistingBothWays(t *testing.T) {
	for _, tc := range []struct {
		what  string
		extra int // secrets in the vault besides the two below
	}{{"whole index read", 0}, {"names asked", 20}} {
		t.Run(tc.what, func(t *testing.T) {
			v := newVault(t)
			mustSet(t, v, "e/LIVE", "old")
			mustSet(t, v, "e/GONE", "old")
			if err := v.Remove("e/GONE"); err != nil {
				t.Fatal(err)
			}
			for i := range tc.extra {
				mustSet(t, v, fmt.Sprintf("x/K%02d", i), "x")
			}
			res, err := v.SetMany([]SetRequest{
				{Name: "e/LIVE", Value: []byte("new")},
				{Name: "e/NEW", Value: []byte("new")},
				{Name: "e/GONE", Value: []byte("back")},
			}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			want := []SetResult{
				{Name: "e/LIVE", Version: 2, Changed: true},
				{Name: "e/NEW", Version: 1, Created: true, Changed: true},
				{Name: "e/GONE", Version: 2, Changed: true},
			}
			for i := range want {
				if res[i] != want[i] {
					t.Errorf("result %d = %+v, want %+v", i, res[i], want[i])
				}
			}
			if n, err := v.Count(); err != nil || n != 3+tc.extra {
				t.Errorf("Count = %d, %v; want %d", n, err, 3+tc.extra)
			}
			for name, value := range map[string]string{"e/LIVE": "new", "e/NEW": "new", "e/GONE": "back"} {
				if s, err := v.Get(name); err != nil || string(s.Value) != value {
					t.Errorf("%s = %v, %v; want %q", name, s, err, value)
				}
			}
		})
	}
}

// TestWriteMACsAreTheVaultsMACs: the MACs a batch write computes with its
// reused HMACs are byte for byte the vault's own, for many inputs one
// after the other (a reused HMAC that kept state from the previous input
// would differ), and a row written by SetMany checks as any other.
func TestWriteMACsAreTheVaultsMACs(t *testing.T) {
	v := newVault(t)
	m := v.newWriteMACs()
	rnd := rand.New(rand.NewPCG(5, 6))
	for i := range 500 {
		name := fmt.Sprintf("f%d/%s", i, strings.Repeat("n", rnd.IntN(300)))
		if got, want := m.nameMAC(name), v.nameMAC(name); !bytes.Equal(got, want) {
			t.Fatalf("nameMAC(%q) = %x, want %x", name, got, want)
		}
		if got, want := m.folderMAC(Folder(name)), v.folderMAC(Folder(name)); !bytes.Equal(got, want) {
			t.Fatalf("folderMAC(%q) = %x, want %x", Folder(name), got, want)
		}
		st := rowState{id: make([]byte, 16), head: rnd.IntN(100) + 1, created: rnd.Int64(), updated: rnd.Int64(),
			nameMAC: v.nameMAC(name), folderMAC: v.folderMAC(Folder(name)), changed: rnd.Int64N(1000)}
		if i%3 == 0 {
			st.deleted = sql.NullInt64{Int64: rnd.Int64(), Valid: true}
		}
		for j := range st.id {
			st.id[j] = byte(rnd.IntN(256))
		}
		got, want := m.rowMAC(&st), v.rowMAC(&st)
		if !bytes.Equal(got, want) {
			t.Fatalf("rowMAC(%+v) = %x, want %x", st, got, want)
		}
		if e, w := m.rowElement(got), v.rowElement(want); !bytes.Equal(e, w) {
			t.Fatalf("rowElement(%x) = %x, want %x", got, e, w)
		}
	}
}

// TestRowMACInputIsCryptoAD: what a row MAC authenticates is byte for
// byte crypto.AD of the row's parts, as it was built before, in record
// format 5 (with the change number) and before it, live and removed.
func TestRowMACInputIsCryptoAD(t *testing.T) {
	v := newVault(t)
	rnd := rand.New(rand.NewPCG(7, 8))
	format := v.hdr.format
	defer func() { v.hdr.format = format }()
	for i := range 2000 {
		st := rowState{id: make([]byte, rnd.IntN(40)), head: rnd.IntN(1 << 30), created: rnd.Int64() - rnd.Int64(),
			updated: rnd.Int64(), nameMAC: make([]byte, rnd.IntN(40)), folderMAC: make([]byte, rnd.IntN(40)), changed: rnd.Int64()}
		for _, b := range [][]byte{st.id, st.nameMAC, st.folderMAC} {
			for j := range b {
				b[j] = byte(rnd.IntN(256))
			}
		}
		live := "live"
		if i%3 == 0 {
			st.deleted = sql.NullInt64{Int64: rnd.Int64(), Valid: true}
			live = "deleted"
		}
		v.hdr.format = []int{3, 4, Format}[i%3]
		want := crypto.AD("hush/v1/row", v.hdr.vaultID, st.id, st.head, st.created, st.updated,
			live, st.deleted.Int64, st.nameMAC, st.folderMAC)
		if v.hdr.format >= 5 {
			want = crypto.AD("hush/v1/row", v.hdr.vaultID, st.id, st.head, st.created, st.updated,
				live, st.deleted.Int64, st.nameMAC, st.folderMAC, st.changed)
		}
		if got := v.rowMACInput(&st); !bytes.Equal(got, want) {
			t.Fatalf("format %d, row %+v: %x, want %x", v.hdr.format, st, got, want)
		}
	}
}
