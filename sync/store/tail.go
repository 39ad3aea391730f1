package store

import (
	"encoding/json"
	"sync"

	"github.com/hush-secrets/hush/sync/wire"
)

// The chain's tail in memory: for each team, the entries its recent
// pushes added and the records they wrote, kept by the committer once the
// transaction that wrote them has committed (durably: the same commit a
// push's answer waits for). A whole-chain pull (ChainRaw) whose cursor is
// within the tail is served from it instead of reading ~50 entry rows and
// ~50 record rows again: in WAL mode, each SQLite read connection drops its
// page cache whenever another connection wrote, so under pushes every pull
// read its pages back through the kernel.
//
// A page is served from the tail only when the head the pull's own read
// transaction sees (pageStart) is the tail's head, position and hash: the
// tail holds every entry from its start to that head, and, since in a
// chained team only chain pushes write records, each record whose newest
// entry is in it, as that entry wrote it. The page is then exactly what
// the SQL of ChainRaw reads in that transaction (TestChainTail compares
// them, on SQLite and PostgreSQL). A head the tail has not seen (another
// server process's push on a shared PostgreSQL, or a push whose commit
// the committer has not noted yet) or a cursor before the tail's start
// sends the pull to SQL. What a device may see of the page (its scopes)
// is decided after the store, for either path alike.

// tailEntries bounds one team's tail: a pull further behind (a first
// pull, a device back after a long time) reads from SQL.
const tailEntries = 1024

// tailBytes bounds all tails together (entries' JSON and records' sealed
// and encoded bytes, roughly); past it, the team whose tail grew least
// recently loses its tail. (A variable: a test makes it small.)
var tailBytes = 64 << 20

// tails is the store's chain tails, by team.
type tails struct {
	mu    sync.Mutex
	teams map[string]*chainTail
	bytes int
	tick  uint64
}

// chainTail is one team's tail: the entries at positions start+1 to
// head.Pos, in order.
type chainTail struct {
	start   int64
	head    wire.ChainCursor
	entries []tailEntry
	// newest is the position of each record's newest entry in the tail.
	newest map[string]int64
	bytes  int
	tick   uint64 // when it last grew
}

// tailEntry is an entry as stored and the record it wrote (nil once a
// later entry of the tail wrote the record again, and for a base entry).
type tailEntry struct {
	json    []byte
	id      string // the record the entry wrote ("": a base entry)
	rec     *wire.Record
	recJSON []byte // rec encoded, once a page needed it
	// pushLast is the entry's push_last (-1: not known yet; decoded from
	// json when a page ends at the entry).
	pushLast int64
}

func (e *tailEntry) size() int {
	n := len(e.json) + len(e.recJSON) + 64
	if e.rec != nil {
		n += len(e.rec.Sealed) + len(e.rec.Sig) + 256
	}
	return n
}

// committed notes a chain push that committed: entries after prev,
// writing recs (one per entry; none for a base entry). A push that does
// not follow the tail's head starts the team's tail again at prev.
func (t *tails) committed(team string, prev wire.ChainCursor, a *ChainAppend, head wire.ChainCursor) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.teams == nil {
		t.teams = map[string]*chainTail{}
	}
	ct := t.teams[team]
	if ct == nil || !ct.head.Equal(prev) || a.IsBase {
		if ct != nil {
			t.bytes -= ct.bytes
		}
		ct = &chainTail{start: prev.Pos, head: prev, newest: map[string]int64{}}
		t.teams[team] = ct
		if a.IsBase {
			// The base wrote every record at position 1: the tail starts
			// after it, and a page after 0 is read from SQL.
			ct.start, ct.head = a.Entries[0].Pos, head
			return
		}
	}
	t.tick++
	ct.tick = t.tick
	for i := range a.Entries {
		r := a.Records[i] // the record as stored (Seq is never sent on the chain)
		r.Seq = 0
		e := tailEntry{json: a.Entries[i].JSON, id: r.ID, rec: &r, pushLast: -1}
		if a.Entries[i].pushLastSet {
			e.pushLast = a.Entries[i].pushLast
		}
		pos := a.Entries[i].Pos
		if old, ok := ct.newest[r.ID]; ok && old > ct.start && old <= ct.head.Pos {
			oe := &ct.entries[old-ct.start-1]
			ct.bytes -= oe.size()
			t.bytes -= oe.size()
			oe.rec, oe.recJSON = nil, nil
			ct.bytes += oe.size()
			t.bytes += oe.size()
		}
		ct.newest[r.ID] = pos
		ct.entries = append(ct.entries, e)
		ct.bytes += e.size()
		t.bytes += e.size()
	}
	ct.head = head
	t.fit(ct)
}

// install keeps a page read from SQL that reaches its head, with every
// record it names and no base snapshot (ids: the record each entry
// wrote), as the team's tail from after on, unless the team has one whose
// head is further, or at the same head from as early. So a server started
// since the team's last push, or one whose tail another server process's
// push left behind (a shared PostgreSQL), serves pulls from memory from
// the next pull on. A push the committer notes after that read follows it
// (on its head), or starts a tail of its own.
func (t *tails) install(team string, rp *RawPage, after int64, ids []string) {
	if int64(len(rp.Entries)) != rp.Page.Head.Pos-after || len(ids) != len(rp.Entries) {
		return // not every entry from after to the head
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.teams == nil {
		t.teams = map[string]*chainTail{}
	}
	// Both are committed states of one chain that only grows: the one
	// with the later head is the newer; at the same head, the page
	// holds all the tail does and more.
	if old := t.teams[team]; old != nil {
		if old.head.Pos > rp.Page.Head.Pos || (old.head.Equal(rp.Page.Head) && old.start <= after) || (old.head.Pos == rp.Page.Head.Pos && !old.head.Equal(rp.Page.Head)) {
			return
		}
		t.bytes -= old.bytes
	}
	ct := &chainTail{start: after, head: rp.Page.Head, newest: map[string]int64{}, entries: make([]tailEntry, len(rp.Entries))}
	last := map[string]int64{} // each record's newest entry in the page
	for i, id := range ids {
		if id != "" {
			last[id] = after + 1 + int64(i)
		}
	}
	recs := map[string]*wire.Record{}
	for i := range rp.Page.Records {
		recs[rp.Page.Records[i].ID] = &rp.Page.Records[i]
	}
	for i, b := range rp.Entries {
		e := tailEntry{json: b, id: ids[i], pushLast: -1}
		if pos := after + 1 + int64(i); e.id != "" && last[e.id] == pos && recs[e.id] != nil {
			r := *recs[e.id]
			e.rec = &r
			ct.newest[e.id] = pos
		}
		ct.entries[i] = e
		ct.bytes += e.size()
	}
	t.teams[team] = ct
	t.bytes += ct.bytes
	t.tick++
	ct.tick = t.tick
	t.fit(ct)
}

// fit trims ct to its bound, and drops whole tails while all of them
// are over theirs.
func (t *tails) fit(ct *chainTail) {
	for len(ct.entries) > tailEntries {
		ct.dropFirst(t)
	}
	for t.bytes > tailBytes && len(t.teams) > 0 {
		// The tail that grew least recently goes whole.
		var oldest string
		for id, c := range t.teams {
			if oldest == "" || c.tick < t.teams[oldest].tick {
				oldest = id
			}
		}
		t.bytes -= t.teams[oldest].bytes
		delete(t.teams, oldest)
	}
}

// dropFirst moves the tail's start past its first entry.
func (ct *chainTail) dropFirst(t *tails) {
	e := &ct.entries[0]
	if e.id != "" && ct.newest[e.id] == ct.start+1 {
		delete(ct.newest, e.id)
	}
	ct.bytes -= e.size()
	t.bytes -= e.size()
	ct.entries[0] = tailEntry{}
	ct.entries = ct.entries[1:]
	ct.start++
}

// page fills rp (whose Page came from pageStart: head and started) from
// team's tail, as ChainRaw reads it from SQL: the entries after after,
// at most limit of them and on to the end of the push the last one is
// in, and the records whose newest entry is among them, but for those
// author wrote at positions from on. It reports false, and fills
// nothing, unless the tail holds that page at exactly rp's head.
func (t *tails) page(team string, rp *RawPage, after int64, limit int, author string, from int64) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ct := t.teams[team]
	head := rp.Page.Head
	if ct == nil || !ct.head.Equal(head) || after < ct.start || after > head.Pos || limit < 1 || int64(len(ct.entries)) != ct.head.Pos-ct.start {
		return false, nil
	}
	rp.fromTail = true
	if after == head.Pos {
		return true, nil
	}
	at := func(pos int64) *tailEntry { return &ct.entries[pos-ct.start-1] }
	last := min(after+int64(limit), head.Pos)
	le := at(last)
	if le.pushLast < 0 {
		var tail struct {
			PushLast int64 `json:"push_last"`
		}
		if err := json.Unmarshal(le.json, &tail); err != nil {
			rp.fromTail = false
			return false, nil // SQL says what is wrong with it
		}
		le.pushLast = tail.PushLast
	}
	if le.pushLast > last {
		last = min(le.pushLast, last+wire.MaxPushRecords-1, head.Pos)
	}
	n := int(last - after)
	rp.Entries, rp.pos = make([][]byte, 0, n), make([]int64, 0, n)
	rp.Page.Records, rp.recJSON = make([]wire.Record, 0, n), make([][]byte, 0, n)
	for pos := after + 1; pos <= last; pos++ {
		rp.Entries = append(rp.Entries, at(pos).json)
		rp.pos = append(rp.pos, pos)
	}
	rp.Page.More = last < head.Pos
	for pos := after + 1; pos <= last; pos++ {
		e := at(pos)
		if e.rec == nil || ct.newest[e.rec.ID] != pos || (e.rec.Author == author && pos >= from) {
			continue
		}
		if e.recJSON == nil {
			b, err := json.Marshal(e.rec)
			if err != nil {
				return false, err
			}
			e.recJSON = b
			ct.bytes += len(b)
			t.bytes += len(b)
		}
		rp.Page.Records = append(rp.Page.Records, *e.rec)
		rp.recJSON = append(rp.recJSON, e.recJSON)
	}
	return true, nil
}
