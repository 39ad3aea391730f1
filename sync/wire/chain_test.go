package wire

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// chainDev is a device that can sign chain entries.
type chainDev struct {
	id  string
	key ed25519.PrivateKey
	// may: the kinds it may sign (a writer: records; an admin: base too)
	may map[string]bool
}

func newChainDev(seed byte, kinds ...string) *chainDev {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	d := &chainDev{id: strings.Repeat(string("0123456789abcdef"[seed%16]), 32), key: key, may: map[string]bool{}}
	for _, k := range kinds {
		d.may[k] = true
	}
	return d
}

func signersOf(ds ...*chainDev) ChainSigners {
	return func(author string, logSeq int64, kind string) ed25519.PublicKey {
		for _, d := range ds {
			if d.id == author && d.may[kind] {
				return d.key.Public().(ed25519.PublicKey)
			}
		}
		return nil
	}
}

// chainOf writes n record entries after from, alternating authors.
func chainOf(t testing.TB, from ChainCursor, n int, by ...*chainDev) ([]ChainEntry, []Record) {
	t.Helper()
	var es []ChainEntry
	var rs []Record
	at := from
	for i := range n {
		d := by[i%len(by)]
		r := Record{ID: strings.Repeat(string("abcdef"[i%6]), 32), Version: int64(i + 1), Epoch: 1, Sealed: []byte{byte(i), 1, 2, 3},
			Author: d.id, LogSeq: 3}
		e := NextEntry(at, &r, time.Date(2026, 12, 6, 12, 0, i, 0, time.UTC))
		e.Sign(testTeam, d.id, d.key)
		es, rs = append(es, e), append(rs, r)
		at = ChainCursor{e.Pos, e.Hash(testTeam)}
	}
	return es, rs
}

// A chain the team wrote verifies from the start and from any cursor on
// it, and the cursor it returns is the last entry's position and hash.
func TestChainVerifies(t *testing.T) {
	ann, bob := newChainDev(1, ChainRecord, ChainBase), newChainDev(2, ChainRecord)
	signers := signersOf(ann, bob)
	es, _ := chainOf(t, ChainCursor{}, 7, ann, bob)
	at, err := VerifyChain(testTeam, ChainCursor{}, es[:3], signers)
	if err != nil || at.Pos != 3 || !bytes.Equal(at.Hash, es[2].Hash(testTeam)) {
		t.Fatalf("first three: %+v, %v", at, err)
	}
	end, err := VerifyChain(testTeam, at, es[3:], signers)
	if err != nil || end.Pos != 7 || !bytes.Equal(end.Hash, es[6].Hash(testTeam)) {
		t.Fatalf("the rest: %+v, %v", end, err)
	}
	// Nothing new: the cursor stays where it was verified.
	if same, err := VerifyChain(testTeam, end, nil, signers); err != nil || same.Pos != end.Pos || !bytes.Equal(same.Hash, end.Hash) {
		t.Fatalf("an empty page moved the cursor: %+v, %v", same, err)
	}
}

// Every lie about order and completeness is refused with its class and
// position, and the cursor does not move: it moves only on entries that
// verified, never on what the server merely claims.
func TestChainRefusesLies(t *testing.T) {
	ann, bob, eve := newChainDev(1, ChainRecord, ChainBase), newChainDev(2, ChainRecord), newChainDev(3)
	signers := signersOf(ann, bob, eve)
	all, _ := chainOf(t, ChainCursor{}, 8, ann, bob)
	from, err := VerifyChain(testTeam, ChainCursor{}, all[:3], signers)
	if err != nil {
		t.Fatal(err)
	}
	page := func() []ChainEntry {
		es := make([]ChainEntry, 5)
		copy(es, all[3:])
		return es
	}
	// resign makes entry e say something else, validly signed by its author.
	resign := func(e *ChainEntry, d *chainDev) {
		e.Version += 10
		e.Sign(testTeam, d.id, d.key)
	}
	for _, c := range []struct {
		name  string
		lie   func() []ChainEntry
		fault ChainFault
		pos   int64
	}{
		{"an entry dropped from the middle", func() []ChainEntry { es := page(); return append(es[:1], es[2:]...) }, FaultGap, 5},
		{"the first entry dropped", func() []ChainEntry { return page()[1:] }, FaultGap, 4},
		{"two entries swapped", func() []ChainEntry { es := page(); es[1], es[2] = es[2], es[1]; return es }, FaultReorder, 5},
		{"a verified entry served again", func() []ChainEntry { return append([]ChainEntry{all[2]}, page()...) }, FaultReorder, 4},
		{"a position rewritten", func() []ChainEntry { es := page(); es[1].Pos = 9; return es }, FaultGap, 5},
		{"an entry replaced (validly signed)", func() []ChainEntry { es := page(); resign(&es[1], bob); return es }, FaultReplaced, 6},
		{"another history (a fork)", func() []ChainEntry {
			other, _ := chainOf(t, ChainCursor{Pos: 3, Hash: bytes.Repeat([]byte{9}, 32)}, 2, ann)
			return other
		}, FaultReplaced, 4},
		{"an entry unsigned", func() []ChainEntry { es := page(); es[0].Sig = make([]byte, 64); return es }, FaultSignature, 4},
		{"an entry with no signature", func() []ChainEntry { es := page(); es[0].Sig = nil; return es }, FaultMalformed, 4},
		{"an entry by a device that cannot write", func() []ChainEntry {
			es := page()
			es[0].Sign(testTeam, eve.id, eve.key)
			return es
		}, FaultSignature, 4},
		{"an entry signed by another device than its author", func() []ChainEntry {
			es := page()
			es[0].Sig = ed25519.Sign(eve.key, es[0].signed(testTeam))
			return es
		}, FaultSignature, 4},
		{"a base entry after entry 1", func() []ChainEntry {
			es := page()
			es[0].Kind, es[0].ID, es[0].Version, es[0].Epoch = ChainBase, "", 0, 0
			es[0].Sign(testTeam, ann.id, ann.key)
			return es
		}, FaultMalformed, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			at, err := VerifyChain(testTeam, from, c.lie(), signers)
			var ce *ChainError
			if !errors.As(err, &ce) || !errors.Is(err, ErrChain) || ce.Fault != c.fault || ce.Pos != c.pos {
				t.Fatalf("got %v, want %s at %d", err, c.fault, c.pos)
			}
			if !strings.Contains(err.Error(), string(c.fault)) {
				t.Errorf("the error does not say which: %v", err)
			}
			if at.Pos != from.Pos || !bytes.Equal(at.Hash, from.Hash) {
				t.Fatalf("the cursor moved on a refused answer: %+v, was %+v", at, from)
			}
		})
	}
	// Control: the honest page verifies from the same cursor.
	if at, err := VerifyChain(testTeam, from, page(), signers); err != nil || at.Pos != 8 {
		t.Fatalf("the honest page: %+v, %v", at, err)
	}
}

// Records come exactly as their newest entry names them; one that is left
// out, changed, or comes with no entry is refused; one overwritten by a
// later entry is not expected.
func TestChainRecords(t *testing.T) {
	ann := newChainDev(1, ChainRecord)
	es, rs := chainOf(t, ChainCursor{}, 4, ann)
	var ok ChainRecords
	if err := ok.Page(es, rs); err != nil {
		t.Fatal(err)
	}
	if err := ok.Done(); err != nil {
		t.Fatal(err)
	}

	var withheld ChainRecords
	if err := withheld.Page(es, append(append([]Record(nil), rs[:1]...), rs[2:]...)); err != nil {
		t.Fatal(err)
	}
	var ce *ChainError
	if err := withheld.Done(); !errors.As(err, &ce) || ce.Fault != FaultWithheld || ce.Pos != 2 {
		t.Fatalf("a record left out of the page: %v", err)
	}

	changed := append([]Record(nil), rs...)
	changed[1].Sealed = []byte("another ciphertext")
	var mismatch ChainRecords
	if err := mismatch.Page(es, changed); !errors.As(err, &ce) || ce.Fault != FaultMismatch || ce.Pos != 2 {
		t.Fatalf("a record that is not its entry: %v", err)
	}
	stray := append([]Record(nil), rs...)
	stray[0].ID = strings.Repeat("9", 32)
	var noEntry ChainRecords
	if err := noEntry.Page(es, stray); !errors.As(err, &ce) || ce.Fault != FaultMismatch {
		t.Fatalf("a record no entry names: %v", err)
	}

	// A record sent again in a later page, with no new entry: a duplicate,
	// said so.
	var twice ChainRecords
	if err := twice.Page(es, rs); err != nil {
		t.Fatal(err)
	}
	if err := twice.Page(nil, rs[:1]); !errors.As(err, &ce) || !strings.Contains(err.Error(), "came twice") {
		t.Fatalf("a record sent twice: %v", err)
	}

	// Overwritten later: entry 2 names a version that a later page's entry
	// replaces; only the newer record is expected.
	next := rs[1]
	next.Version, next.Sealed = 9, []byte("newer")
	e5 := NextEntry(ChainCursor{Pos: 4, Hash: es[3].Hash(testTeam)}, &next, time.Now())
	e5.Sign(testTeam, ann.id, ann.key)
	var later ChainRecords
	if err := later.Page(es, append(append([]Record(nil), rs[:1]...), rs[2:]...)); err != nil {
		t.Fatal(err)
	}
	if err := later.Page([]ChainEntry{e5}, []Record{next}); err != nil {
		t.Fatal(err)
	}
	if err := later.Done(); err != nil {
		t.Fatalf("a record overwritten later was still expected: %v", err)
	}
}

// pushesOf writes pushes of the given sizes after from, each by one of by
// in turn, every entry marked with its push.
func pushesOf(t testing.TB, from ChainCursor, sizes []int, by ...*chainDev) []ChainEntry {
	t.Helper()
	var es []ChainEntry
	at := from
	for p, n := range sizes {
		d := by[p%len(by)]
		prev := at
		for range n {
			i := len(es)
			r := Record{ID: strings.Repeat(string("abcdef"[i%6]), 32), Version: int64(i + 1), Epoch: 1, Sealed: []byte{byte(i), 9},
				Author: d.id, LogSeq: 3}
			e := NextEntry(at, &r, time.Date(2026, 12, 7, 3, 0, i, 0, time.UTC))
			e.InPush(prev, n)
			e.Sign(testTeam, d.id, d.key)
			es = append(es, e)
			at = e.Next(testTeam)
		}
	}
	return es
}

// resignFrom re-signs es[i:] as their authors after a change to es[i],
// each linked to the one before: a push a device really signed.
func resignFrom(es []ChainEntry, i int, team string, keys map[string]ed25519.PrivateKey) {
	for j := i; j < len(es); j++ {
		if j > 0 {
			es[j].Prev = es[j-1].Hash(team)
		}
		es[j].Sign(team, es[j].Author, keys[es[j].Author])
	}
}

// Push marks: every entry of a push names its first and last position,
// signed; marks can be neither stripped nor added; a page may end inside
// a push (PushMarks.Open says which), never with marks that disagree.
func TestChainPushMarks(t *testing.T) {
	ann, bob := newChainDev(1, ChainRecord), newChainDev(2, ChainRecord)
	signers := signersOf(ann, bob)
	keys := map[string]ed25519.PrivateKey{ann.id: ann.key, bob.id: bob.key}
	es := pushesOf(t, ChainCursor{}, []int{3, 1, 2}, ann, bob) // 1-3 ann, 4 bob, 5-6 ann
	if _, err := VerifyChain(testTeam, ChainCursor{}, es, signers); err != nil {
		t.Fatal(err)
	}
	var whole PushMarks
	if err := whole.Check(es); err != nil {
		t.Fatal(err)
	}
	if f, l := whole.Open(); f != 0 || l != 0 {
		t.Fatalf("a whole chain ends inside the push %d-%d", f, l)
	}
	// Page by page, cut anywhere: open exactly inside a push.
	for cut := 1; cut < len(es); cut++ {
		var m PushMarks
		if err := m.Check(es[:cut]); err != nil {
			t.Fatal(err)
		}
		_, l := m.Open()
		if want := map[int]int64{1: 3, 2: 3, 5: 6}[cut]; l != want {
			t.Fatalf("cut after %d: open to %d, want %d", cut, l, want)
		}
		if err := m.Check(es[cut:]); err != nil {
			t.Fatalf("cut after %d, the rest: %v", cut, err)
		}
	}
	// Entries without marks (written before them) are pushes of one, and
	// a chain may go on from them with marked pushes.
	old, _ := chainOf(t, ChainCursor{}, 2, ann)
	more := pushesOf(t, old[1].Next(testTeam), []int{2}, bob)
	mixed := append(append([]ChainEntry(nil), old...), more...)
	if _, err := VerifyChain(testTeam, ChainCursor{}, mixed, signers); err != nil {
		t.Fatal(err)
	}
	var mm PushMarks
	if err := mm.Check(mixed[:1]); err != nil {
		t.Fatal(err)
	}
	if _, l := mm.Open(); l != 0 {
		t.Fatalf("an entry without marks left a push open to %d", l)
	}

	// Marks are signed: stripped, added, or changed without a new
	// signature, the entry is unsigned.
	for name, lie := range map[string]func(e *ChainEntry){
		"stripped": func(e *ChainEntry) { e.PushFirst, e.PushLast = 0, 0 },
		"added":    func(e *ChainEntry) { e.PushFirst, e.PushLast = e.Pos, e.Pos },
		"changed":  func(e *ChainEntry) { e.PushLast++ },
	} {
		base := es
		if name == "added" {
			base = old
		}
		page := append([]ChainEntry(nil), base...)
		lie(&page[len(page)-1])
		var ce *ChainError
		if _, err := VerifyChain(testTeam, ChainCursor{}, page, signers); !errors.As(err, &ce) || ce.Fault != FaultSignature {
			t.Fatalf("marks %s: %v, want an unsigned entry", name, err)
		}
	}

	// Marks a device signed that disagree: refused where they do.
	for _, c := range []struct {
		name string
		lie  func(es []ChainEntry) int // changes es, returns the first entry changed
		pos  int64
	}{
		{"entries of one push name different ends", func(es []ChainEntry) int { es[1].PushLast = 2; return 1 }, 2},
		{"a push that claims one more entry than it has", func(es []ChainEntry) int {
			for i := range 3 {
				es[i].PushLast = 4
			}
			return 0
		}, 4},
		{"an entry inside a push names another start", func(es []ChainEntry) int { es[2].PushFirst = 3; return 2 }, 3},
		{"an entry inside a push names no push", func(es []ChainEntry) int { es[1].PushFirst, es[1].PushLast = 0, 0; return 1 }, 2},
		{"a push that names a start before its first entry", func(es []ChainEntry) int { es[3].PushFirst = 3; return 3 }, 4},
		{"another author inside a push", func(es []ChainEntry) int { es[2].Author = bob.id; return 2 }, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			page := append([]ChainEntry(nil), es...)
			resignFrom(page, c.lie(page), testTeam, keys)
			if _, err := VerifyChain(testTeam, ChainCursor{}, page, signers); err != nil {
				t.Fatalf("signed by its authors, the chain should verify before its marks: %v", err)
			}
			var m PushMarks
			var ce *ChainError
			err := m.Check(page)
			if !errors.As(err, &ce) || ce.Fault != FaultPushMark || ce.Pos != c.pos || !strings.Contains(err.Error(), "a forged push mark") {
				t.Fatalf("got %v, want a forged push mark at %d", err, c.pos)
			}
		})
	}

	// Shapes no push can have: malformed, whoever signed them.
	for name, lie := range map[string]func(e *ChainEntry){
		"a push that does not hold its entry": func(e *ChainEntry) { e.PushFirst, e.PushLast = e.Pos+1, e.Pos+2 },
		"a push that ends before its entry":   func(e *ChainEntry) { e.PushLast = e.Pos - 1 },
		"only a first position":               func(e *ChainEntry) { e.PushLast = 0 },
		"a push over the push limit":          func(e *ChainEntry) { e.PushFirst, e.PushLast = 1, MaxPushRecords+1 },
	} {
		page := append([]ChainEntry(nil), es...)
		lie(&page[1])
		resignFrom(page, 1, testTeam, keys)
		var ce *ChainError
		if _, err := VerifyChain(testTeam, ChainCursor{}, page, signers); !errors.As(err, &ce) || ce.Fault != FaultMalformed || ce.Pos != 2 {
			t.Fatalf("%s: %v, want a malformed entry at 2", name, err)
		}
	}
}

// FuzzVerifyChain: whatever entries the server sends, the verifier never
// panics; a refusal leaves the cursor where it was; a success moves it by
// exactly the entries it verified, to the last one's hash.
func FuzzVerifyChain(f *testing.F) {
	ann := newChainDev(1, ChainRecord, ChainBase)
	es, _ := chainOf(f, ChainCursor{}, 3, ann)
	good, _ := json.Marshal(es)
	f.Add(good)
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"pos":1}]`))
	swapped := []ChainEntry{es[1], es[0], es[2]}
	b, _ := json.Marshal(swapped)
	f.Add(b)
	// Push marks (a push of two, then one), and one cut short.
	marked, _ := json.Marshal(pushesOf(f, ChainCursor{}, []int{2, 1}, ann))
	f.Add(marked)
	f.Add(marked[:bytes.LastIndex(marked, []byte(`,{"pos":3`))])
	f.Add([]byte(`[{"pos":1,"push_first":1,"push_last":600}]`))
	signers := signersOf(ann)
	f.Fuzz(func(t *testing.T, data []byte) {
		var entries []ChainEntry
		if json.Unmarshal(data, &entries) != nil || len(entries) > 64 {
			return
		}
		from := ChainCursor{}
		at, err := VerifyChain(testTeam, from, entries, signers)
		if err != nil {
			if at.Pos != from.Pos || at.Hash != nil {
				t.Fatalf("a refusal moved the cursor to %+v", at)
			}
			if !errors.Is(err, ErrChain) {
				t.Fatalf("a refusal that is not a chain error: %v", err)
			}
			return
		}
		if at.Pos != int64(len(entries)) {
			t.Fatalf("verified %d entries, cursor at %d", len(entries), at.Pos)
		}
		// Their push marks check or are refused as a chain fault; a push
		// left open is one that holds the last entry.
		var m PushMarks
		if err := m.Check(entries); err != nil {
			if !errors.Is(err, ErrChain) {
				t.Fatalf("a refused push mark that is not a chain error: %v", err)
			}
		} else if first, last := m.Open(); last != 0 && (len(entries) == 0 || first > at.Pos || last <= at.Pos) {
			t.Fatalf("open push %d-%d after entries up to %d", first, last, at.Pos)
		}
		if len(entries) > 0 {
			if h := entries[len(entries)-1].Hash(testTeam); !bytes.Equal(at.Hash, h) || len(h) != sha256.Size {
				t.Fatal("the cursor's hash is not the last entry's")
			}
		}
	})
}
