package vault

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
)

// tracked is the one Tracked entry of id, or nil.
func tracked(t *testing.T, v *Vault, id []byte) *Tracked {
	t.Helper()
	ts, err := v.Replica().TrackedByID([][]byte{id})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) == 0 {
		return nil
	}
	return &ts[0]
}

func idOf(t *testing.T, v *Vault, name string) []byte {
	t.Helper()
	s, err := v.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := hex.DecodeString(s.ID)
	return id
}

// A teammate's secret arrives under its own id: it is created, then a
// changed value is a new version, the same value none, and a removal
// removes it here; each time with its bookkeeping, in step.
func TestReplicaAppliesRemoteRecords(t *testing.T) {
	v := newVault(t)
	rp := v.Replica()
	id := bytes.Repeat([]byte{7}, 16)
	apply := func(r Remote) Applied {
		t.Helper()
		out, err := rp.ApplyRemote([]Remote{r})
		if err != nil {
			t.Fatal(err)
		}
		return out[0]
	}
	a := apply(Remote{ID: id, Name: "app/token", Meta: Meta{Type: "token"}, Value: []byte("v1"), Mark: SyncMark{Base: 1, Seen: 1}})
	if a.TakenBy != nil || a.Mark.LocalHead != 1 || a.Mark.Base != 1 {
		t.Fatalf("applied %+v", a)
	}
	s, err := v.Get("app/token")
	if err != nil || string(s.Value) != "v1" || s.ID != hex.EncodeToString(id) {
		t.Fatalf("after the first apply: %+v, %v", s, err)
	}
	if tr := tracked(t, v, id); tr == nil || tr.Dirty() {
		t.Fatalf("a secret as the server has it is not a local change: %+v", tr)
	}

	a = apply(Remote{ID: id, Name: "app/token", Meta: Meta{Type: "token"}, Value: []byte("v2"), Mark: SyncMark{Base: 2, Seen: 2}})
	if s, _ := v.Get("app/token"); string(s.Value) != "v2" || s.Head != 2 || a.Mark.LocalHead != 2 {
		t.Fatalf("a changed value: %+v, applied %+v", s, a)
	}
	a = apply(Remote{ID: id, Name: "app/token", Meta: Meta{Type: "token"}, Value: []byte("v2"), Mark: SyncMark{Base: 3, Seen: 3}})
	if s, _ := v.Get("app/token"); s.Head != 2 || a.Mark.LocalHead != 2 {
		t.Fatalf("the same value again added a version: head %d", s.Head)
	}
	a = apply(Remote{ID: id, Deleted: true, Mark: SyncMark{Base: 4, Seen: 4}})
	if _, err := v.Get("app/token"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a removal left it: %v", err)
	}
	if tr := tracked(t, v, id); tr == nil || !tr.Deleted || tr.Dirty() || !a.Mark.LocalDeleted {
		t.Fatalf("after the removal: %+v, applied %+v", tr, a)
	}
	// A removal of a secret this vault never saw writes only its mark.
	other := bytes.Repeat([]byte{8}, 16)
	apply(Remote{ID: other, Deleted: true, Mark: SyncMark{Base: 5, Seen: 5}})
	if tr := tracked(t, v, other); tr == nil || tr.Exists || tr.Mark == nil || tr.Mark.Base != 5 {
		t.Fatalf("a removal never seen here: %+v", tr)
	}
	// A bad remote is refused whole: nothing of the batch is applied.
	if _, err := rp.ApplyRemote([]Remote{{ID: bytes.Repeat([]byte{9}, 16), Name: "ok/one", Meta: Meta{Type: "other"}, Value: []byte("x")}, {ID: other, Name: "bad name!"}}); err == nil {
		t.Fatal("a remote with a bad name was applied")
	}
	if _, err := v.Get("ok/one"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("half a refused batch was applied: %v", err)
	}
}

// A name held by a secret removed here goes to a teammate's secret once
// the removal is settled with the server; a live holder, or a removal not
// yet pushed, keeps it, and ApplyRemote says which secret holds it.
func TestReplicaFreesANameOnlyWhenSettled(t *testing.T) {
	v := newVault(t)
	rp := v.Replica()
	theirs := Remote{ID: bytes.Repeat([]byte{1}, 16), Name: "db/url", Meta: Meta{Type: "other"}, Value: []byte("theirs"), Mark: SyncMark{Base: 1, Seen: 1}}
	if _, err := v.Set("db/url", []byte("mine"), Update{}); err != nil {
		t.Fatal(err)
	}
	mine := idOf(t, v, "db/url")
	// Live here: the name stays.
	out, err := rp.ApplyRemote([]Remote{theirs})
	if err != nil || !bytes.Equal(out[0].TakenBy, mine) {
		t.Fatalf("a live holder: %+v, %v", out, err)
	}
	if tracked(t, v, theirs.ID) != nil {
		t.Fatal("a remote that was not applied has a mark")
	}
	// Removed here, the removal not pushed: the name stays.
	if err := v.Remove("db/url"); err != nil {
		t.Fatal(err)
	}
	if err := rp.PutMarks(map[string]SyncMark{hex.EncodeToString(mine): {Base: 1, Seen: 1, LocalHead: 1}}); err != nil {
		t.Fatal(err)
	}
	if out, err := rp.ApplyRemote([]Remote{theirs}); err != nil || !bytes.Equal(out[0].TakenBy, mine) {
		t.Fatalf("a removal not yet pushed: %+v, %v", out, err)
	}
	// The removal settled with the server: the name is theirs, and the
	// removed secret goes with its history.
	tr := tracked(t, v, mine)
	if err := rp.PutMarks(map[string]SyncMark{hex.EncodeToString(mine): {Base: 2, Seen: 2, LocalHead: tr.Head, LocalDeleted: true}}); err != nil {
		t.Fatal(err)
	}
	if out, err := rp.ApplyRemote([]Remote{theirs}); err != nil || out[0].TakenBy != nil {
		t.Fatalf("a settled removal: %+v, %v", out, err)
	}
	if s, err := v.Get("db/url"); err != nil || string(s.Value) != "theirs" {
		t.Fatalf("the name after it was freed: %+v, %v", s, err)
	}
	if tr := tracked(t, v, mine); tr == nil || tr.Exists {
		t.Fatalf("the removed secret that held the name: %+v", tr)
	}
}

// Changed lists exactly the secrets changed here since they were last in
// step with the server: new ones, edited ones, removed ones, and ones a
// mark says the server has but this vault no longer holds.
func TestReplicaDetectsChanges(t *testing.T) {
	v := newVault(t)
	rp := v.Replica()
	changed := func() map[string]bool {
		t.Helper()
		ts, err := rp.Changed()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, tr := range ts {
			if !tr.Dirty() {
				t.Errorf("Changed lists %x, which is not dirty", tr.ID)
			}
			out[hex.EncodeToString(tr.ID)] = true
		}
		return out
	}
	for _, n := range []string{"a/one", "a/two", "a/three"} {
		if _, err := v.Set(n, []byte("x"), Update{}); err != nil {
			t.Fatal(err)
		}
	}
	one, two, three := hex.EncodeToString(idOf(t, v, "a/one")), hex.EncodeToString(idOf(t, v, "a/two")), hex.EncodeToString(idOf(t, v, "a/three"))
	if c := changed(); len(c) != 3 {
		t.Fatalf("three new secrets: %v", c)
	}
	// In step with the server: nothing to push.
	inStep := SyncMark{Base: 1, Seen: 1, LocalHead: 1}
	if err := rp.PutMarks(map[string]SyncMark{one: inStep, two: inStep, three: inStep}); err != nil {
		t.Fatal(err)
	}
	if c := changed(); len(c) != 0 {
		t.Fatalf("all in step: %v", c)
	}
	// An edit, a removal; and a purge of a secret the server has.
	if _, err := v.Set("a/one", []byte("y"), Update{}); err != nil {
		t.Fatal(err)
	}
	if err := v.Remove("a/two"); err != nil {
		t.Fatal(err)
	}
	id3, _ := hex.DecodeString(three)
	if err := rp.PurgeID(id3); err != nil {
		t.Fatal(err)
	}
	if c := changed(); len(c) != 3 || !c[one] || !c[two] || !c[three] {
		t.Fatalf("an edit, a removal and a purge: %v", c)
	}
	// Reseal makes every live secret the server knows count as changed
	// (sent again under a new key); a conflict is not pushed by it.
	if err := rp.PutMarks(map[string]SyncMark{one: {Base: 2, Seen: 2, LocalHead: 2}}); err != nil {
		t.Fatal(err)
	}
	if c := changed(); c[one] {
		t.Fatalf("a/one pushed is still changed: %v", c)
	}
	if err := rp.Reseal(); err != nil {
		t.Fatal(err)
	}
	if c := changed(); !c[one] {
		t.Fatalf("Reseal did not make a/one changed: %v", c)
	}
}

// A conflict is seen by id and by name; a malformed id is an error, not
// "no conflict".
func TestReplicaConflicts(t *testing.T) {
	v := newVault(t)
	if _, err := v.Set("c/x", []byte("x"), Update{}); err != nil {
		t.Fatal(err)
	}
	id := hex.EncodeToString(idOf(t, v, "c/x"))
	if has, err := v.HasConflict(id); err != nil || has {
		t.Fatalf("no conflict yet: %v, %v", has, err)
	}
	if err := v.Replica().PutMarks(map[string]SyncMark{id: {Base: 1, Seen: 2, LocalHead: 0, Theirs: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	if has, err := v.HasConflict(id); err != nil || !has {
		t.Fatalf("a conflict: %v, %v", has, err)
	}
	if cs, err := v.Conflicts(); err != nil || cs[id] != "c/x" {
		t.Fatalf("conflicts: %v, %v", cs, err)
	}
	if _, err := v.HasConflict("not hex"); err == nil {
		t.Fatal("a malformed id reads as no conflict")
	}
}

// One batch of new secrets and others: the new ones are written many at
// a time (ApplyRemote's fast path), the rest one by one, and a name or id
// an earlier remote of the same batch took is seen by the later one, as
// if each were applied alone. Every row then checks out: the anchor's
// digest of the rows, the folders' counts (list), and each secret.
func TestReplicaBatchOfNewAndKnown(t *testing.T) {
	v := newVault(t)
	rp := v.Replica()
	if _, err := v.Set("app/x", []byte("mine"), Update{}); err != nil {
		t.Fatal(err)
	}
	x := idOf(t, v, "app/x")
	id := func(b byte) []byte { return bytes.Repeat([]byte{b}, 16) }
	mark := SyncMark{Base: 1, Seen: 1}
	rs := []Remote{
		{ID: id(1), Name: "app/a", Value: []byte("a"), Mark: mark},                        // new
		{ID: id(2), Name: "app/b", Value: []byte("b"), Mark: mark},                        // new
		{ID: id(3), Name: "app/a", Value: []byte("not a"), Mark: mark},                    // a's name, taken in this batch
		{ID: x, Name: "app/d", Value: []byte("x renamed"), Mark: mark},                    // a known secret renamed
		{ID: id(5), Name: "app/d", Value: []byte("not d"), Mark: mark},                    // the name x took just before
		{ID: id(2), Name: "app/b", Value: []byte("b2"), Mark: SyncMark{Base: 2, Seen: 2}}, // b again: a new version
		{ID: id(6), Deleted: true, Mark: mark},                                            // a removal never seen here
		{ID: id(7), Name: "other/c", Value: []byte("c"), Mark: mark},                      // new, another folder
	}
	for i := range rs {
		rs[i].Meta = Meta{Type: "other"}
	}
	out, err := rp.ApplyRemote(rs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out[2].TakenBy, id(1)) || !bytes.Equal(out[4].TakenBy, x) {
		t.Fatalf("names taken in the batch: %x, %x", out[2].TakenBy, out[4].TakenBy)
	}
	for i, want := range map[int]int{0: 1, 1: 1, 3: 2, 5: 2, 7: 1} {
		if out[i].TakenBy != nil || out[i].Mark.LocalHead != want {
			t.Fatalf("remote %d applied %+v, want local head %d", i, out[i], want)
		}
	}
	for name, want := range map[string]string{"app/a": "a", "app/b": "b2", "app/d": "x renamed", "other/c": "c"} {
		if s, err := v.Get(name); err != nil || string(s.Value) != want {
			t.Fatalf("%s: %+v, %v", name, s, err)
		}
	}
	if _, err := v.Get("app/x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("app/x after its rename: %v", err)
	}
	if tr := tracked(t, v, id(3)); tr != nil {
		t.Fatalf("a remote that was not applied has a mark: %+v", tr)
	}
	if tr := tracked(t, v, id(6)); tr == nil || tr.Exists || tr.Mark == nil {
		t.Fatalf("a removal never seen here: %+v", tr)
	}
	es, err := v.list("")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 4 {
		t.Fatalf("listed %d secrets, want 4", len(es))
	}
	if _, err := v.Audit(); err != nil {
		t.Fatal(err)
	}
}

// Settings by prefix: written and deleted together, read back sealed
// under their own keys, and only those whose key begins with the prefix.
func TestReplicaSyncStatesByPrefix(t *testing.T) {
	v := newVault(t)
	rp := v.Replica()
	if err := rp.SetSyncStates(map[string][]byte{"p": []byte("0"), "p/1": []byte("1"), "p/2": []byte("2"), "q": []byte("q")}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := rp.SyncStates("p")
	if err != nil || len(got) != 3 || string(got["p/2"]) != "2" {
		t.Fatalf("by prefix: %q, %v", got, err)
	}
	if err := rp.SetSyncStates(map[string][]byte{"p": []byte("all")}, []string{"p/1", "p/2"}); err != nil {
		t.Fatal(err)
	}
	got, err = rp.SyncStates("p")
	if err != nil || len(got) != 1 || string(got["p"]) != "all" {
		t.Fatalf("after deleting the batches: %q, %v", got, err)
	}
	// A value moved under another key does not open there.
	if _, err := v.db.Exec(`UPDATE sync_state SET v = (SELECT v FROM sync_state WHERE k = 'q') WHERE k = 'p'`); err != nil {
		t.Fatal(err)
	}
	var te *TamperError
	if _, err := rp.SyncStates("p"); !errors.As(err, &te) {
		t.Fatalf("a value moved to another key: %v", err)
	}
}

// ByIDs reads many secrets as ByID reads each: the same secrets in the
// order asked, a missing one an error, and a row changed outside hush
// refused as ByID refuses it.
func TestReplicaByIDs(t *testing.T) {
	v := newVault(t)
	rp := v.Replica()
	var ids [][]byte
	for i := range 600 { // two queries
		name := fmt.Sprintf("app/K%03d", i)
		mSetV(t, v, name, fmt.Sprint("value-", i))
		ids = append(ids, idOf(t, v, name))
	}
	ids[0], ids[599] = ids[599], ids[0]
	got, err := rp.ByIDs(ids)
	if err != nil || len(got) != len(ids) {
		t.Fatalf("%d secrets, %v", len(got), err)
	}
	for i, s := range got {
		want, err := rp.ByID(ids[i])
		if err != nil || s.Name != want.Name || string(s.Value) != string(want.Value) || s.Head != want.Head || s.ID != want.ID {
			t.Fatalf("secret %d: %+v, want %+v (%v)", i, s, want, err)
		}
	}
	if _, err := rp.ByIDs(append(ids[:3:3], bytes.Repeat([]byte{9}, 16))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a missing id: %v", err)
	}
	if _, err := v.db.Exec(`UPDATE secrets SET created = created - 1 WHERE id = ?`, ids[1]); err != nil {
		t.Fatal(err)
	}
	_, one := rp.ByID(ids[1])
	_, many := rp.ByIDs(ids)
	var te *TamperError
	if !errors.As(one, &te) || !errors.As(many, &te) {
		t.Fatalf("a row changed outside hush: ByID %v, ByIDs %v", one, many)
	}
}

func mSetV(t *testing.T, v *Vault, name, value string) {
	t.Helper()
	if _, err := v.Set(name, []byte(value), Update{}); err != nil {
		t.Fatal(err)
	}
}
