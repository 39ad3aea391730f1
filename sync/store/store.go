// Package store owns the team server's storage: teams, devices and their
// public keys, roles, invites, sealed records, wrapped keys, used request
// nonces and the server's audit log. One SQL implementation of [Store]
// (sql.go) runs on two databases, chosen by [Open]'s dsn: SQLite (a file
// path: one file, zero setup) and PostgreSQL (a postgres:// URL: any number
// of server processes on one database); what differs between them is a
// dialect, and each has its schema migrations under migrations/sqlite and
// migrations/postgres. Both pass the same conformance suite
// (sync/store/storetest).
//
// Nothing stored here is readable without a team key, which the server
// never has.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hush-secrets/hush/sync/wire"
)

// Errors every backend returns (wrapped or not) for the same situations.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrReplay   = errors.New("nonce already used")
	ErrState    = errors.New("not in a state that allows this")
	ErrConflict = errors.New("the membership log has moved on")
	// ErrChained: a v1 push into a team whose change chain has started.
	ErrChained = errors.New("this team's changes are signed in a chain (sync v2)")
	// ErrUnlinkedPush: a push without scope links into a team whose chain
	// already holds linked entries (a client from before links).
	ErrUnlinkedPush = errors.New("this team's change chain links each folder scope's entries, and this push does not")
)

// LinkError is a linked push refused for a scope link that is not the
// one the chain needs there (docs/sync.md, "Scope links"): Pos is the
// entry, Msg what it named and what was expected. Nothing of the push is
// stored.
type LinkError struct {
	Pos int64
	Msg string
}

func (e *LinkError) Error() string {
	return fmt.Sprintf("chain entry %d has a wrong scope link: %s", e.Pos, e.Msg)
}

// ChainAppend is a push that extends a team's change chain (POST
// /v2/push), checked by the server: Entries extend Prev one by one, and
// each record entry's record is in Records, in order. A base entry comes
// alone, with its snapshot.
type ChainAppend struct {
	Prev    wire.ChainCursor
	Entries []ChainStored
	Records []wire.Record
	// IsBase: Entries is one base entry, over the snapshot Base.
	IsBase bool
	Base   []wire.BaseItem
	// MayMove says whether the pushing device may write folder scope
	// from: a record whose stored version is of another scope than the
	// one pushed moves out of from, which only a writer of from may do
	// (else Refused is a *MoveError). Nil: every move is allowed.
	MayMove func(from string) bool
}

// MoveError refuses a push that would move a record out of a scope the
// device may not write (a writer of app/staging taking app/prod/DB by
// sealing its next version into app/staging).
type MoveError struct{ ID string }

func (e *MoveError) Error() string {
	return "record " + e.ID + " is in a folder scope this device may not write: it cannot be moved out of it, or written into another"
}

// ChainStored is one entry as stored: its position, its JSON and its
// hash, and what the store checks and indexes of it: its scope and scope
// link (docs/sync.md, "Scope links"). [Stored] fills it from an entry.
type ChainStored struct {
	Pos       int64
	JSON      []byte
	Hash      []byte
	Scope     string            // "": the root's (and a base entry's)
	ID        string            // the record's id ("": a base entry)
	ScopePrev *wire.ChainCursor // nil: an entry written before scope links
	ScopeLast int64
	// pushLast is the entry's push_last, known (pushLastSet) when Stored
	// made it from the decoded entry: the tail keeps it, so that a page
	// served from memory need not decode its last entry to find where
	// its push ends.
	pushLast    int64
	pushLastSet bool
}

// Stored is e as the store keeps it in team's chain.
func Stored(team string, e *wire.ChainEntry) (ChainStored, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return ChainStored{}, err
	}
	return ChainStored{Pos: e.Pos, JSON: b, Hash: e.Hash(team), Scope: e.Scope, ID: e.ID, ScopePrev: e.ScopePrev, ScopeLast: e.ScopeLast,
		pushLast: e.PushLast, pushLastSet: true}, nil
}

// RawPage is a page of the chain (ChainRaw) with each entry as the store
// keeps it: the JSON [Stored] made of the entry the device pushed, which
// is what json.Marshal gives of that entry decoded again (json.Marshal's
// output decodes and encodes to itself). The server sends those bytes as
// they are instead of decoding 50 entries to encode them again. Page is
// the rest of the page; its Entries are left nil.
type RawPage struct {
	Page    *wire.ChainPage
	Entries [][]byte
	// LogSeq is the length of the team's membership log when the page
	// was read (the same snapshot).
	LogSeq int64
	pos    []int64 // each entry's position
	// recJSON, when set, is each of Page.Records encoded (a page from
	// the tail, tail.go): written as they are while Page.Records still
	// holds those records.
	recJSON  [][]byte
	fromTail bool
}

// Decoded is the page with its entries decoded (Page's other fields are
// shared, not copied).
func (r *RawPage) Decoded() (*wire.ChainPage, error) {
	p := *r.Page
	p.Entries = make([]wire.ChainEntry, len(r.Entries))
	for i, b := range r.Entries {
		if err := json.Unmarshal(b, &p.Entries[i]); err != nil {
			return nil, fmt.Errorf("store: chain entry %d unreadable: %w", r.pos[i], err)
		}
	}
	return &p, nil
}

// AppendJSON appends to b what json.Marshal gives of the decoded page
// (r.Decoded()), without decoding the entries: they are written as
// stored, and the rest of the page encoded as json.Marshal encodes it.
func (r *RawPage) AppendJSON(b []byte) ([]byte, error) {
	p := r.Page
	// Room for the entries and records as they are (and the newline the
	// server adds), so that the page is not copied as it grows.
	n := 256
	for _, e := range r.Entries {
		n += len(e) + 1
	}
	for _, j := range r.recJSON {
		n += len(j) + 1
	}
	b = slices.Grow(b, n)
	part := func(key string, v any) error {
		j, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b = append(b, key...)
		b = append(b, j...)
		return nil
	}
	if r.Entries == nil {
		b = append(b, `{"entries":null`...)
	} else {
		b = append(b, `{"entries":[`...)
		for i, e := range r.Entries {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, e...)
		}
		b = append(b, ']')
	}
	if r.sameRecords() {
		b = append(b, `,"records":[`...)
		for i, j := range r.recJSON {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, j...)
		}
		b = append(b, ']')
	} else if err := part(`,"records":`, p.Records); err != nil {
		return nil, err
	}
	if len(p.Base) > 0 {
		if err := part(`,"base":`, p.Base); err != nil {
			return nil, err
		}
	}
	if err := part(`,"head":`, p.Head); err != nil {
		return nil, err
	}
	b = strconv.AppendBool(append(b, `,"more":`...), p.More)
	b = strconv.AppendBool(append(b, `,"started":`...), p.Started)
	if len(p.Moved) > 0 {
		if err := part(`,"moved":`, p.Moved); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// sameRecords: recJSON encodes Page.Records as they are now (the server
// may have left some out: those of scopes the device does not hold).
func (r *RawPage) sameRecords() bool {
	rs := r.Page.Records
	if r.recJSON == nil || rs == nil || len(rs) != len(r.recJSON) {
		return false
	}
	// Each encoded record starts with its id (wire.Record's first field).
	const open = `{"id":"`
	for i := range rs {
		j, id := r.recJSON[i], rs[i].ID
		if len(j) < len(open)+len(id)+1 || string(j[:len(open)]) != open || string(j[len(open):len(open)+len(id)]) != id || j[len(open)+len(id)] != '"' {
			return false
		}
	}
	return true
}

// ChainResult is what ChainPush did: Status is wire.PushOK,
// wire.ChainBehind, wire.PushConflict (Conflicts), wire.PushStale or
// wire.ChainUnstarted; Head is the chain's head after it, and Seq the
// team's sequence number (what watch streams announce).
type ChainResult struct {
	Status    string
	Head      wire.ChainCursor
	Conflicts []string
	Seq       int64
	// Refused, when set, is why a push was refused whole at the head (the
	// compare-and-set passed; Status is empty): a *LinkError, or
	// ErrUnlinkedPush. A client's fault, not the chain moving on: signing
	// again on a new head would not help.
	Refused error
}

// Entry is a membership log entry to append: its number and its JSON.
type Entry struct {
	Seq  int64
	JSON []byte
}

// Change is what a membership log entry does to the server's view of the
// team, applied in the same transaction as the entry.
type Change struct {
	Member, Role string            // every active device of Member takes Role
	Remove       []string          // these devices are removed
	Epoch        int64             // the team's new key epoch (the root's)
	Keys         []wire.WrappedKey // the new epoch's key (or a scope's), wrapped to each device that gets it
}

// Device states.
const (
	Pending = "pending" // joined, waiting for an admin
	Active  = "active"
	Removed = "removed"
)

// Device is a registered device with its team, role and state.
type Device struct {
	wire.Device
	Team     string
	Role     string
	State    string
	Invite   string // the invite it joined with; empty for the creator
	Binding  []byte
	Joined   time.Time
	LastSeen time.Time
}

// Invite as stored: single use, until Expires.
type Invite struct {
	ID      string
	Team    string
	Role    string
	Expires time.Time
	By      string // admin device id
	Used    bool
}

// Event is one line of the server's audit log.
type Event struct {
	Time    time.Time
	Team    string
	Device  string
	Action  string   // push, pull, invite, join, approve, create, key
	Records []string // record ids
	Result  string   // ok, conflict, denied, ...
}

// Store is the server's storage. Every method is safe for concurrent use by
// many goroutines and, for PostgreSQL, many processes.
type Store interface {
	// CreateTeam stores a team, its first device (an active admin) and the
	// membership log's first entry (genesis, may be nil in tests).
	// ErrExists if the team or the device id exists.
	CreateTeam(ctx context.Context, team, name string, creator wire.Device, genesis []byte, now time.Time) error
	// Team returns a team's current key epoch and membership log length.
	Team(ctx context.Context, team string) (epoch, logSeq int64, err error)
	// Log returns the membership log entries after since, in order, and
	// the log's length.
	Log(ctx context.Context, team string, since int64) (entries [][]byte, head int64, err error)
	// AppendLog appends entry as number seq (ErrConflict unless it is the
	// next) and applies what it changes, in one transaction.
	AppendLog(ctx context.Context, team string, seq int64, entry []byte, c Change) error
	// Device returns a device by id; ErrNotFound if none.
	Device(ctx context.Context, id string) (*Device, error)
	// Seen records that a device made a request at now.
	Seen(ctx context.Context, device string, now time.Time) error
	// UseNonce records a request nonce of a device; ErrReplay if it was
	// used before. Nonces older than before may be forgotten.
	UseNonce(ctx context.Context, device, nonce string, now, before time.Time) error

	// Push applies each record as a compare-and-set on its version
	// (Version-1 must be the stored version, 0 meaning absent), each on its
	// own, in one transaction, and gives each applied record the team's
	// next sequence number. A record whose Epoch or LogSeq is not the
	// team's current one gets status stale; one whose version does not
	// follow the stored one gets status conflict and the stored record.
	// ErrChained if the team's changes are a chain.
	Push(ctx context.Context, team string, records []wire.Record) (results []wire.PushResult, head int64, err error)
	// ChainPush appends a push to the team's change chain, all or
	// nothing, in the team's push order (the same lock and group commit
	// as Push): only if Prev is the chain's head, each record's version
	// follows the stored one, and its epoch and log position are the
	// team's current ones. A base entry is taken only as entry 1, and
	// only if its snapshot is exactly the records stored. A linked push
	// (docs/sync.md, "Scope links") is taken only if each entry links to
	// the last entry of its scope before it and names the last of its
	// scope in the push (else Refused is a *LinkError); an unlinked one
	// not at all once the chain holds a linked entry (ErrUnlinkedPush).
	ChainPush(ctx context.Context, team string, a *ChainAppend) (*ChainResult, error)
	// Chain returns up to limit entries after pos, and for each record an
	// entry in them wrote last, the record; with the base entry, its
	// snapshot.
	Chain(ctx context.Context, team string, after int64, limit int) (*wire.ChainPage, error)
	// ChainOmitting is Chain without the records author wrote at
	// positions from on: the device that pushed them asks, since it holds
	// them (their entries are what it signed).
	ChainOmitting(ctx context.Context, team string, after int64, limit int, author string, from int64) (*wire.ChainPage, error)
	// ChainRaw is ChainOmitting with each entry as stored, not decoded
	// (RawPage), and the membership log's length in the same snapshot:
	// what the server sends as it is.
	ChainRaw(ctx context.Context, team string, after int64, limit int, author string, from int64) (*RawPage, error)
	// ChainScoped is ChainOmitting restricted to the entries of scopes
	// (scope ids, "" the root's, base entry included): up to limit of
	// them after pos, in position order, and on to the end of a push in
	// which one of those scopes' part is not whole at the page's end; the
	// records they wrote last; More if an entry of those scopes follows.
	// Head is the whole chain's. With movedSince > 0 (a device that read
	// its scopes up to there before, on its first page after) Moved also
	// holds, for each record whose last entry of those scopes is at or
	// before movedSince and whose newest entry is of a scope not among
	// them, the entry that took it out (the next after that last one), if
	// it is after movedSince: a device that keeps what it read (a running
	// agent) learns that a record left its scopes.
	ChainScoped(ctx context.Context, team string, after int64, limit int, scopes []string, author string, from int64, movedSince int64) (*wire.ChainPage, error)
	// CreateChainedTeam is CreateTeam for a team whose changes are a chain
	// from the start (v1 pushes refused).
	CreateChainedTeam(ctx context.Context, team, name string, creator wire.Device, genesis []byte, now time.Time) error

	// Changes returns up to limit records with Seq > since in Seq order,
	// the team's head, and whether more follow.
	Changes(ctx context.Context, team string, since int64, limit int) (*wire.Changes, error)
	// ChangesWithLog is Changes and the length of the team's membership
	// log, read at one moment: the server checks what a pull may see
	// against the log as it was when the records were read, without
	// asking again.
	ChangesWithLog(ctx context.Context, team string, since int64, limit int) (c *wire.Changes, logSeq int64, err error)

	// CreateInvite stores an invite.
	CreateInvite(ctx context.Context, inv Invite) error
	// Join uses an unexpired, unused invite of team to add a pending device
	// with the invite's role. ErrNotFound for an unknown, used or expired
	// invite (one answer: a stranger learns nothing).
	Join(ctx context.Context, team, invite string, d wire.Device, binding []byte, now time.Time) error
	// PendingJoins lists the team's pending devices.
	PendingJoins(ctx context.Context, team string) ([]Device, error)
	// Approve makes a pending device active and stores its wrapped key, in
	// one transaction, with the log entry that adds it (nil in tests).
	// ErrState if the device is not pending; ErrConflict if the entry is
	// not the log's next.
	Approve(ctx context.Context, team, device string, key wire.WrappedKey, entry *Entry) error
	// RefuseJoin removes a pending device (an admin turned its join down).
	// ErrState if the device is not pending in team.
	RefuseJoin(ctx context.Context, team, device string) error
	// WrappedKey returns the newest wrapped key of a device for the root
	// scope (the team key).
	WrappedKey(ctx context.Context, device string) (*wire.WrappedKey, error)
	// WrappedKeys returns the newest wrapped key of a device for each
	// scope it has keys of, the root's ("") first.
	WrappedKeys(ctx context.Context, device string) ([]wire.WrappedKey, error)
	// PutWrappedKey stores a wrapped key for an active device (the
	// creator's own, or a later epoch).
	PutWrappedKey(ctx context.Context, team string, key wire.WrappedKey) error
	// Devices lists every device of the team, in join order.
	Devices(ctx context.Context, team string) ([]Device, error)

	// Audit appends events to the audit log in one transaction; Events
	// reads it back, oldest first.
	Audit(ctx context.Context, events ...Event) error
	Events(ctx context.Context, team string, since time.Time) ([]Event, error)

	Close() error
}
