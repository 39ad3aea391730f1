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
		if len(entries) > 0 {
			if h := entries[len(entries)-1].Hash(testTeam); !bytes.Equal(at.Hash, h) || len(h) != sha256.Size {
				t.Fatal("the cursor's hash is not the last entry's")
			}
		}
	})
}
