package client

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hush-secrets/hush/sync/internal/par"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// RollbackError means the server holds less than this device has seen: it
// was restored from an old backup, or it is lying. Nothing is applied.
type RollbackError struct {
	What string
}

func (e *RollbackError) Error() string {
	return "the team server went backwards: " + e.What + "; it may have been restored from an old backup. Nothing was changed here; ask your admin"
}

// Report says what a sync did.
type Report struct {
	Pulled int // remote changes applied here
	Pushed int // local changes the server took, seen back in its changes
	// Unconfirmed counts local changes the server answered as taken but
	// did not show back: they stay unpushed and go again next time.
	Unconfirmed int
	Conflicts   []string // names with a conflict now
	Approvals   []Approval
	GotKey      bool // this device received the team key (the root's) in this sync
	// GotScopes is the folders of the scopes whose key this device
	// received in this sync (a new scope, or a scope's new epoch).
	GotScopes []string
	// ReadAgain is the folders ("/" the root) of scopes this device holds
	// since its last sync that already had secrets: their records were
	// read from the chain's start in this sync (pullChain).
	ReadAgain []string
	// ReadOnly counts local changes a reader's sync does not push.
	ReadOnly int
	// OutOfScope counts local changes in folder scopes this device may
	// not write (it does not hold them, or holds them as a reader): they
	// stay here.
	OutOfScope int
	// MovedAway counts local changes to secrets whose newer version the
	// server holds but does not send this device (a teammate moved them
	// out of its folder scopes): they stay here, and the rest is pushed.
	MovedAway int
	// LeftScopes counts secrets a machine token's running agent served
	// that a teammate has since moved out of its scopes: no longer served.
	LeftScopes int
	// Skipped counts records sealed under an old key epoch, not applied.
	Skipped int
	// Carved lists, by author, records not applied because they were
	// dated before a deeper scope was carved out of their folder for their
	// name (attack22 B2): the carve's re-seal is the version to take.
	Carved []string
	// Vouched counts secrets a writer machine wrote last, whose access
	// ends soon or has ended, that this admin's device pushed again
	// under its own signature (vouchMachineWrites).
	Vouched int
	// ByExpired counts records not applied because the machine that wrote
	// them (ExpiredMachines, by name) has reached the end of its access:
	// this device cannot tell what it signed before from what its key
	// signs after (attack22 E1).
	ByExpired       int
	ExpiredMachines []string
	// TakenIn lists records of the epoch before the current one, written
	// before it began, that this device (the admin that began it) applied
	// and seals again under the new key, marked to rotate; each names who
	// wrote it, and whether that member has left (the value is theirs).
	TakenIn []TakenIn
	// TakenInExposed: those were marked to be rotated, since the epoch
	// before was left by a member who holds its key.
	TakenInExposed bool
	// Superseded names secrets whose newer record, under an old key
	// epoch, this device could not take in, and whose re-seal goes on top
	// of it: that write is lost to the team.
	Superseded []string
	// Unpurged names secrets purged here, their removal not yet sent,
	// that a teammate changed meanwhile: the change is taken (nothing is
	// lost), and a purge again sends the removal on top of it. (A
	// conflict kept on a secret whose row is gone was shown nowhere: the
	// purge never reached the team, and the teammate's later versions
	// never reached this device; outside attack attack27 F5.)
	Unpurged []string
	// Unreadable lists records their author signed but that do not open
	// under the team key (chain): skipped, this device keeps its last
	// readable version; the author's device is broken or hostile.
	Unreadable []Unreadable
	// Stale counts local changes the server refused as written before the
	// latest membership change; the next sync sends them again.
	Stale int
	// Fresh warns when the server has shown nothing new for too long:
	// it may be withholding updates (see State.Freshness).
	Fresh Freshness
}

// Sync pulls what changed on the server, applies it (or notes a conflict
// where this device changed the same secret), then pushes local changes.
// An admin's sync also approves joins made with its invites. The state is
// written once per page pulled (the cursor, so that an interrupted sync
// resumes) and once at the end; an answer that fails verification writes
// nothing. A sync that changed the vault ends with its audit entry, a
// change of its own (vault.Span).
func (t *Team) Sync(ctx context.Context) (rep *Report, err error) {
	st, v := t.st, t.v
	rep = &Report{}
	// A sync writes the vault in several transactions (each page applied,
	// what a push sent, the state), with the server's answers between
	// them: its entry goes in with a change of its own after the last,
	// which the vault's anchor names (vault.Span, attack24 F4). Deferred
	// first, so it runs last.
	end := v.Span("sync")
	defer func() {
		if lerr := end(err); lerr != nil && err == nil {
			err = fmt.Errorf("the audit log could not be written: %w", lerr)
		}
	}()
	defer func() {
		// The server took approvals (or this device was removed, or is
		// still waiting): what it knows of that is kept, even on failure.
		gone := errors.Is(err, ErrRemoved) || UnknownDevice(err)
		if gone != st.Removed && (err == nil || gone) {
			st.Removed = gone // `hush status` says so until a sync works
			t.save()
			return
		}
		if err != nil && (t.owed || errors.Is(err, ErrRemoved) || errors.Is(err, ErrPending)) {
			t.save()
		}
	}()
	// A membership change during the sync (a member left, a key rotated)
	// makes the server refuse pushes as stale: one more round catches up.
	for round := 0; ; round++ {
		t.verified = false // a sync always fetches the log afresh
		c, err := t.verifyLog(ctx)
		if err != nil {
			return rep, err
		}
		if (len(st.Keys) == 0 || st.Epoch != st.Members.Epoch) && st.Members.Holds(st.Device.ID, "") {
			if err := st.fetchKey(ctx, c); err != nil {
				return rep, err
			}
			rep.GotKey = true
		}
		st.dropLostScopeKeys()
		if st.needScopeKeys() {
			had := make(map[string]int64, len(st.ScopeKeys))
			for id, k := range st.ScopeKeys {
				had[id] = k.Epoch
			}
			if err := st.fetchScopeKeys(ctx, c); err != nil {
				return rep, err
			}
			st.prepareFolders()
			folders, _ := st.scopeFolders()
			for id, k := range st.ScopeKeys {
				if e, ok := had[id]; (!ok || e != k.Epoch) && folders[id] != "" && !slices.Contains(rep.GotScopes, folders[id]) {
					rep.GotScopes = append(rep.GotScopes, folders[id])
				}
			}
			slices.Sort(rep.GotScopes)
		}
		st.prepareFolders()
		if len(st.Invites) > 0 { // joins can only come with this device's invitations
			as, err := t.approve(ctx)
			rep.Approvals = append(rep.Approvals, as...)
			if err != nil {
				return rep, err
			}
		}
		s := &syncer{t: t, v: v.Replica(), st: st, c: c, rep: rep}
		useChain, first, err := s.chainStart(ctx)
		if err != nil {
			return rep, err
		}
		if useChain {
			if err := s.chainSync(ctx, first); err != nil {
				var ahead *logAheadError
				if errors.As(err, &ahead) && round == 0 {
					continue // the log moved meanwhile: fetch it again
				}
				return rep, err
			}
			for _, sr := range s.sent {
				if !sr.earlier { // an earlier sync's: that sync said so
					rep.Unconfirmed++
				}
			}
			if s.stale == 0 || round == 1 {
				rep.Stale = s.stale
				break
			}
			continue
		}
		if err := s.pull(ctx); err != nil {
			var ahead *logAheadError
			if errors.As(err, &ahead) && round == 0 {
				continue // the log moved meanwhile: fetch it again
			}
			return rep, err
		}
		if st.WritesAny() {
			if err := s.push(ctx); err != nil {
				return rep, err
			}
			// A push is done when this device sees its records in the
			// team's changes, not when the server says ok.
			if len(s.sent) > 0 {
				if err := s.pull(ctx); err != nil {
					return rep, err
				}
				rep.Unconfirmed += len(s.sent)
			}
		} else if stt, err := status(v); err == nil {
			rep.ReadOnly = stt.Unpushed
		}
		if s.stale == 0 || round == 1 {
			rep.Stale = s.stale
			break
		}
	}
	rep.Fresh = st.Freshness(st.now())
	st.LastSync = st.now().UTC()
	if err := t.save(); err != nil {
		return rep, err
	}
	cs, err := v.Conflicts()
	if err != nil {
		return rep, err
	}
	for _, n := range cs {
		rep.Conflicts = append(rep.Conflicts, n)
	}
	slices.Sort(rep.Conflicts)
	return rep, nil
}

// TakenIn is one record an admin's sync took in from the previous key
// epoch: the secret's name and who wrote it.
type TakenIn struct {
	Name, Member, Device string
	Removed              bool // the member is no longer in the team
}

// Unreadable is a record skipped because it does not open although its
// author signed it.
type Unreadable struct {
	ID      string // the secret's record id
	Name    string // the secret's name on this device; empty: not held here
	Version int64
	Device  string // the author's device and member
	Member  string
	Reason  string
}

// sentRecord is a record this device pushed and the server answered ok:
// what to recognise it by when it comes back, and the local state it was.
type sentRecord struct {
	version int64
	hash    [sha256.Size]byte
	head    int
	deleted bool
	// The chain entry that carried it (sync v2): its position and hash.
	pos   int64
	entry []byte
	// earlier: pushed by an earlier sync (pushedKey), not this one.
	earlier bool
	// saved: in the vault's pushedKey setting (savePushed).
	saved bool
}

type syncer struct {
	t       *Team
	sent    map[string]sentRecord // pushed, not yet seen back
	v       *vault.Replica
	st      *State
	c       *conn
	rep     *Report
	stale   int
	fresh   bool // a record this device had not seen came in
	tracked map[string]*vault.Tracked

	// The change chain (chain.go). chain: this sync uses it.
	chain bool
	// confirmed: this page's records whose newest entry is the one this
	// device signed, at the position it signed.
	confirmed map[string]bool
	// signed: the hash of each entry this device signed in this sync, by
	// position (its own entries need no signature check).
	signed map[int64][]byte
	// vouched: this page's records that are exactly what a verified
	// record entry of the page names (openRecord).
	vouched map[string]bool
	// mine: the first position of an entry this device signed in this
	// sync and the server took; pulls ask without its records from there.
	mine int64
	// pushedSaved: the vault's pushedKey setting (or its batches) holds
	// entries. savedN: how many of s.sent's entries it holds (those with
	// sentRecord.saved), -1 when it holds others too; pushedKeys: its
	// batches' keys (pushedKey/N, N up to pushedN).
	pushedSaved bool
	savedN      int
	pushedKeys  []string
	pushedN     int
	status      string // the server's answer to the last batch pushed
	// conflicted: the ids the server's last answers said were in
	// conflict; movedAway: those it will not send (unsentConflicts).
	conflicted []string
	movedAway  map[string]bool
	head       *wire.ChainCursor // this push's own last entry, the next batch's prev
	heads      wire.ScopeHeads   // the scopes' heads after it (nil: st.ScopeHeads)
	// entriesOf: each record's entries verified in this sync's pulls, in
	// order (a team with folder scopes: checkMoves follows a record's way
	// through them).
	entriesOf map[string][]wire.ChainEntry
}

// track reads what the vault knows of the given records into s.tracked.
func (s *syncer) track(recs []wire.Record) error {
	if s.tracked == nil {
		s.tracked = map[string]*vault.Tracked{}
	}
	ids := make([][]byte, 0, len(recs))
	for i := range recs {
		id, err := hex.DecodeString(recs[i].ID)
		if err != nil {
			return &BadRecordError{recs[i].ID, "its id is not hex"}
		}
		ids = append(ids, id)
	}
	ts, err := s.v.TrackedByID(ids)
	if err != nil {
		return err
	}
	for i := range ts {
		s.tracked[hex.EncodeToString(ts[i].ID)] = &ts[i]
	}
	return nil
}

// localPayload is a secret's local state as a record payload.
func (s *syncer) localPayload(t *vault.Tracked) (*payload, error) {
	if !t.Exists || t.Deleted {
		p := &payload{Deleted: true, was: s.st.Purged[hex.EncodeToString(t.ID)]}
		if t.Exists && s.st.Members != nil && len(s.st.Members.Scopes) > 0 {
			if sec, err := s.v.ByID(t.ID); err == nil { // its scope is its last name's
				p.was = sec.Name
				clear(sec.Value)
			}
		}
		return p, nil
	}
	sec, err := s.v.ByID(t.ID)
	if err != nil {
		return nil, err
	}
	return &payload{Name: sec.Name, Meta: sec.Meta, Value: sec.Value}, nil
}

// livePayloads is localPayload of those of ids that are live here, by
// id, read together.
func (s *syncer) livePayloads(ids []string, byID map[string]*vault.Tracked) (map[string]*payload, error) {
	var live [][]byte
	var names []string
	for _, id := range ids {
		if t := byID[id]; t.Exists && !t.Deleted {
			live, names = append(live, t.ID), append(names, id)
		}
	}
	secs, err := s.v.ByIDs(live)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*payload, len(secs))
	for i, sec := range secs {
		out[names[i]] = &payload{Name: sec.Name, Meta: sec.Meta, Value: sec.Value}
	}
	return out, nil
}

func samePayload(a, b *payload) bool {
	if a.Deleted || b.Deleted {
		return a.Deleted && b.Deleted
	}
	am, _ := json.Marshal(a.Meta)
	bm, _ := json.Marshal(b.Meta)
	return a.Name == b.Name && bytes.Equal(a.Value, b.Value) && bytes.Equal(am, bm)
}

func (s *syncer) name(id string) string {
	if t, ok := s.tracked[id]; ok && t.Exists {
		if sec, err := s.v.ByID(t.ID); err == nil {
			clear(sec.Value)
			return sec.Name
		}
	}
	return "record " + id
}

func (s *syncer) pull(ctx context.Context) error {
	since := s.st.Head
	for first := true; ; first = false {
		var ch wire.Changes
		if err := s.c.do(ctx, "GET", "/v1/changes?since="+strconv.FormatInt(since, 10), nil, &ch); err != nil {
			return err
		}
		if ch.Head < s.st.highest() {
			return &RollbackError{fmt.Sprintf("its newest change is %d, but this device has seen %d", ch.Head, s.st.highest())}
		}
		// The whole page is checked before any of it is applied.
		last := since
		for _, r := range ch.Records {
			if r.Seq <= last || r.Seq > ch.Head {
				return &BadRecordError{r.ID, "its sequence number is out of order"}
			}
			last = r.Seq
		}
		// The newest change is a record the server holds (each record keeps
		// the number of its last write): a head above the last record sent
		// names changes that never come, and would make this device refuse
		// an honest server later as one that went backwards.
		if !ch.More && ch.Head > since && last != ch.Head {
			return fmt.Errorf("the team server says its newest change is %d but sends changes only up to %d: refused", ch.Head, last)
		}
		// More to come, and nothing sent: an honest server never answers
		// so (a page is empty only at the head). Believed, it would move
		// this device's cursor past changes that never come. Refused when
		// it is the whole answer; after pages that checked out, the pull
		// ends there, at the last record received.
		if ch.More && len(ch.Records) == 0 {
			if first {
				return fmt.Errorf("the team server says changes after %d follow, but sends none: refused", since)
			}
			ch.More = false
		}
		if err := s.apply(ch.Records); err != nil {
			return err
		}
		since = last
		// Only a record this device had not seen shows that the server
		// passes changes on: a higher head alone costs the server nothing
		// and would hide that it withholds them (Report.Fresh).
		if s.fresh {
			s.st.LastChange = s.st.now().UTC()
		}
		// The cursor moves to the last record received, not to the head
		// the server states (the same on an honest server's last page).
		if !ch.More {
			s.st.Head = max(s.st.Head, last)
			return nil
		}
		// Remember progress page by page: an interrupted first sync of a
		// large vault resumes instead of starting over.
		s.st.Head = since
		if err := s.t.save(); err != nil {
			return err
		}
	}
}

// apply opens one page of records and applies them in one transaction,
// noting conflicts with local changes.
func (s *syncer) apply(recs []wire.Record) error {
	if err := s.track(recs); err != nil {
		return err
	}
	var remotes []vault.Remote
	var remoteRecs []*wire.Record
	marks := map[string]vault.SyncMark{}
	old := map[string]bool{} // records of the epoch before, taken in (PrevKey)
	inPage := make(map[string]int64, len(recs))
	for i := range recs {
		r := &recs[i]
		if t := s.tracked[r.ID]; t != nil && t.Mark != nil && r.Version < t.Mark.Seen {
			return &RollbackError{fmt.Sprintf("it sent %s at version %d, but this device has seen version %d", s.name(r.ID), r.Version, t.Mark.Seen)}
		}
		// The server holds one version of a record: twice in a page is a
		// lie, and applied in order an older one would win.
		if v, ok := inPage[r.ID]; ok {
			return &RollbackError{fmt.Sprintf("it sent %s twice in one page, at versions %d and %d", s.name(r.ID), v, r.Version)}
		}
		inPage[r.ID] = r.Version
	}
	// This device's own pushed records, byte for byte: seen back, done.
	mine := make([]bool, len(recs))
	for i := range recs {
		if sr, ok := s.sent[recs[i].ID]; ok && recs[i].Version == sr.version && recs[i].Author == s.st.Device.ID && sha256.Sum256(recs[i].Sealed) == sr.hash &&
			(!s.chain || s.confirmed[recs[i].ID]) {
			mine[i] = true
		}
	}
	// Checking signatures and opening payloads is most of a pull's work.
	opened := make([]*payload, len(recs))
	unreadable := make([]*UnreadableRecordError, len(recs))
	expired := make([]string, len(recs)) // the machine, when its access ended
	carved := make([]string, len(recs))  // the author, when dated before a carve
	if err := par.Do(len(recs), func(i int) (err error) {
		if mine[i] {
			return nil
		}
		opened[i], err = s.st.openRecord(&recs[i], s.vouched[recs[i].ID])
		var stale *StaleRecordError
		if errors.As(err, &stale) {
			if ex := (*expiredAuthorError)(nil); errors.As(err, &ex) {
				expired[i] = ex.name
			}
			if cv := (*carvedError)(nil); errors.As(err, &cv) {
				carved[i] = cv.member + "'s device " + cv.device
			}
			return nil // opened[i] stays nil: skipped
		}
		if p := opened[i]; p != nil && p.old && !s.chain {
			// Only the chain orders a record of the epoch before against
			// the re-seal (no entry may be dated before the one it
			// follows); v1 does not: there it is skipped, as before.
			clear(p.Value)
			opened[i] = nil
			return nil
		}
		// On the chain, a record its author signed (its entry verified)
		// that does not open is the author's doing: skipped and reported,
		// so that one writer cannot stop every device's sync for good.
		var unread *UnreadableRecordError
		if s.chain && errors.As(err, &unread) {
			unreadable[i] = unread
			return nil
		}
		return err
	}); err != nil {
		return err
	}
	if err := s.checkMoves(recs, opened, unreadable); err != nil {
		return err
	}
	if err := s.checkRemovals(recs, opened); err != nil {
		for _, p := range opened {
			if p != nil {
				clear(p.Value)
			}
		}
		return err
	}
	for i := range recs {
		if t := s.tracked[recs[i].ID]; opened[i] != nil && (t == nil || t.Mark == nil || recs[i].Version > t.Mark.Seen) {
			s.fresh = true // authentic, current, and new here
		}
	}
	for i := range recs {
		r, p := &recs[i], opened[i]
		t := s.tracked[r.ID]
		var mark vault.SyncMark
		if t != nil && t.Mark != nil {
			mark = *t.Mark
		}
		if u := unreadable[i]; u != nil {
			name := ""
			if t != nil && t.Exists {
				name = s.name(r.ID)
			}
			version := r.Version
			if u.Version > 0 {
				version = u.Version // the one its author signed
			}
			s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{ID: r.ID, Name: name, Version: version, Device: u.Device, Member: u.Member, Reason: u.Reason})
			// This device keeps its last readable version; its next change
			// of the secret goes on top of the unreadable one.
			if t != nil && t.Mark != nil && mark.Theirs == nil {
				mark.Base, mark.Seen = max(mark.Base, r.Version), max(mark.Seen, r.Version)
				marks[r.ID] = mark
				t.Mark = &mark
			}
			continue
		}
		if mine[i] {
			sr := s.sent[r.ID]
			mark.Base, mark.Seen, mark.LocalHead, mark.LocalDeleted = r.Version, max(mark.Seen, r.Version), sr.head, sr.deleted
			marks[r.ID] = mark
			if t != nil {
				t.Mark = &mark
			}
			delete(s.sent, r.ID)
			delete(s.st.MachineWrites, r.ID) // its version is this device's now
			s.rep.Pushed++
			continue
		}
		if p == nil {
			// Sealed under an old epoch. If it is exactly the version this
			// device holds, this device seals its own copy again under the
			// current key (no content from the server is taken); anything
			// else waits for whoever holds it.
			if t != nil && t.Mark != nil && r.Version == mark.Base && mark.Theirs == nil && !t.Dirty() {
				mark.LocalHead = -1
				marks[r.ID] = mark
				t.Mark = &mark
			} else if t != nil && t.Mark != nil && mark.LocalHead == -1 && mark.Theirs == nil && r.Version > mark.Base {
				// A device sealing its copy again (a new epoch it began)
				// that cannot take in a newer old-epoch record goes on top
				// of it: else its re-seal would be refused as a conflict
				// at every push, and the team would never converge.
				mark.Base, mark.Seen = r.Version, max(mark.Seen, r.Version)
				marks[r.ID] = mark
				t.Mark = &mark
				s.rep.Superseded = append(s.rep.Superseded, s.name(r.ID))
			} else if carved[i] != "" {
				s.rep.Carved = append(s.rep.Carved, carved[i])
			} else if expired[i] != "" {
				s.rep.ByExpired++
				if !slices.Contains(s.rep.ExpiredMachines, expired[i]) {
					s.rep.ExpiredMachines = append(s.rep.ExpiredMachines, expired[i])
				}
			} else {
				s.rep.Skipped++
			}
			continue
		}
		if r.Version == mark.Base && mark.Theirs == nil {
			continue // what we pushed, or already have
		}
		// A record of the epoch before, taken in by the admin that began
		// this one: applied, then sealed again under the new key. Its
		// copy waiting to be sealed again is no change of its own, unless
		// it was edited after the epoch began.
		resealing := p.old && t != nil && t.Mark != nil && mark.LocalHead == -1 && mark.Theirs == nil && !s.editedSince(t, s.st.PrevKey.Began)
		if p.old {
			old[r.ID] = true
		}
		id, _ := hex.DecodeString(r.ID)
		if t != nil && t.Dirty() && !resealing && !t.Exists && !p.Deleted {
			s.rep.Unpurged = append(s.rep.Unpurged, p.Name)
		} else if t != nil && t.Dirty() && !resealing {
			local, err := s.localPayload(t)
			if err != nil {
				return err
			}
			same := samePayload(local, p)
			clear(local.Value)
			mark.Seen = r.Version
			if same {
				mark.Base, mark.LocalHead, mark.LocalDeleted, mark.Theirs = r.Version, t.Head, t.Deleted, nil
			} else {
				b, err := s.theirs(r)
				if err != nil {
					return err
				}
				mark.Theirs = b
			}
			marks[r.ID] = mark
			t.Mark = &mark
			continue
		}
		remotes = append(remotes, vault.Remote{ID: id, Deleted: p.Deleted, Name: p.Name, Meta: p.Meta, Value: p.Value,
			Mark: vault.SyncMark{Base: r.Version, Seen: r.Version}})
		remoteRecs = append(remoteRecs, r)
	}
	if len(marks) > 0 {
		if err := s.v.PutMarks(marks); err != nil {
			return err
		}
	}
	if len(remotes) == 0 {
		return nil
	}
	// Removals first: a name a teammate freed is then free for the
	// secret that takes it in the same page.
	order := make([]int, len(remotes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if remotes[a].Deleted == remotes[b].Deleted {
			return 0
		}
		if remotes[a].Deleted {
			return -1
		}
		return 1
	})
	sortedR, sortedRecs := make([]vault.Remote, len(remotes)), make([]*wire.Record, len(remotes))
	for i, j := range order {
		sortedR[i], sortedRecs[i] = remotes[j], remoteRecs[j]
	}
	remotes, remoteRecs = sortedR, sortedRecs
	applied, err := s.v.ApplyRemote(remotes)
	for i := range remotes {
		clear(remotes[i].Value)
	}
	if err != nil {
		return err
	}
	collisions := map[string]vault.SyncMark{}
	resealed := map[string]vault.SyncMark{}
	exposed := map[string]bool{}
	for i, a := range applied {
		if a.TakenBy != nil {
			// Two secrets with one name (made on two devices while apart):
			// the teammate's waits as a conflict on ours.
			owner := hex.EncodeToString(a.TakenBy)
			if _, ok := s.tracked[owner]; !ok {
				ts, err := s.v.TrackedByID([][]byte{a.TakenBy})
				if err != nil {
					return err
				}
				for i := range ts {
					s.tracked[owner] = &ts[i]
				}
			}
			var mark vault.SyncMark
			if t := s.tracked[owner]; t != nil && t.Mark != nil {
				mark = *t.Mark
			} else if t != nil {
				mark.LocalHead = -1 // never pushed: stays a local change
			}
			b, err := s.theirs(remoteRecs[i])
			if err != nil {
				return err
			}
			mark.Theirs = b
			collisions[owner] = mark
			continue
		}
		s.rep.Pulled++
		s.st.noteWriter(remoteRecs[i], remotes[i].Deleted)
		t := s.tracked[remoteRecs[i].ID]
		if t == nil {
			t = &vault.Tracked{ID: remotes[i].ID}
			s.tracked[remoteRecs[i].ID] = t
		}
		m := a.Mark
		if old[remoteRecs[i].ID] {
			// Sealed again under the current key at the next push; the
			// removed member (or demoted writer) held the key it was
			// written under.
			m.LocalHead = -1
			resealed[remoteRecs[i].ID] = m
			from := TakenIn{Name: remotes[i].Name, Device: remoteRecs[i].Author}
			if d := s.st.memberDevice(remoteRecs[i].Author); d != nil {
				from.Member, from.Device, from.Removed = d.Member, d.Name, !d.Active
			}
			s.rep.TakenIn = append(s.rep.TakenIn, from)
			if !remotes[i].Deleted {
				exposed[remotes[i].Name] = true
			}
		}
		t.Mark, t.Exists, t.Head, t.Deleted = &m, m.LocalHead > 0, m.LocalHead, m.LocalDeleted
	}
	if len(collisions) > 0 {
		if err := s.v.PutMarks(collisions); err != nil {
			return err
		}
		for owner, m := range collisions {
			if t := s.tracked[owner]; t != nil {
				m := m
				t.Mark = &m
			}
		}
	}
	if len(resealed) > 0 {
		if err := s.v.PutMarks(resealed); err != nil {
			return err
		}
		for id, m := range resealed {
			if t := s.tracked[id]; t != nil {
				m := m
				t.Mark = &m
			}
		}
		if len(exposed) > 0 && s.st.leftAtEpoch() {
			if _, err := s.v.MarkExposedWhere(func(name string) bool { return exposed[name] },
				"written under the team's previous key, which a member who has left holds", s.st.now()); err != nil {
				return err
			}
			s.rep.TakenInExposed = true
		}
	}
	return nil
}

// leftAtEpoch reports whether the current key epoch began with a removal
// (a remove entry right before its epoch entry, or in it): then a member
// who has left holds the previous key. An epoch a role change began (a
// promotion, a demotion) leaves nobody outside holding it (attack22:
// records taken in after a promotion were marked to rotate "since a
// member who left holds that key").
func (st *State) leftAtEpoch() bool {
	m := st.Members
	if m == nil {
		return true
	}
	for _, d := range m.Devices {
		if d.Removed > 0 && (d.Removed == m.EpochSeq || d.Removed == m.EpochSeq-1) {
			return true
		}
	}
	return false
}

// editedSince reports whether t's current local version was written after
// at (this device's clock): a change made here, not only a copy waiting
// to be sealed again.
func (s *syncer) editedSince(t *vault.Tracked, at time.Time) bool {
	if !t.Exists {
		return false
	}
	sec, err := s.v.ByID(t.ID)
	if err != nil {
		return true // unknown: treated as a change, kept as a conflict
	}
	clear(sec.Value)
	return sec.Updated.After(at)
}

// theirs is a teammate's record kept beside a local change (a conflict):
// it is opened again later (`hush get --theirs`, `hush resolve`) with
// every check, its own signature included, so a record whose signature
// was not checked here (vouched by its chain entry) is checked now.
func (s *syncer) theirs(r *wire.Record) ([]byte, error) {
	if s.vouched[r.ID] {
		if a, ok := s.st.Members.Devices[r.Author]; !ok || !verifyRecord(s.st, a.SignKey, r) {
			return nil, &BadRecordError{r.ID, "its signature does not check out"}
		}
	}
	return json.Marshal(r)
}

// push sends every local change that is not in conflict, in batches, each
// record compare-and-set on the version it was based on.
func (s *syncer) push(ctx context.Context) error {
	changed, err := s.v.Changed()
	if err != nil {
		return err
	}
	byID := map[string]*vault.Tracked{}
	var ids []string
	for i := range changed {
		t := &changed[i]
		if t.Dirty() && (t.Mark == nil || t.Mark.Theirs == nil) {
			id := hex.EncodeToString(t.ID)
			if s.movedAway[id] {
				continue // stays here: see unsentConflicts
			}
			byID[id] = t
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	// Each batch's records are sealed and signed (on every core), and on
	// the chain its entries signed on the head after the batch before
	// it, while the batch before it is on its way: the server's checks
	// and commit leave this device's cores free. Batches still go one
	// after the other, in order, and one the server does not take stops
	// the push as before (the next one, signed meanwhile, is dropped).
	// Only the signing runs beside the push: the vault is read and
	// written on this goroutine.
	var cur, sealing *pushBatchOf
	cur = &pushBatchOf{}
	defer func() {
		sealing.drop()
		cur.drop()
	}()
	// next starts sealing the full batch and sends the one before it.
	next := func() error {
		b := cur
		cur = &pushBatchOf{}
		b.seal(s, sealing)
		prev := sealing
		sealing = b
		if prev == nil {
			return nil
		}
		return s.sendBatch(ctx, prev)
	}
	stop := func(err error) error {
		if err == errStopPush {
			return nil // the server took nothing more: the chain sync pulls, then goes again
		}
		return err
	}
	writable := s.st.writableScope()
	// The live secrets' payloads are read a window at a time, in one
	// query, and opened on every core (vault.Replica.ByIDs).
	const window = 128
	var read map[string]*payload
	defer func() {
		for _, p := range read {
			clear(p.Value)
		}
	}()
	for w, id := range ids {
		if w%window == 0 {
			if read, err = s.livePayloads(ids[w:min(w+window, len(ids))], byID); err != nil {
				return err
			}
		}
		t := byID[id]
		p, ok := read[id]
		delete(read, id)
		if !ok {
			if p, err = s.localPayload(t); err != nil {
				return err
			}
		}
		if writable != nil && !writable(cmp.Or(p.Name, p.was)) {
			clear(p.Value)
			s.rep.OutOfScope++ // stays here: this device may not write its scope
			continue
		}
		n := len(p.Name) + len(p.Value) + 256
		if len(cur.ps) > 0 && (cur.size+n > 2<<20 || len(cur.ps) == wire.MaxPushRecords) {
			if err := next(); err != nil {
				clear(p.Value)
				return stop(err)
			}
		}
		cur.ps, cur.ts = append(cur.ps, p), append(cur.ts, t)
		cur.size += n
	}
	if len(cur.ps) > 0 {
		if err := next(); err != nil {
			return stop(err)
		}
	}
	if sealing != nil {
		b := sealing
		sealing = nil
		return stop(s.sendBatch(ctx, b))
	}
	return nil
}

// pushBatchOf is one batch of a push: the local changes, and their
// records once sealed.
type pushBatchOf struct {
	ps   []*payload
	ts   []*vault.Tracked
	size int
	recs []*wire.Record
	// signed: on the chain, its entries (chainBatchSigned).
	signed *chainSigned
	err    error
	done   chan struct{} // closed when sealed and signed; nil before seal
}

// seal seals and signs b's records in the background (b.done), then, on
// the chain, signs its entries on the head after the batch before it
// (after; nil for a push's first batch, which goes on the head now),
// once that one is signed.
func (b *pushBatchOf) seal(s *syncer, after *pushBatchOf) {
	st := s.st
	b.done = make(chan struct{})
	key := st.signer()
	at, heads := s.chainHead()
	heads = heads.Clone() // read here, not beside the push
	chain, now, unmarked, unlinked := s.chain, st.now(), s.t.unmarked, s.t.unlinked
	go func() {
		defer close(b.done)
		b.recs = make([]*wire.Record, len(b.ps))
		b.err = par.Do(len(b.ps), func(i int) (err error) {
			var base int64
			if b.ts[i].Mark != nil {
				base = b.ts[i].Mark.Base
			}
			b.recs[i], err = st.sealWith(hex.EncodeToString(b.ts[i].ID), base+1, b.ps[i], key)
			return err
		})
		if b.err != nil || !chain {
			return
		}
		if after != nil {
			<-after.done
			if after.signed == nil {
				return // signed when sent, if at all
			}
			at, heads = after.signed.cur, after.signed.heads
		}
		b.signed = s.signChain(at, heads, b.recs, now, unmarked, unlinked)
	}()
}

// drop waits for b's sealing, if begun, and wipes its values.
func (b *pushBatchOf) drop() {
	if b == nil {
		return
	}
	if b.done != nil {
		<-b.done
	}
	for _, p := range b.ps {
		clear(p.Value)
	}
	b.ps = nil
}

// sendBatch sends a sealed batch, once its sealing is done.
func (s *syncer) sendBatch(ctx context.Context, b *pushBatchOf) error {
	defer b.drop()
	<-b.done
	if b.err != nil {
		return b.err
	}
	if s.chain {
		return s.chainBatchSigned(ctx, b.signed, b.recs, b.ts)
	}
	return s.pushBatch(ctx, b.recs, b.ts)
}

func (s *syncer) pushBatch(ctx context.Context, recs []*wire.Record, ts []*vault.Tracked) error {
	req := wire.Push{Records: make([]wire.Record, len(recs))}
	for i, r := range recs {
		req.Records[i] = *r
	}
	s.st.LastWrite = s.st.now().UTC()
	var resp wire.PushResponse
	if err := s.c.do(ctx, "POST", "/v1/push", req, &resp); err != nil {
		return err
	}
	if len(resp.Results) != len(recs) {
		return errors.New("the team server answered a push with the wrong number of results")
	}
	if resp.Head < s.st.highest() {
		return &RollbackError{fmt.Sprintf("its newest change is %d, but this device has seen %d", resp.Head, s.st.highest())}
	}
	// Nothing in the answer moves the pull cursor or counts as seen: the
	// head and sequence numbers are the server's word, and believed they
	// would let it hide changes or lock this device out later.
	marks := map[string]vault.SyncMark{}
	for i, res := range resp.Results {
		r, t := recs[i], ts[i]
		if res.ID != r.ID {
			return errors.New("the team server answered a push out of order")
		}
		var mark vault.SyncMark
		if t.Mark != nil {
			mark = *t.Mark
		}
		switch res.Status {
		case wire.PushOK:
			// Not done yet: done when the record comes back (Sync pulls).
			if s.sent == nil {
				s.sent = map[string]sentRecord{}
			}
			s.sent[r.ID] = sentRecord{version: r.Version, hash: sha256.Sum256(r.Sealed), head: t.Head, deleted: t.Deleted || !t.Exists}
			continue
		case wire.PushConflict:
			cur := res.Current
			if cur == nil || cur.ID != r.ID {
				return errors.New("the team server reported a conflict without the current record")
			}
			if cur.Version < mark.Seen {
				return &RollbackError{fmt.Sprintf("it holds %s at version %d, but this device has seen version %d", s.name(r.ID), cur.Version, mark.Seen)}
			}
			p, err := s.st.open(cur)
			var stale *StaleRecordError
			if errors.As(err, &stale) {
				// Theirs is under an old epoch: an admin re-seals it; ours
				// waits until then.
				s.rep.Skipped++
				continue
			}
			if err != nil {
				return err
			}
			local, err := s.localPayload(t)
			if err != nil {
				return err
			}
			mark.Seen = cur.Version
			if samePayload(local, p) {
				mark.Base, mark.LocalHead, mark.LocalDeleted = cur.Version, t.Head, t.Deleted || !t.Exists
			} else {
				b, _ := json.Marshal(cur)
				mark.Theirs = b
			}
			clear(local.Value)
			clear(p.Value)
		case wire.PushStale:
			s.stale++
			continue
		default:
			return fmt.Errorf("the team server answered a push with status %q", res.Status)
		}
		marks[r.ID] = mark
		t.Mark = &mark
	}
	return s.v.PutMarks(marks)
}

// conflictOf finds the conflict on name: the local secret's bookkeeping
// and the teammate's record as received.
func conflictOf(v *vault.Vault, name string) (*vault.Tracked, *wire.Record, error) {
	cs, err := v.Conflicts()
	if err != nil {
		return nil, nil, err
	}
	var id []byte
	for hexID, n := range cs {
		if n == name {
			id, _ = hex.DecodeString(hexID)
		}
	}
	if id == nil {
		return nil, nil, fmt.Errorf("secret %s has no conflict to resolve", name)
	}
	ts, err := v.Replica().TrackedByID([][]byte{id})
	if err != nil {
		return nil, nil, err
	}
	if len(ts) == 0 || ts[0].Mark == nil || ts[0].Mark.Theirs == nil {
		return nil, nil, fmt.Errorf("secret %s has no conflict to resolve", name)
	}
	var theirs wire.Record
	if err := json.Unmarshal(ts[0].Mark.Theirs, &theirs); err != nil {
		return nil, nil, fmt.Errorf("the conflicting version of %s is unreadable: %w", name, err)
	}
	// A sync keeps as theirs the record it was sent at the version it
	// then saw: of this secret, never below what this device has seen
	// (a newer version replaces it, or settles it). The vault authenticates
	// the mark (format 6); this holds also for a vault not yet upgraded,
	// where a record planted from the server's database, an older
	// version revoked since, would otherwise be shown and taken as the
	// teammate's (outside attack attack25 #4). A record of another id is
	// a secret of the same name, made elsewhere (a collision).
	m := ts[0].Mark
	if theirs.ID == hex.EncodeToString(id) && theirs.Version < m.Seen {
		return nil, nil, &vault.TamperError{What: fmt.Sprintf("the conflicting version of %s kept here is version %d, but this device has seen version %d: it was put there outside hush, not by the team server; restore the vault from a backup",
			name, theirs.Version, m.Seen)}
	}
	return &ts[0], &theirs, nil
}

// Theirs is the teammate's side of a conflict, checked as any record is
// (against the membership this device verified) and opened.
type Theirs struct {
	Name    string // empty: they removed it
	Meta    vault.Meta
	Value   []byte
	Removed bool
	Author  string // device name
	Member  string
}

// Theirs opens the teammate's version of a secret in conflict.
func (t *Team) Theirs(name string) (*Theirs, error) {
	st := t.st
	_, theirs, err := conflictOf(t.v, name)
	if err != nil {
		return nil, err
	}
	p, err := st.open(theirs)
	if err != nil {
		return nil, err
	}
	out := &Theirs{Name: p.Name, Meta: p.Meta, Value: p.Value, Removed: p.Deleted}
	if d, ok := st.Members.Devices[theirs.Author]; ok {
		out.Author, out.Member = d.Name, d.Member
	}
	return out, nil
}

// Keep settles a conflict on the named secret.
type Keep int

const (
	KeepMine Keep = iota
	KeepTheirs
)

// Resolve settles the conflict on name: keep this device's state (pushed
// over theirs at the next sync) or the teammate's (applied here now).
func (tm *Team) Resolve(ctx context.Context, name string, keep Keep) error {
	st, v := tm.st, tm.v
	t, theirs, err := conflictOf(v, name)
	if err != nil {
		return err
	}
	hexID := hex.EncodeToString(t.ID)
	if _, err := tm.verifyLog(ctx); err != nil {
		return fmt.Errorf("resolving needs the team server, to check who wrote the other version: %w", err)
	}
	p, err := st.open(theirs)
	if err != nil {
		return err
	}
	defer clear(p.Value)
	mark := *t.Mark
	mark.Theirs = nil
	sameRecord := theirs.ID == hexID
	if keep == KeepTheirs && sameRecord {
		if err := st.checkKept(theirs, p.Deleted, name); err != nil {
			return err
		}
	}
	theirID, _ := hex.DecodeString(theirs.ID)
	if keep == KeepMine {
		marks := map[string]vault.SyncMark{}
		if sameRecord {
			mark.Base, mark.Seen = theirs.Version, max(mark.Seen, theirs.Version)
		} else {
			// Ours keeps the name; theirs is removed on the server.
			marks[theirs.ID] = vault.SyncMark{Base: theirs.Version, Seen: theirs.Version}
		}
		mark.LocalHead = -1 // pushed at the next sync
		marks[hexID] = mark
		return v.Replica().PutMarks(marks)
	}
	if !sameRecord {
		id, _ := hex.DecodeString(hexID)
		if err := v.Replica().PurgeID(id); err != nil {
			return err
		}
		if mark.Base == 0 {
			mark.LocalDeleted = true // never on the server: nothing to remove there
		} else {
			mark.LocalHead, mark.LocalDeleted = 0, false // removed on the server at the next sync
		}
		if err := v.Replica().PutMarks(map[string]vault.SyncMark{hexID: mark}); err != nil {
			return err
		}
		mark = vault.SyncMark{}
	}
	mark.Base, mark.Seen = theirs.Version, max(mark.Seen, theirs.Version)
	applied, err := v.Replica().ApplyRemote([]vault.Remote{{ID: theirID, Deleted: p.Deleted, Name: p.Name, Meta: p.Meta, Value: p.Value, Mark: mark}})
	if err != nil {
		return err
	}
	if applied[0].TakenBy != nil {
		return fmt.Errorf("their version of %s is named %s, and another secret here has that name: rename it (`hush mv`), then resolve again", name, p.Name)
	}
	if p.old {
		// Written under the epoch before (taken in by this admin): it goes
		// up again sealed under the current key.
		m := applied[0].Mark
		m.LocalHead = -1
		return v.Replica().PutMarks(map[string]vault.SyncMark{theirs.ID: m})
	}
	return nil
}

// Status is what `hush status` shows of sync. Its JSON is the "sync"
// object of `hush status --json`.
type Status struct {
	Approved  bool      `json:"approved"` // this device holds the team key
	Auto      bool      `json:"auto"`
	Conflicts []string  `json:"conflicts"`
	Device    string    `json:"device"`
	LastSync  time.Time `json:"-"` // zero: never synced
	Role      string    `json:"role"`
	Server    string    `json:"server"`
	Team      string    `json:"team"`
	Unpushed  int       `json:"unpushed"` // local changes not yet pushed
	Removed   bool      `json:"removed"`  // the server no longer knows this device
	// WritesScopes: a reader on the root who holds a writer grant on a
	// folder scope (her changes there are pushed, the others stay).
	WritesScopes bool `json:"writes_scopes,omitempty"`
	// NoScopes: the verified log shows this device approved, but holding
	// no scope any more (every scope it held was ungranted); approved and
	// holding a scope whose key has not come yet stays "not approved".
	NoScopes bool      `json:"no_scopes,omitempty"`
	Fresh    Freshness `json:"-"`
	// Warning is Fresh in words (empty: none), as `hush status` prints it.
	Warning string `json:"warning,omitempty"`
}

// ReadStatus reads the team's state for display, without the sync lock
// (status never waits for a sync): ErrNoTeam if v is not in a team.
func ReadStatus(v *vault.Vault) (*Status, error) {
	st, err := Load(v)
	if err != nil {
		return nil, err
	}
	s, err := status(v)
	if err != nil {
		return nil, err
	}
	s.Approved, s.Auto, s.Device, s.LastSync, s.Role, s.Server, s.Team = len(st.Keys) > 0 || len(st.ScopeKeys) > 0, st.Auto, st.Device.Name, st.LastSync, st.Role, st.Server, st.TeamName
	s.Removed = st.Removed
	if d := st.memberDevice(st.Device.ID); !s.Approved && d != nil && d.Active && len(st.Members.HeldScopes(d.ID)) == 0 {
		s.Approved, s.NoScopes = true, true
	}
	s.WritesScopes = !wire.CanWrite(st.Role) && st.WritesAny()
	s.Fresh = st.Freshness(time.Now())
	s.Warning = s.Fresh.Warning()
	return s, nil
}

// status counts local changes not yet pushed, and conflicts.
func status(v *vault.Vault) (*Status, error) {
	ts, err := v.Replica().Changed()
	if err != nil {
		return nil, err
	}
	s := &Status{Conflicts: []string{}}
	for i := range ts {
		if ts[i].Dirty() && (ts[i].Mark == nil || ts[i].Mark.Theirs == nil) {
			s.Unpushed++
		}
	}
	cs, err := v.Conflicts()
	if err != nil {
		return nil, err
	}
	for _, n := range cs {
		s.Conflicts = append(s.Conflicts, n)
	}
	slices.Sort(s.Conflicts)
	return s, nil
}

// memberDevice is the verified log's device with this id, or nil.
func (st *State) memberDevice(id string) *wire.LogDevice {
	if st.Members == nil {
		return nil
	}
	return st.Members.Devices[id]
}
