package client

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// Folder scope attacks (issue 17): the server forges or changes a grant,
// serves a record of one scope as another's, rolls back an ungrant; a
// writer of one scope writes a name of another. docs/security.md lists
// them.

// scopedTeam: admin; bob (writer) holds the root and app/prod; carol
// (writer) holds the root and app/staging, not app/prod. One secret in
// each scope, synced by all.
func scopedTeam(t *testing.T) (*mTeam, *mDev) {
	t.Helper()
	tm := newMTeam(t)
	carol := tm.add(t, "carol", wire.RoleWriter)
	mSet(t, tm.admin.v, "app/prod/DB", "prod-db")
	mSet(t, tm.admin.v, "app/staging/DB", "staging-db")
	tm.sync(t, tm.admin)
	for _, g := range []struct{ member, folder string }{{"bob", "app/prod"}, {"carol", "app/staging"}} {
		if err := tm.admin.Grant(g.member, g.folder, wire.RoleWriter); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tm.admin.Ungrant("carol", "app/prod"); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.admin.Ungrant("bob", "app/staging"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	tm.sync(t, tm.bob)
	tm.sync(t, carol)
	return tm, carol
}

// The server adds a grant of its own making, or changes a real one: signed
// by a writer, in an admin's name with another key, or a real admin's
// grant with its scope, role or member changed after signing.
//
// Defence: wire.Membership.Apply checks a grant like any entry (an admin
// active right before it signed all of it, the scope fields included);
// syncLog applies entries to a copy. Without scopeParts in the signed
// encoding, the changed scope passes.
func TestMaliciousForgedGrant(t *testing.T) {
	tm, carol := scopedTeam(t)
	team := tm.admin.st.Team
	prod := wire.ScopeID(tm.admin.st.NamesKey, team, "app/prod")
	staging := wire.ScopeID(tm.admin.st.NamesKey, team, "app/staging")
	forge := func(signer string, seed []byte, f func(e *wire.LogEntry)) wire.LogEntry {
		all := tm.p.fullLog(t, team)
		ep := tm.admin.st.Members.Scopes[prod].Epoch
		e := wire.LogEntry{Seq: int64(len(all)) + 1, Prev: all[len(all)-1].Hash(), Time: time.Now().UTC(), Team: team,
			Kind: wire.LogGrant, Member: "carol", Role: wire.RoleWriter, Scope: prod, Epoch: ep}
		e.Sign(signer, ed25519.NewKeyFromSeed(seed))
		f(&e)
		return e
	}
	evil := newMEvil(t)
	cases := []struct {
		name, text string
		entry      func() wire.LogEntry
	}{
		{"a grant signed by a writer", "which is not an admin of the team at this point", func() wire.LogEntry {
			return forge(carol.id(), carol.st.SignSeed, func(*wire.LogEntry) {})
		}},
		{"a grant in the admin's name, another key", "its signature does not check out", func() wire.LogEntry {
			return forge(tm.admin.id(), evil.sign, func(*wire.LogEntry) {})
		}},
		{"a real grant of app/staging served as one of app/prod", "its signature does not check out", func() wire.LogEntry {
			return forge(tm.admin.id(), tm.admin.st.SignSeed, func(e *wire.LogEntry) { e.Scope, e.Epoch = staging, 1 })
		}},
		{"a real grant with its role raised", "its signature does not check out", func() wire.LogEntry {
			return forge(tm.admin.id(), tm.admin.st.SignSeed, func(e *wire.LogEntry) { e.Role = wire.RoleAdmin })
		}},
		{"a real grant to another member", "its signature does not check out", func() wire.LogEntry {
			return forge(tm.admin.id(), tm.admin.st.SignSeed, func(e *wire.LogEntry) { e.Member = "bob" })
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm.p.onAfter("GET /v1/log", func(x *mExchange) {
				e := c.entry()
				rewrite(t, x, func(l *wire.Log) { l.Entries = append(l.Entries, e); l.Head = e.Seq })
			})
			defer tm.p.honest()
			before, state := mSecrets(t, carol.v), carol.snapshot(t)
			_, err := carol.Sync(mctx)
			mWantErr(t, err, c.text, nil)
			if !errors.Is(err, wire.ErrLogFork) {
				t.Errorf("%v is not ErrLogFork", err)
			}
			mSame(t, "carol's secrets", mSecrets(t, carol.v), before)
			if !bytes.Equal(carol.snapshot(t), state) || carol.st.Members.Holds(carol.id(), prod) {
				t.Error("carol's team state changed")
			}
		})
	}
}

// The server serves a record of app/prod as one of app/staging (or the
// root): the record's scope is signed in its chain entry, so the record no
// longer matches its entry, and it would not open under the other scope's
// key. Nothing of the page is applied.
func TestMaliciousRecordServedAsAnotherScope(t *testing.T) {
	tm, _ := scopedTeam(t)
	mSet(t, tm.admin.v, "app/prod/DB", "prod-db-2")
	tm.sync(t, tm.admin)
	staging := wire.ScopeID(tm.admin.st.NamesKey, tm.admin.st.Team, "app/staging")
	for _, as := range []string{staging, ""} {
		tm.p.onAfter("GET /v2/chain", func(x *mExchange) {
			if x.Device == tm.bob.id() {
				rewrite(t, x, func(p *wire.ChainPage) {
					for i := range p.Records {
						p.Records[i].Scope = as
					}
				})
			}
		})
		before := mSecrets(t, tm.bob.v)
		_, err := tm.bob.Sync(mctx)
		tm.p.honest()
		mWantErr(t, err, "a record that is not its entry", nil)
		mSame(t, "bob's secrets", mSecrets(t, tm.bob.v), before)
	}
	tm.sync(t, tm.bob)
	if mGet(t, tm.bob.v, "app/prod/DB") != "prod-db-2" {
		t.Fatal("the honest server's record did not come after")
	}
}

// A writer of app/staging who does not hold app/prod writes a name of
// app/prod sealed into app/staging (the server takes it: she may write
// app/staging). Every holder of app/staging refuses it: the deepest scope
// above its name is app/prod, not the scope it came as.
//
// Defence: openPayload's check of the name's scope. Without it, bob's
// app/prod/DB would take carol's value. Carol signed the record (scope
// and ciphertext hash), so it is her doing, not the server's: it is
// skipped and reported (Report.Unreadable, as any record its author
// signed that cannot be taken), and the team's sync goes on.
func TestMaliciousWriterOutsideHerScope(t *testing.T) {
	tm, carol := scopedTeam(t)
	team := tm.admin.st.Team
	staging := wire.ScopeID(tm.admin.st.NamesKey, team, "app/staging")
	// Carol's client is made to believe app/prod is inside app/staging.
	mSet(t, carol.v, "app/prod/DB", "CAROLS-VALUE")
	carol.st.folders, carol.st.foldersSeq = map[string]string{staging: "app/prod"}, carol.st.Members.Seq
	if err := carol.team(func(tt *Team) error {
		tt.st.folders, tt.st.foldersSeq = map[string]string{staging: "app/prod"}, tt.st.Members.Seq
		_, err := tt.Sync(mctx)
		return err
	}); err != nil {
		t.Logf("carol's sync: %v", err)
	}
	// What reached the server: a record of app/staging.
	found := false
	for _, x := range tm.p.sent(0, "POST /v2/push", carol.id()) {
		var req wire.ChainPush
		if json.Unmarshal(x.Body, &req) == nil {
			for _, r := range req.Records {
				found = found || r.Scope == staging
			}
		}
	}
	if !found {
		t.Fatal("carol pushed no record into app/staging: the attack did not run")
	}
	before := mSecrets(t, tm.bob.v)
	rep, err := tm.admin.Sync(mctx)
	if err != nil {
		t.Fatalf("the admin's sync: %v", err)
	}
	if len(rep.Unreadable) != 1 || rep.Unreadable[0].Member != "carol" || !strings.Contains(rep.Unreadable[0].Reason, "it was served as a record of another scope than its name's") {
		t.Fatalf("the admin's sync did not report carol's record: %+v", rep.Unreadable)
	}
	if mGet(t, tm.admin.v, "app/prod/DB") != "prod-db" {
		t.Fatal("the admin took carol's value for app/prod/DB")
	}
	mSame(t, "bob's secrets", mSecrets(t, tm.bob.v), before)
}

// An ungrant, once seen, cannot be rolled back: a log without it is
// shorter than what the device verified.
func TestMaliciousUngrantRolledBack(t *testing.T) {
	tm, _ := scopedTeam(t)
	tm.p.onAfter("GET /v1/log", func(x *mExchange) {
		rewrite(t, x, func(l *wire.Log) { l.Head--; l.Entries = nil })
	})
	defer tm.p.honest()
	var rb *RollbackError
	_, err := tm.bob.Sync(mctx)
	mWantErr(t, err, "but this device has verified", &rb)
}

// A machine that holds app/prod alone reads only app/prod's chain entries
// (a scoped pull, docs/sync.md "Scope links"), and verifies them as a
// chain of their own: every lie about them is refused with nothing
// applied, and a holder of the whole chain refuses a bad entry of any
// scope.
func TestMaliciousScopedMachineChecksItsEntries(t *testing.T) {
	tm, _ := scopedTeam(t)
	tok := tm.machine(t, "ci", "app/prod")
	tm.sync(t, tm.admin)
	// Three more entries of app/prod, two of them one push, and the
	// chain's last entry app/staging's.
	mSet(t, tm.admin.v, "app/prod/ONE", "one")
	tm.sync(t, tm.admin)
	mSet(t, tm.admin.v, "app/prod/TWO", "two")
	mSet(t, tm.admin.v, "app/prod/THREE", "three")
	tm.sync(t, tm.admin)
	mSet(t, tm.admin.v, "app/staging/LAST", "last")
	tm.sync(t, tm.admin)
	prod := wire.ScopeID(tm.admin.st.NamesKey, tm.admin.st.Team, "app/prod")
	staging := wire.ScopeID(tm.admin.st.NamesKey, tm.admin.st.Team, "app/staging")
	team := tm.admin.st.Team
	drop := func(p *wire.ChainPage, i int) {
		id := p.Entries[i].ID
		p.Entries = slices.Delete(p.Entries, i, i+1)
		p.Records = slices.DeleteFunc(p.Records, func(r wire.Record) bool { return r.ID == id })
	}
	for _, c := range []struct {
		name string
		lie  func(p *wire.ChainPage)
		text string
	}{
		{"a signature flipped", func(p *wire.ChainPage) {
			e := &p.Entries[len(p.Entries)-1]
			e.Sig = bytes.Clone(e.Sig)
			e.Sig[0] ^= 1
		}, "an unsigned entry"},
		{"an entry of its scope left out", func(p *wire.ChainPage) { drop(p, len(p.Entries)-3) }, "a gap"},
		{"its scope's first entry left out", func(p *wire.ChainPage) { drop(p, 0) }, "a gap"},
		{"the end of a push left out", func(p *wire.ChainPage) { drop(p, len(p.Entries)-1) }, "a push cut short"},
		{"an entry of another scope slipped in", func(p *wire.ChainPage) {
			e := p.Entries[1] // a push of its own
			e.Scope = staging
			p.Entries = slices.Insert(p.Entries, 1, e)
		}, "not of a scope this device holds"},
		{"a record withheld", func(p *wire.ChainPage) { p.Records = p.Records[:len(p.Records)-1] }, "a withheld record"},
		{"a record with no entry", func(p *wire.ChainPage) {
			r := p.Records[0]
			r.ID = strings.Repeat("e", 32)
			p.Records = append(p.Records, r)
		}, "with no entry naming it"},
		{"two entries swapped", func(p *wire.ChainPage) {
			n := len(p.Entries)
			p.Entries[n-3], p.Entries[n-4] = p.Entries[n-4], p.Entries[n-3]
		}, "the team server's change chain"},
		{"an entry linked past the one before it", func(p *wire.ChainPage) {
			e := &p.Entries[len(p.Entries)-1]
			e.ScopePrev = &wire.ChainCursor{Pos: p.Entries[len(p.Entries)-3].Pos, Hash: p.Entries[len(p.Entries)-3].Hash(team)}
		}, "another history"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tm.p.onAfter("GET /v2/chain", func(x *mExchange) {
				if x.Device != tok.Device {
					return
				}
				rewrite(t, x, func(p *wire.ChainPage) {
					for _, e := range p.Entries {
						if e.Scope != prod {
							t.Errorf("proxy: the machine was sent entry %d of scope %q", e.Pos, e.Scope)
						}
					}
					if len(p.Entries) != 4 {
						t.Errorf("proxy: the machine's page has %d entries", len(p.Entries))
						return
					}
					c.lie(p)
				})
			})
			v, _, err := machineRead(t, tok, time.Time{})
			tm.p.honest()
			mWantErr(t, err, c.text, nil)
			if got := mSecrets(t, v); len(got) != 0 {
				t.Fatalf("a refused read left %d secrets in the machine's vault", len(got))
			}
		})
	}
	v, _, err := machineRead(t, tok, time.Time{})
	if err != nil || mGet(t, v, "app/prod/THREE") != "three" {
		t.Fatalf("the honest read after: %v", err)
	}
	// Bob holds the whole chain: a bad entry of a scope he does not hold
	// is still his to refuse (he checks every entry's links).
	tm.p.onAfter("GET /v2/chain", func(x *mExchange) {
		if x.Device == tm.bob.id() {
			rewrite(t, x, func(p *wire.ChainPage) {
				if len(p.Entries) > 0 {
					p.Entries[0].Sig = bytes.Clone(p.Entries[0].Sig)
					p.Entries[0].Sig[0] ^= 1
				}
			})
		}
	})
	defer tm.p.honest()
	tm.bob.st.Chain, tm.bob.st.ScopeHeads = wire.ChainCursor{}, nil // bob pulls the whole chain again
	_, err = tm.bob.Sync(mctx)
	mWantErr(t, err, "an unsigned entry", nil)
}

// A scope whose entries were written before scope links cannot be read
// as a chain of its own: the machine reads the whole chain, as before,
// and gets its secrets.
func TestScopedMachineReadsOldChainWhole(t *testing.T) {
	tm := newMTeamOpts(t, false, server.Options{}, func(d *mDev) { d.unlinked = true }) // a team written before scope links
	mSet(t, tm.admin.v, "app/prod/DB", "prod-db")
	mSet(t, tm.admin.v, "app/staging/DB", "staging-db")
	tm.sync(t, tm.admin)
	tok := tm.machine(t, "ci", "app/prod")
	tm.sync(t, tm.admin) // app/prod's re-seal, unlinked
	mark := tm.p.mark()
	v, _, err := machineRead(t, tok, time.Time{})
	if err != nil || mGet(t, v, "app/prod/DB") != "prod-db" {
		t.Fatalf("the machine's read of an unlinked scope: %v", err)
	}
	full := 0
	for _, x := range tm.p.sent(mark, "GET /v2/chain", tok.Device) {
		if !strings.Contains(x.Query, wire.ChainScoped+"=1") {
			full++
		}
	}
	if full == 0 {
		t.Fatal("the machine did not fall back to the whole chain")
	}
	// Linked entries after unlinked ones: still the whole chain, still
	// right.
	tm.admin.unlinked = false
	mSet(t, tm.admin.v, "app/prod/DB", "prod-db-2")
	tm.sync(t, tm.admin)
	v, _, err = machineRead(t, tok, time.Time{})
	if err != nil || mGet(t, v, "app/prod/DB") != "prod-db-2" {
		t.Fatalf("the machine's read after a linked entry: %v", err)
	}
}

// A device whose state was saved before scope links (no scope heads)
// walks the chain once to its cursor to learn them, then pulls, checks
// and signs links like any device; a server that shows it another
// history on the walk is refused, with nothing saved.
func TestScopeHeadsWalkedOnce(t *testing.T) {
	tm, carol := scopedTeam(t)
	mSet(t, tm.admin.v, "app/staging/NEW", "new")
	tm.sync(t, tm.admin)
	want := carol.st.ScopeHeads.Clone()
	if len(want) == 0 {
		t.Fatal("carol's state has no scope heads")
	}
	carol.st.ScopeHeads = nil // as saved by a hush before scope links
	tm.p.onAfter("GET /v2/chain", func(x *mExchange) {
		if x.Device != carol.id() || !strings.Contains(x.Query, "after=0&") {
			return
		}
		rewrite(t, x, func(p *wire.ChainPage) {
			p.Entries[1].SealedHash = bytes.Repeat([]byte{7}, 32) // another history under her cursor
		})
	})
	tm.chainRefused(t, carol, "the chain up to this device's position is not the one it verified", wire.FaultReplaced)
	tm.p.honest()
	mark := tm.p.mark()
	tm.sync(t, carol)
	if walks := len(tm.p.sent(mark, "GET /v2/chain", carol.id())); walks < 2 {
		t.Fatalf("carol asked for the chain %d times: no walk", walks)
	}
	for id, c := range want {
		if got := carol.st.ScopeHeads[id]; got.Pos < c.Pos {
			t.Fatalf("carol's head of scope %q is at %d, want at least %d", id, got.Pos, c.Pos)
		}
	}
	if mGet(t, carol.v, "app/staging/NEW") != "new" {
		t.Fatal("carol did not get the new secret")
	}
	// Her own next entry links where the server expects it.
	mSet(t, carol.v, "app/staging/HERS", "hers")
	tm.sync(t, carol)
	tm.sync(t, tm.admin)
	if mGet(t, tm.admin.v, "app/staging/HERS") != "hers" {
		t.Fatal("carol's linked push did not reach the admin")
	}
	mark = tm.p.mark()
	tm.sync(t, carol)
	if n := len(tm.p.sent(mark, "GET /v2/chain", carol.id())); n != 1 {
		t.Fatalf("carol walked the chain again (%d pulls)", n)
	}
}

// A record that left a machine's scope (moved to another scope) is not
// the machine's to expect: the server proves it with the record's newer
// entry, of the other scope, signed by its author. Without that proof, or
// with a forged one, the read is refused.
func TestScopedMachineRecordMovedAway(t *testing.T) {
	tm, _ := scopedTeam(t)
	tok := tm.machine(t, "ci", "app/prod")
	mSet(t, tm.admin.v, "app/prod/LEAVING", "leaving")
	tm.sync(t, tm.admin)
	if _, err := tm.admin.v.Move("app/prod/LEAVING", "app/staging/LEAVING"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	prod := wire.ScopeID(tm.admin.st.NamesKey, tm.admin.st.Team, "app/prod")
	mark := tm.p.mark()
	v, _, err := machineRead(t, tok, time.Time{})
	if err != nil {
		t.Fatalf("a record moved out of the machine's scope stopped its read: %v", err)
	}
	got := mSecrets(t, v)
	if _, ok := got["app/staging/LEAVING"]; ok || len(got) != 1 || mGet(t, v, "app/prod/DB") != "prod-db" {
		t.Fatalf("the machine holds %v", got)
	}
	moved := 0
	for _, x := range tm.p.sent(mark, "GET /v2/chain", tok.Device) {
		var pg wire.ChainPage
		if err := json.Unmarshal(x.Resp, &pg); err != nil {
			t.Fatal(err)
		}
		for _, e := range pg.Moved {
			if e.Scope == prod {
				t.Fatalf("a moved entry of the machine's own scope")
			}
			moved++
		}
	}
	if moved != 1 {
		t.Fatalf("%d moved entries, want 1", moved)
	}
	for _, c := range []struct {
		name string
		lie  func(p *wire.ChainPage)
		text string
	}{
		{"the proof left out", func(p *wire.ChainPage) { p.Moved = nil }, "a withheld record"},
		{"the proof forged", func(p *wire.ChainPage) {
			p.Moved[0].Sig = bytes.Clone(p.Moved[0].Sig)
			p.Moved[0].Sig[0] ^= 1
		}, "an unsigned entry"},
		{"the proof of the machine's own scope", func(p *wire.ChainPage) {
			p.Moved[0].Scope = prod
		}, "of one it holds"},
		// Every entry a page carries is checked, or the page refused
		// (outside attack attack20 H4: after a good proof, a second one
		// for the same record, or one for a record the read does not
		// expect, was let through unchecked).
		{"a forged second proof after the good one", func(p *wire.ChainPage) {
			bad := p.Moved[0]
			bad.Sig = bytes.Clone(bad.Sig)
			bad.Sig[0] ^= 1
			p.Moved = append(p.Moved, bad)
		}, "came with two entries that moved it"},
		{"a proof of a record the read does not expect", func(p *wire.ChainPage) {
			other := p.Moved[0]
			other.ID = wire.NewID()
			p.Moved = append(p.Moved, other)
		}, "of no record this read expects"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tm.p.onAfter("GET /v2/chain", func(x *mExchange) {
				if x.Device == tok.Device {
					rewrite(t, x, func(p *wire.ChainPage) {
						if len(p.Moved) == 1 {
							c.lie(p)
						}
					})
				}
			})
			v, _, err := machineRead(t, tok, time.Time{})
			tm.p.honest()
			mWantErr(t, err, c.text, nil)
			if n := len(mSecrets(t, v)); n != 0 {
				t.Fatalf("a refused read left %d secrets", n)
			}
		})
	}
}

// A running agent (one token Team, read again and again) stops serving a
// secret that a writer of both scopes moved out of its scope after its
// first read (outside attack 20, H3): its next read asks for the moves
// since (moves=1), checks each as a first read checks one, and drops the
// secret. A forged move, one that is not the version after the one it
// read, or one before its last read is refused, and the agent keeps
// everything it had.
func TestScopedAgentDropsRecordMovedAway(t *testing.T) {
	tm, _ := scopedTeam(t)
	tok := tm.machine(t, "ci", "app/prod")
	parsed, err := ParseToken(tok.String())
	if err != nil {
		t.Fatal(err)
	}
	agent := func(t *testing.T, name string) (*vault.Vault, *Team) {
		mSet(t, tm.admin.v, "app/prod/"+name, "leaving")
		tm.sync(t, tm.admin)
		v, err := vault.CreateMemory()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		tt, err := OpenToken(v, parsed)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tt.Sync(mctx); err != nil {
			t.Fatal(err)
		}
		if mGet(t, v, "app/prod/"+name) != "leaving" {
			t.Fatalf("the agent's first read has no %s", name)
		}
		if _, err := tm.admin.v.Move("app/prod/"+name, "app/staging/"+name); err != nil {
			t.Fatal(err)
		}
		tm.sync(t, tm.admin)
		return v, tt
	}
	t.Run("honest", func(t *testing.T) {
		v, tt := agent(t, "LEAVING")
		mark := tm.p.mark()
		rep, err := tt.Sync(mctx)
		if err != nil {
			t.Fatalf("the agent's read after the move: %v", err)
		}
		got := mSecrets(t, v)
		if _, ok := got["app/prod/LEAVING"]; ok || rep.LeftScopes != 1 || mGet(t, v, "app/prod/DB") != "prod-db" {
			t.Fatalf("after the move the agent holds %v (%d left its scopes)", got, rep.LeftScopes)
		}
		asked := 0
		for _, x := range tm.p.sent(mark, "GET /v2/chain", tok.Device) {
			if strings.Contains(x.Query, wire.ChainMoves+"=1") {
				asked++
			}
		}
		if asked != 1 {
			t.Fatalf("%d reads asked for the moves since, want 1", asked)
		}
		// The server says it again (nothing of the scope since): nothing
		// more to drop, nothing refused.
		if rep, err := tt.Sync(mctx); err != nil || rep.LeftScopes != 0 {
			t.Fatalf("the next read: %+v %v", rep, err)
		}
	})
	for i, c := range []struct {
		name string
		lie  func(p *wire.ChainPage)
		text string
	}{
		{"forged", func(p *wire.ChainPage) {
			p.Moved[0].Sig = bytes.Clone(p.Moved[0].Sig)
			p.Moved[0].Sig[0] ^= 1
		}, "not signed"},
		{"not the next version", func(p *wire.ChainPage) { p.Moved[0].Version++ }, "not the version after"},
		{"before the last read", func(p *wire.ChainPage) { p.Moved[0].Pos = 1 }, "not the version after"},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := fmt.Sprintf("LEAVING_%d", i)
			v, tt := agent(t, name)
			tm.p.onAfter("GET /v2/chain", func(x *mExchange) {
				if x.Device == tok.Device {
					rewrite(t, x, func(p *wire.ChainPage) {
						if len(p.Moved) == 1 {
							c.lie(p)
						}
					})
				}
			})
			_, err := tt.Sync(mctx)
			tm.p.honest()
			mWantErr(t, err, c.text, nil)
			if mGet(t, v, "app/prod/"+name) != "leaving" || mGet(t, v, "app/prod/DB") != "prod-db" {
				t.Fatalf("a refused read changed what the agent holds: %v", mSecrets(t, v))
			}
		})
	}
}

// A writer of app/staging cannot take app/prod/DB by sealing its next
// version, renamed into app/staging, into her own scope (outside attack
// attack18 F1): the server refuses the push (403), and a server that
// takes it anyway gets it skipped by every device that holds the secret
// and her scope, which keeps its value and says who wrote it; a device
// that holds app/prod and not her scope refuses the entry, as a token of
// app/prod does (attack20 H5), and keeps its value.
func TestMaliciousScopedWriterTakesAnotherScopesRecord(t *testing.T) {
	tm, carol := scopedTeam(t)
	req := takeover(t, tm, carol, "app/prod/DB")
	var se *ServerError
	err := carol.team(func(tt *Team) error {
		c, err := tt.verifyLog(mctx)
		if err != nil {
			return err
		}
		var res wire.ChainPushResponse
		return c.do(mctx, "POST", "/v2/push", req, &res)
	})
	if !errors.As(err, &se) || se.Status != http.StatusForbidden || !strings.Contains(err.Error(), "may not write") {
		t.Fatalf("the server took carol's record of app/prod's secret: %v", err)
	}
	storeTakes(t, tm, &req) // a server that takes it anyway
	before := mSecrets(t, tm.bob.v)
	for _, d := range []*mDev{tm.admin, tm.bob} {
		rep, err := d.Sync(mctx)
		// The admin holds app/staging and gets carol's record: skipped,
		// reported. Bob does not: the entry takes the record out of his
		// scopes, by a device that could not write app/prod: refused.
		if d == tm.bob {
			mWantErr(t, err, "it moves record "+req.Entries[0].ID+" out of a folder scope its author could not write", nil)
		} else if err != nil {
			t.Fatalf("%s's sync: %v", d.name, err)
		}
		if d == tm.admin && (len(rep.Unreadable) != 1 || rep.Unreadable[0].Member != "carol" || !strings.Contains(rep.Unreadable[0].Reason, "out of a folder scope its author could not write")) {
			t.Fatalf("%s's sync did not report carol's record: %+v", d.name, rep.Unreadable)
		}
		if mGet(t, d.v, "app/prod/DB") != "prod-db" {
			t.Fatalf("%s lost app/prod/DB", d.name)
		}
		if _, err := d.v.Get("app/staging/TAKEN"); err == nil {
			t.Fatalf("%s took carol's rename", d.name)
		}
	}
	mSame(t, "bob's secrets", mSecrets(t, tm.bob.v), before)
	// The admin may move it (she writes both scopes): that is no attack.
	// Her version brings the record back into bob's scopes, by a writer
	// of the one it left: he reads on past carol's entry.
	if _, err := tm.admin.v.Move("app/prod/DB", "moved/DB"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	if rep := tm.sync(t, tm.bob); len(rep.Unreadable) != 0 || mGet(t, tm.bob.v, "moved/DB") != "prod-db" {
		t.Fatalf("bob did not take the admin's move: %+v", rep.Unreadable)
	}
}

// A server that tells a machine token its team's chain has not started
// cannot send it back to v1, where the server alone says what exists
// (outside attack attack18 F2): the read is refused, for a token of a
// team without scopes (which reads the whole chain) and a scoped one.
func TestMaliciousMachineChainDowngrade(t *testing.T) {
	plain := newMTeam(t)
	scoped, _ := scopedTeam(t)
	for _, c := range []struct {
		tm      *mTeam
		folders []string
	}{{plain, nil}, {scoped, []string{"app/prod"}}} {
		tm := c.tm
		var tok *Token
		if err := tm.admin.team(func(tt *Team) (err error) {
			tok, err = tt.InviteMachineScoped(mctx, "ci", wire.RoleReader, time.Hour, c.folders)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		tm.sync(t, tm.admin)
		tm.p.onAfter("GET /v2/chain", func(x *mExchange) {
			rewrite(t, x, func(p *wire.ChainPage) { *p = wire.ChainPage{Entries: []wire.ChainEntry{}, Records: []wire.Record{}} })
		})
		mark := tm.p.mark()
		_, _, err := machineRead(t, tok, time.Time{})
		tm.p.honest()
		mWantErr(t, err, "has not started", nil)
		if n := len(tm.p.sent(mark, "GET /v1/changes", tok.Device)); n != 0 {
			t.Fatalf("the machine read %d pages of v1 changes", n)
		}
	}
}

// takeover is carol's hand-made push of the next version of name's
// record (a secret of a scope she may not write), hers, renamed into
// app/staging, at the chain's head: attack18 F1.
func takeover(t *testing.T, tm *mTeam, carol *mDev, name string) wire.ChainPush {
	t.Helper()
	team := tm.admin.st.Team
	id := secretID(t, tm.admin, name)
	var version int64
	pg, err := tm.p.store.Chain(mctx, team, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range pg.Entries {
		if e.ID == id {
			version = max(version, e.Version)
		}
	}
	var req wire.ChainPush
	if err := carol.team(func(tt *Team) error {
		if _, err := tt.verifyLog(mctx); err != nil {
			return err
		}
		st := tt.st
		st.prepareFolders()
		r, err := st.seal(id, version+1, &payload{Name: "app/staging/TAKEN", Meta: vault.Meta{Type: "password"}, Value: []byte("CAROLS-VALUE")})
		if err != nil {
			return err
		}
		req = onePush(st, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return req
}

// onePush is r as a push of one entry on st's chain head, linked in its
// scope and signed by st's device: what a device that wrote r sends.
func onePush(st *State, r *wire.Record) wire.ChainPush {
	e := wire.NextEntry(st.Chain, r, time.Now())
	e.InPush(st.Chain, 1)
	e.ScopeLast = e.Pos
	st.ScopeHeads.LinkNext(&e)
	e.Sign(st.Team, st.Device.ID, st.signer())
	return wire.ChainPush{Prev: st.Chain, Entries: []wire.ChainEntry{e}, Records: []wire.Record{*r}}
}

// The same takeover, taken by a server without its check, read by
// machine tokens (attack19 G2): one that holds both scopes meets the
// record coming into app/staging from app/prod: it serves neither name
// and says who wrote it, and reads the rest (attack22 P1: refusing the
// whole read let one writer stop every such token); one that holds
// app/prod alone meets it as the server's proof of a move out, which the
// server must not serve: the read is refused. And a "moved" entry the
// server forges from a writer of app/staging alone (attack19 G1) is
// refused the same way.
func TestMaliciousScopedMachineTakeover(t *testing.T) {
	tm, carol := scopedTeam(t)
	var both, prodOnly *Token
	if err := tm.admin.team(func(tt *Team) (err error) {
		if both, err = tt.InviteMachineScoped(mctx, "ci-both", wire.RoleReader, time.Hour, []string{"app/prod", "app/staging"}); err != nil {
			return err
		}
		prodOnly, err = tt.InviteMachineScoped(mctx, "ci-prod", wire.RoleReader, time.Hour, []string{"app/prod"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	for _, tok := range []*Token{both, prodOnly} {
		if v, _, err := machineRead(t, tok, time.Time{}); err != nil || mGet(t, v, "app/prod/DB") != "prod-db" {
			t.Fatalf("%s before: %v", tok.Name, err)
		}
	}
	// G1: a forged move, signed by carol (app/staging only), served to
	// the app/prod machine in place of app/prod/DB's record.
	forged := takeover(t, tm, carol, "app/prod/DB")
	tm.p.onAfter("GET /v2/chain", func(x *mExchange) {
		if x.Device != prodOnly.Device {
			return
		}
		rewrite(t, x, func(p *wire.ChainPage) {
			id := forged.Entries[0].ID
			p.Records = slices.DeleteFunc(p.Records, func(r wire.Record) bool { return r.ID == id })
			p.Moved = append(p.Moved, forged.Entries[0])
		})
	})
	_, _, err := machineRead(t, prodOnly, time.Time{})
	tm.p.honest()
	mWantErr(t, err, "out of a folder scope its author could not write", nil)
	// G2: the takeover in the chain.
	storeTakes(t, tm, &forged)
	v, rep, err := machineRead(t, both, time.Time{})
	if err != nil {
		t.Fatalf("ci-both: %v", err)
	}
	got := mSecrets(t, v)
	if _, ok := got["app/staging/TAKEN"]; ok || got["app/prod/DB"] != "" || mGet(t, v, "app/staging/DB") != "staging-db" {
		t.Fatalf("ci-both after the takeover holds %v", got)
	}
	if len(rep.Unreadable) != 1 || rep.Unreadable[0].Member != "carol" || rep.Unreadable[0].Version != forged.Entries[0].Version ||
		!strings.Contains(rep.Unreadable[0].Reason, "it brought app/staging/TAKEN here from a folder scope its author could not write") {
		t.Fatalf("ci-both's report of the takeover: %+v", rep.Unreadable)
	}
	v, _, err = machineRead(t, prodOnly, time.Time{})
	mWantErr(t, err, "out of a folder scope its author could not write", nil)
	if n := len(mSecrets(t, v)); n != 0 {
		t.Fatalf("ci-prod: a refused read left %d secrets", n)
	}
}

// Honest moves are no takeover (outside attack attack20 H1): a secret
// written at the root, moved into app/staging by the admin (a move, or
// the re-seal of a new scope), then changed by carol, who writes
// app/staging alone. A token that holds the root alone reads the team
// (its proof of the move is the admin's entry, not carol's), and a
// device that holds both and did not sync in between takes carol's
// version (it follows the record's way: the admin's move, then carol's
// change).
func TestScopedMovesThenWritesAreNoTakeover(t *testing.T) {
	tm, carol := scopedTeam(t)
	if _, err := tm.admin.Ungrant("carol", "/"); err != nil { // carol: app/staging alone
		t.Fatal(err)
	}
	dave := tm.add(t, "dave", wire.RoleWriter)
	if err := tm.admin.Grant("dave", "app/staging", wire.RoleReader); err != nil {
		t.Fatal(err)
	}
	mSet(t, tm.admin.v, "app/X", "x-1")
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	tm.sync(t, dave)
	var root *Token
	if err := tm.admin.team(func(tt *Team) (err error) {
		root, err = tt.InviteMachineScoped(mctx, "ci-root", wire.RoleReader, time.Hour, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	if v, _, err := machineRead(t, root, time.Time{}); err != nil || mGet(t, v, "app/X") != "x-1" {
		t.Fatalf("ci-root before: %v", err)
	}
	if _, err := tm.admin.v.Move("app/X", "app/staging/X"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	mSet(t, carol.v, "app/staging/X", "x-carol")
	tm.sync(t, carol)
	if _, _, err := machineRead(t, root, time.Time{}); err != nil {
		t.Fatalf("an honest move then an honest change stopped the root token's read: %v", err)
	}
	rep := tm.sync(t, dave)
	if len(rep.Unreadable) != 0 || mGet(t, dave.v, "app/staging/X") != "x-carol" {
		t.Fatalf("dave did not take carol's version after the admin's move: %+v", rep.Unreadable)
	}
}

// A takeover hidden behind a version the token does not see (attack21
// N1): carol takes app/prod/DB into app/staging (a server that takes it
// anyway), then moves it on to the root, where she may write. A token
// that holds the root and app/prod, not app/staging, sees the record go
// from app/prod to the root by carol, who cannot write app/prod: it
// serves it under neither name and says who wrote it; the rest is read.
func TestMaliciousScopedMachineHiddenTakeover(t *testing.T) {
	tm, carol := scopedTeam(t)
	tok := tm.machine(t, "ci")
	if err := tm.admin.Grant("ci", "app/prod", wire.RoleReader); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	if v, _, err := machineRead(t, tok, time.Time{}); err != nil || mGet(t, v, "app/prod/DB") != "prod-db" {
		t.Fatalf("before: %v", err)
	}
	req := takeover(t, tm, carol, "app/prod/DB")
	storeTakes(t, tm, &req)
	tm.sync(t, carol) // she takes her own version, as app/staging/TAKEN
	if _, err := carol.v.Move("app/staging/TAKEN", "STOLEN"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, carol)
	v, rep, err := machineRead(t, tok, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got := mSecrets(t, v); got["STOLEN"] != "" || got["app/prod/DB"] != "" || got["app/alpha"] == "" || len(rep.Unreadable) != 1 || rep.Unreadable[0].Member != "carol" ||
		!strings.Contains(rep.Unreadable[0].Reason, "here from a folder scope its author could not write") {
		t.Fatalf("the token after the hidden takeover holds %v; report %+v", got, rep.Unreadable)
	}
	// bob's vault (app/prod and the root, not app/staging) skips it too,
	// keeps his value, and names the version of the bad move, not the
	// newest one (attack21 n4).
	brep := tm.sync(t, tm.bob)
	if len(brep.Unreadable) != 1 || brep.Unreadable[0].Version != req.Entries[0].Version || brep.Unreadable[0].Member != "carol" || mGet(t, tm.bob.v, "app/prod/DB") != "prod-db" {
		t.Fatalf("bob's sync after the hidden takeover (version %d, moved on to %d): %+v", req.Entries[0].Version, req.Entries[0].Version+1, brep.Unreadable)
	}
	// A later version by a writer of app/prod settles it: the admin, who
	// skipped the takeover and kept app/prod/DB, writes it again (on top).
	tm.sync(t, tm.admin)
	mSet(t, tm.admin.v, "app/prod/DB", "given-back")
	tm.sync(t, tm.admin)
	v, rep, err = machineRead(t, tok, time.Time{})
	if err != nil || mGet(t, v, "app/prod/DB") != "given-back" || len(rep.Unreadable) != 0 {
		t.Fatalf("after the admin's version: %v, %+v", err, rep)
	}
	if _, ok := mSecrets(t, v)["STOLEN"]; ok {
		t.Fatal("STOLEN is still served")
	}
}

// machine is a reader machine's token for folders (none: the root),
// made by the admin.
func (tm *mTeam) machine(t *testing.T, name string, folders ...string) *Token {
	t.Helper()
	var tok *Token
	if err := tm.admin.team(func(tt *Team) (err error) {
		tok, err = tt.InviteMachineScoped(mctx, name, wire.RoleReader, time.Hour, folders)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return tok
}

// Two honest moves through a scope a token does not hold (attack22 P1):
// the admin moves a root secret into app/staging, carol (app/staging and
// app/dev, not the root) moves it on into app/dev. A token of the root
// and app/dev sees it go from the root to app/dev by carol, who cannot
// write the root: it cannot tell this from a takeover, so it does not
// serve that secret and says who moved it, but reads everything else
// (the whole read failed before, for every such token, for good); a
// later version by a writer of the root gives it back.
func TestScopedTwoMovesSkipOneSecret(t *testing.T) {
	tm, carol := scopedTeam(t)
	mSet(t, tm.admin.v, "SK", "sk-1")
	tm.sync(t, tm.admin)
	if err := tm.admin.Grant("carol", "app/dev", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.admin.Ungrant("carol", "/"); err != nil { // a contractor: app/staging and app/dev only
		t.Fatal(err)
	}
	tok := tm.machine(t, "ci")
	if err := tm.admin.Grant("ci", "app/dev", wire.RoleReader); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.admin.v.Move("SK", "app/staging/SK"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	if _, err := carol.v.Move("app/staging/SK", "app/dev/SK"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, carol)
	v, rep, err := machineRead(t, tok, time.Time{})
	if err != nil {
		t.Fatalf("two honest moves stopped the token's read: %v", err)
	}

	got := mSecrets(t, v)
	if _, ok := got["app/dev/SK"]; ok || got["app/alpha"] == "" || len(rep.Unreadable) != 1 || rep.Unreadable[0].Member != "carol" {
		t.Fatalf("after two moves the token holds %v; report %+v", got, rep.Unreadable)
	}
	tm.sync(t, tm.admin)
	mSet(t, tm.admin.v, "app/dev/SK", "sk-2")
	tm.sync(t, tm.admin)
	v, rep, err = machineRead(t, tok, time.Time{})
	if err != nil || mGet(t, v, "app/dev/SK") != "sk-2" || len(rep.Unreadable) != 0 {
		t.Fatalf("after the admin's version: %v, %+v", err, rep)
	}
}

// A writer of app/staging and a lying server plant a secret in
// app/staging/db, carved out of it and taken from her (attack22 B2):
// she seals, dated before the carve, a record named below it in
// app/staging, and the server serves it after the carve, before any
// entry dated after it. Its scope was its name's when it was dated, but
// its name is app/staging/db's now, whose re-seal is the version to take:
// skipped, by every device.
func TestMaliciousPlantedBeforeCarve(t *testing.T) {
	tm, carol := scopedTeam(t)
	team := tm.admin.st.Team
	id := wire.NewID()
	var rec *wire.Record
	if err := carol.team(func(tt *Team) (err error) {
		if _, err := tt.verifyLog(mctx); err != nil {
			return err
		}
		tt.st.prepareFolders()
		rec, err = tt.st.seal(id, 1, &payload{Name: "app/staging/db/PASS", Meta: vault.Meta{Type: "password"}, Value: []byte("PLANTED")})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := tm.admin.Grant("bob", "app/staging/db", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.admin.Ungrant("carol", "app/staging/db"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	var req wire.ChainPush
	if err := carol.team(func(tt *Team) error {
		if _, err := tt.verifyLog(mctx); err != nil {
			return err
		}
		req = onePush(tt.st, rec)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The server (which would answer a push dated before the log's head
	// "stale") serves it as the next entry of the chain.
	e := req.Entries[0]
	tm.p.onAfter("GET /v2/chain", func(x *mExchange) {
		rewrite(t, x, func(p *wire.ChainPage) {
			if len(p.Entries) == 0 && p.Head.Pos == e.Pos-1 {
				p.Entries = []wire.ChainEntry{e}
				if x.Device != tm.bob.st.Device.ID { // bob does not hold app/staging: no record of it
					p.Records = []wire.Record{*rec}
				}
				p.Head = wire.ChainCursor{Pos: e.Pos, Hash: e.Hash(team)}
			}
		})
	})
	defer tm.p.honest()
	rep := tm.sync(t, tm.admin)
	if _, err := tm.admin.v.Get("app/staging/db/PASS"); err == nil || rep.Skipped != 0 || len(rep.Carved) != 1 || !strings.Contains(rep.Carved[0], "carol") {
		t.Fatalf("the admin took the record planted before the carve, or did not say who wrote it: %+v", rep)
	}
	// bob, who holds app/staging/db and not app/staging, never sees it.
	tm.sync(t, tm.bob)
	if _, err := tm.bob.v.Get("app/staging/db/PASS"); err == nil {
		t.Fatal("bob holds the planted record")
	}
}

// A writer token reads the whole chain before it pushes (a push extends
// the whole chain), and must check there what its scoped read checks
// (outside attack attack20 H5): carol (app/staging only) takes
// app/prod/DB into app/staging, a push the server refuses and a lying
// server serves anyway. A writer token of app/prod refuses that move on
// its scoped read; with a change of its own to push, its read of the
// whole chain refused nothing of it, and its push named carol's entry as
// the one it follows. Now both refuse it, with the same words, and the
// token pushes nothing.
func TestMaliciousWriterTokenWholeChainMoveOut(t *testing.T) {
	tm, carol := scopedTeam(t)
	var tok, both *Token
	if err := tm.admin.team(func(tt *Team) (err error) {
		if tok, err = tt.InviteMachineScoped(mctx, "ci-w", wire.RoleWriter, time.Hour, []string{"app/prod"}); err != nil {
			return err
		}
		both, err = tt.InviteMachineScoped(mctx, "ci-both", wire.RoleWriter, time.Hour, []string{"app/prod", "app/staging"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	if v, _, err := machineRead(t, tok, time.Time{}); err != nil || mGet(t, v, "app/prod/DB") != "prod-db" {
		t.Fatalf("before: %v", err)
	}
	forged := takeover(t, tm, carol, "app/prod/DB")
	storeTakes(t, tm, &forged)
	const refused = "out of a folder scope its author could not write"
	if _, _, err := machineRead(t, tok, time.Time{}); err == nil || !strings.Contains(err.Error(), refused) {
		t.Fatalf("the token's scoped read: %v", err)
	}
	// The same token with a change to push: its read is the whole chain's.
	writes := func(tok *Token) (*Report, error) {
		v := mustMemory(t)
		mSet(t, v, "app/prod/NEW-"+tok.Name, "from-ci")
		tt, err := OpenToken(mustMemory(t), tok)
		if err != nil {
			t.Fatal(err)
		}
		tt.v = v
		mark := tm.p.mark()
		rep, err := tt.Sync(mctx)
		whole := 0
		for _, x := range tm.p.sent(mark, "GET /v2/chain", tok.Device) {
			if !strings.Contains(x.Query, wire.ChainScoped+"=1") {
				whole++
			}
		}
		if whole == 0 {
			t.Fatalf("writer token %s did not read the whole chain", tok.Name)
		}
		return rep, err
	}
	mark := tm.p.mark()
	_, err := writes(tok)
	mWantErr(t, err, refused, nil)
	if n := len(tm.p.sent(mark, "POST /v2/push", tok.Device)); n != 0 {
		t.Fatalf("the token pushed %d time(s) on top of the forged entry", n)
	}
	pg, err := tm.p.store.Chain(mctx, tm.admin.st.Team, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if last := pg.Entries[len(pg.Entries)-1]; last.Pos != forged.Entries[0].Pos {
		t.Fatalf("the chain went on past the forged entry %d to %d", forged.Entries[0].Pos, last.Pos)
	}
	// A writer token of both scopes meets the record coming into
	// app/staging from app/prod, as its scoped read does
	// (TestMaliciousScopedMachineTakeover): that secret is skipped, its
	// author named, and the rest goes on (attack22 P1), its push too.
	rep, err := writes(both)
	if err != nil || len(rep.Unreadable) != 1 || rep.Unreadable[0].Member != "carol" || !strings.Contains(rep.Unreadable[0].Reason, refused) || rep.Pushed != 1 {
		t.Fatalf("writer token of both scopes: %v, %+v", err, rep)
	}
}

// A page of the whole chain carries every entry in its place: one that
// comes with entries sent as records' moves (a scoped page's proofs,
// which this pull would not check) is refused as malformed (outside
// attack attack20 H4), and nothing of it is applied.
func TestMaliciousWholePageWithMoves(t *testing.T) {
	tm, _ := scopedTeam(t)
	mSet(t, tm.admin.v, "app/prod/NEW", "new")
	tm.sync(t, tm.admin)
	var moved wire.ChainEntry
	pg, err := tm.p.store.Chain(mctx, tm.admin.st.Team, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	moved = pg.Entries[len(pg.Entries)-1]
	tm.p.onAfter("GET /v2/chain", func(x *mExchange) {
		if x.Device == tm.bob.st.Device.ID {
			rewrite(t, x, func(p *wire.ChainPage) { p.Moved = append(p.Moved, moved) })
		}
	})
	defer tm.p.honest()
	before := mSecrets(t, tm.bob.v)
	_, err = tm.bob.Sync(mctx)
	mWantErr(t, err, "a page of the whole chain came with entries sent as records' moves", nil)
	mSame(t, "bob's secrets", mSecrets(t, tm.bob.v), before)
}
