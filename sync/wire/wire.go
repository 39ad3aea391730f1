// Package wire owns hush's sync protocol on the wire: the request and
// response types the client and server exchange, how requests, records and
// wrapped keys are signed, and strict decoding with size limits. Everything
// here is ciphertext, public keys, ids and numbers: no type in this package
// has a field for a passphrase, a vault key, a plaintext name or value.
//
// docs/sync.md describes the protocol in prose.
package wire

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hush-secrets/hush/crypto"
)

// Version is the protocol version: the first path segment (/v1/...).
const Version = "v1"

// Request headers that authenticate a device.
const (
	HeaderDevice    = "Hush-Device"
	HeaderTime      = "Hush-Time"
	HeaderNonce     = "Hush-Nonce"
	HeaderSignature = "Hush-Signature"
)

// Limits the server enforces and the client respects.
const (
	MaxBody = 16 << 20 // bytes in one request body: one largest record, base64 in JSON
	// MaxSelfSignedBody bounds the bodies of the two requests a stranger
	// may send (creating a team, joining one): a device's public keys and
	// one membership log entry, a few KB.
	MaxSelfSignedBody = 64 << 10
	// MaxQueryBody bounds the body of a GET: none is needed.
	MaxQueryBody   = 4 << 10
	MaxRecord      = 9 << 20 // a sealed record: an 8 MiB value, its name and metadata, padded
	MaxPushRecords = 500
	MaxPullRecords = 1000
	ClockSkew      = 90 * time.Second // a request's time may be this far off
	// WatchHeartbeat: an idle watch stream (GET /v1/watch) carries a
	// heartbeat this often; a client that hears nothing for WatchSilence
	// takes the connection as dead and reconnects.
	WatchHeartbeat = 10 * time.Second
	WatchSilence   = 25 * time.Second
)

// Roles of a member.
const (
	RoleAdmin  = "admin"
	RoleWriter = "writer"
	RoleReader = "reader"
)

// ValidRole reports whether r is a role.
func ValidRole(r string) bool { return r == RoleAdmin || r == RoleWriter || r == RoleReader }

// CanWrite reports whether a role may push records.
func CanWrite(r string) bool { return r == RoleAdmin || r == RoleWriter }

// ValidID reports whether s is an id: 16 random bytes in lowercase hex
// (what ^[0-9a-f]{32}$ matches). A loop, not a regular expression: every
// hush command links this package, and a pattern compiled at init cost
// each of them.
func ValidID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// NewID returns a fresh random id.
func NewID() string {
	b, err := crypto.Random(16)
	if err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Device is one device's public identity.
type Device struct {
	ID      string `json:"id"`
	Name    string `json:"name"`     // laptop-2
	Member  string `json:"member"`   // the person: alice
	SignKey []byte `json:"sign_key"` // Ed25519 public key
	Box     string `json:"box"`      // age X25519 recipient (age1...)
}

// Check validates a device's fields.
func (d *Device) Check() error {
	switch {
	case !ValidID(d.ID):
		return errors.New("device id is not 32 hex digits")
	case !validLabel(d.Name):
		return errors.New("device name must be 1-64 printable characters")
	case !validLabel(d.Member):
		return errors.New("member name must be 1-64 printable characters")
	case len(d.SignKey) != ed25519.PublicKeySize:
		return errors.New("device signing key is not an Ed25519 public key")
	case len(d.Box) < 10 || len(d.Box) > 100 || d.Box[:4] != "age1":
		return errors.New("device box key is not an age X25519 recipient")
	}
	return nil
}

func validLabel(s string) bool {
	if len(s) == 0 || len(s) > 64 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) { // C0, DEL and C1: nothing for a terminal to act on
			return false
		}
	}
	return true
}

// CreateTeam is POST /v1/teams, signed by the new device's own key. Log
// is the membership log's first entry, signed by that device.
type CreateTeam struct {
	Team   string   `json:"team"`
	Name   string   `json:"name"`
	Device Device   `json:"device"`
	Log    LogEntry `json:"log"`
	// Chain: the team's changes are a signed chain from the start (sync
	// v2): the server refuses v1 pushes into it.
	Chain bool `json:"chain,omitempty"`
}

// Record is one sealed secret at one version, as the server keeps it.
type Record struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
	Epoch   int64  `json:"epoch"`
	Sealed  []byte `json:"sealed"`
	Author  string `json:"author"`  // device id
	LogSeq  int64  `json:"log_seq"` // the membership log position the author wrote at
	Sig     []byte `json:"sig"`     // Ed25519 by Author over RecordSigned
	Seq     int64  `json:"seq,omitempty"`
	// Scope is the id of the folder scope the record belongs to ("": the
	// root), whose key at Epoch seals it.
	Scope string `json:"scope,omitempty"`
}

// Check validates a record's shape (not its signature).
func (r *Record) Check() error {
	switch {
	case !ValidID(r.ID):
		return errors.New("record id is not 32 hex digits")
	case r.Version < 1:
		return fmt.Errorf("record %s: version %d is not positive", r.ID, r.Version)
	case r.Epoch < 1:
		return fmt.Errorf("record %s: epoch %d is not positive", r.ID, r.Epoch)
	case len(r.Sealed) == 0 || len(r.Sealed) > MaxRecord:
		return fmt.Errorf("record %s: sealed payload of %d bytes (1..%d)", r.ID, len(r.Sealed), MaxRecord)
	case len(r.Sig) != ed25519.SignatureSize:
		return fmt.Errorf("record %s: signature is not an Ed25519 signature", r.ID)
	case r.Scope != "" && !ValidID(r.Scope):
		return fmt.Errorf("record %s: its scope is not an id", r.ID)
	}
	return nil
}

// RecordSigned is what a record's author signs: the record's place (team,
// id, version, epoch, and its scope when it is not the root), its
// ciphertext and the author. A root record keeps the encoding it had
// before scopes.
func RecordSigned(team string, r *Record) []byte {
	h := sha256.Sum256(r.Sealed)
	if r.Scope != "" {
		return crypto.AD("hush/v1/record-signature", team, r.ID, r.Version, r.Epoch, h[:], r.Author, r.LogSeq, "scope", r.Scope)
	}
	return crypto.AD("hush/v1/record-signature", team, r.ID, r.Version, r.Epoch, h[:], r.Author, r.LogSeq)
}

// RecordAD is the associated data a root record's payload is sealed with.
func RecordAD(team, id string, version, epoch int64) []byte {
	return crypto.AD("hush/v1/record", team, id, version, epoch)
}

// ScopedRecordAD is the associated data a record of scope is sealed with:
// RecordAD for the root, and the scope id for any other, so that a
// ciphertext sealed for one scope does not open as another's.
func ScopedRecordAD(team, scope, id string, version, epoch int64) []byte {
	if scope == "" {
		return RecordAD(team, id, version, epoch)
	}
	return crypto.AD("hush/v1/record", team, id, version, epoch, "scope", scope)
}

// Push is POST /v1/push: each record's Version is the version it replaces
// plus one (1 for a new record). Each is compare-and-set on its own.
type Push struct {
	Records []Record `json:"records"`
}

// Push outcomes.
const (
	PushOK       = "ok"
	PushConflict = "conflict" // the server holds another version: Current
	// PushStale: the record's epoch or log position is not the team's
	// current one (a member left, a key rotated): sync again.
	PushStale = "stale"
)

// PushResult is one record's outcome, in the request's order.
type PushResult struct {
	ID      string  `json:"id"`
	Status  string  `json:"status"`
	Seq     int64   `json:"seq,omitempty"`
	Current *Record `json:"current,omitempty"`
}

// PushResponse answers a Push.
type PushResponse struct {
	Results []PushResult `json:"results"`
	Head    int64        `json:"head"`
}

// Changes answers GET /v1/changes?since=SEQ: records written after SEQ in
// sequence order, at most MaxPullRecords; More says to ask again from the
// last record's Seq. Head is the team's newest sequence number.
type Changes struct {
	Records []Record `json:"records"`
	Head    int64    `json:"head"`
	More    bool     `json:"more"`
}

// Invite is POST /v1/invites by an admin. The invite's secret stays with
// the admin's client and the joiner; the server sees only the id.
type Invite struct {
	ID      string    `json:"id"`
	Role    string    `json:"role"`
	Expires time.Time `json:"expires"`
}

// Join is POST /v1/join, signed by the joining device's own key. Binding
// is JoinBinding under the invite's secret: the admin's client checks it
// before it wraps a key, so the server cannot swap in keys of its own.
type Join struct {
	Team    string `json:"team"`
	Invite  string `json:"invite"`
	Device  Device `json:"device"`
	Binding []byte `json:"binding"`
}

// JoinBinding is the HMAC input binding a joiner's public keys and names to
// an invite.
func JoinBinding(team, invite string, d *Device) []byte {
	return crypto.AD("hush/v1/join", team, invite, d.ID, d.Name, d.Member, d.SignKey, d.Box)
}

// PendingJoin is a join waiting for an admin, from GET /v1/joins.
type PendingJoin struct {
	Join
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
}

// WrappedKey is a team key (or a folder scope's key: Scope) sealed to one
// device with age, signed by the admin device that wrapped it.
type WrappedKey struct {
	Device string `json:"device"`
	Scope  string `json:"scope,omitempty"` // "": the root's, the team key
	Epoch  int64  `json:"epoch"`
	Sealed []byte `json:"sealed"` // age ciphertext of KeyGrant JSON
	Signer string `json:"signer"`
	Sig    []byte `json:"sig"`
}

// WrappedKeySigned is what the wrapping admin signs. A scope's key signs
// its scope too; the root's keeps the encoding it had before scopes.
func WrappedKeySigned(team string, w *WrappedKey) []byte {
	h := sha256.Sum256(w.Sealed)
	if w.Scope != "" {
		return crypto.AD("hush/v1/wrapped-key", team, w.Device, w.Epoch, h[:], w.Signer, "scope", w.Scope)
	}
	return crypto.AD("hush/v1/wrapped-key", team, w.Device, w.Epoch, h[:], w.Signer)
}

// KeyGrant is the plaintext inside a WrappedKey: only the device holding
// the age identity reads it.
type KeyGrant struct {
	Team   string `json:"team"`
	Device string `json:"device"`
	Scope  string `json:"scope,omitempty"`
	Epoch  int64  `json:"epoch"`
	Key    []byte `json:"key"`
	// Names is the team's names key (scope ids, sealed folder names:
	// scope.go), in every grant once the team has one.
	Names []byte `json:"names,omitempty"`
}

// Approve is POST /v1/joins/approve by an admin: the log entry that adds
// the device, and the team key wrapped to it.
type Approve struct {
	Invite string     `json:"invite"`
	Device string     `json:"device"`
	Key    WrappedKey `json:"key"`
	Entry  LogEntry   `json:"entry"`
	// Keys: with folder scopes, the device gets the key of each scope it
	// holds (Membership.HeldScopes, in that order): Key is the first's,
	// Keys the others'.
	Keys []WrappedKey `json:"keys,omitempty"`
}

// Refuse is POST /v1/joins/refuse by an admin: the pending device is
// turned away (it can no longer authenticate).
type Refuse struct {
	Device string `json:"device"`
}

// AppendLog is POST /v1/log by an admin: a role change, a removal, a new
// key epoch with the new key wrapped to every remaining device, or a grant
// or ungrant with the scope's key wrapped to the devices that get it.
type AppendLog struct {
	Entry LogEntry     `json:"entry"`
	Keys  []WrappedKey `json:"keys,omitempty"`
}

// Keys answers GET /v1/keys: this device's newest wrapped key of each
// scope its member holds (the root's included, when it holds the root).
type Keys struct {
	Keys []WrappedKey `json:"keys"`
}

// Log answers GET /v1/log?since=SEQ: the entries after SEQ, in order, and
// the log's length.
type Log struct {
	Entries []LogEntry `json:"entries"`
	Head    int64      `json:"head"`
}

// AuditEvent is one line of the server's audit log, GET /v1/audit?since=UNIX.
type AuditEvent struct {
	Time    time.Time `json:"time"`
	Device  string    `json:"device"`
	Action  string    `json:"action"`
	Records []string  `json:"records,omitempty"`
	Result  string    `json:"result"`
}

// Member is one device of the team as GET /v1/members lists it.
type Member struct {
	Device
	Role     string    `json:"role"`
	State    string    `json:"state"` // pending, active, removed
	Joined   time.Time `json:"joined"`
	LastSeen time.Time `json:"last_seen"`
}

// Error is every non-2xx response body.
type Error struct {
	Error string `json:"error"`
}

// Decode reads exactly one JSON value into v, refusing unknown fields and
// trailing data.
func Decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("malformed request: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("malformed request: data after the JSON value")
	}
	return nil
}

// RequestSigned is what a device signs for one request.
func RequestSigned(method, path string, body []byte, unix int64, nonce, device string) []byte {
	h := sha256.Sum256(body)
	return crypto.AD("hush/v1/request", method, path, h[:], strconv.FormatInt(unix, 10), nonce, device)
}

// NonceValid reports whether s looks like a request nonce (16 random bytes
// in hex).
func NonceValid(s string) bool { return ValidID(s) }
