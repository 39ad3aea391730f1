package client

import (
	"context"
	"errors"
	"time"

	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// Team is this device's team state, owned for the length of one command.
//
// [Open] takes the vault's sync lock (another hush process on the same
// vault waits for it), loads the state once, and every method works on
// that one copy: nothing is reloaded, nothing merged, because nobody else
// can change it meanwhile. The membership log is fetched and verified once
// per Team (a sync fetches it again, since that is what a sync is for).
// The state is written when a method has changed it, once at its end, and
// a sync checkpoints its pull cursor once per page so that an interrupted
// first sync resumes. [Team.Close] releases the lock.
type Team struct {
	v        *vault.Vault
	st       *State
	c        *conn
	unlock   func()
	verified bool // the membership log was verified by this Team
	// owed: the server has taken a change made here (an approval, a spent
	// invitation) that the state does not hold yet: written even when the
	// method then fails.
	owed   bool
	writes int // state writes, for tests
	// legacy: sync with v1 only, as a hush before the change chain did
	// (tests of v1 teams, and of their migration).
	legacy bool
	// unmarked: push chain entries without push marks, as a hush before
	// them did (tests of chains written before them).
	unmarked bool
	// unlinked: push chain entries without scope links, as a hush before
	// them did (tests of chains written before them).
	unlinked bool
	// token: the team of a machine token, in memory (OpenToken). Its
	// reads fetch only its scopes' entries when it holds some and not
	// every one (wire.ScopedPull); scoped is where those reads are, and
	// scopedHeld the scopes they were of.
	token      bool
	scoped     *wire.ScopedPull
	scopedHeld string
	scopedOf   map[string]scopedAt // record id: the scope of its newest entry read
	// scopedSuspect: records not served, whose newest entry read came
	// through a move by a device that could not write the scope it left.
	scopedSuspect map[string]suspectMove
	// scopedGone: records a read stopped serving, each with the hash of
	// the verified entry that took it out of the scopes: a server sends
	// that move again until an entry of the scopes follows it.
	scopedGone map[string][]byte
}

// ErrMemoryTeam: a vault in memory (a machine token's) is owned by the
// Team that OpenToken made for it; nothing else opens its team.
var ErrMemoryTeam = errors.New("this command does not work with a machine token yet")

// Open takes the sync lock of v (waiting up to 30 s for another hush
// process to finish, or until ctx ends) and loads its team state:
// ErrNoTeam if v is not shared with a team.
func Open(ctx context.Context, v *vault.Vault) (*Team, error) {
	if !InTeam(v) {
		return nil, ErrNoTeam
	}
	if v.Memory() {
		// A machine token's vault (OpenToken) has no file to lock beside.
		return nil, ErrMemoryTeam
	}
	unlock, err := lockSync(ctx, v.Path())
	if err != nil {
		return nil, err
	}
	st, err := Load(v)
	if err != nil {
		unlock()
		return nil, err
	}
	return &Team{v: v, st: st, unlock: unlock}, nil
}

// Close releases the sync lock. What the methods changed is already
// written.
func (t *Team) Close() {
	if t.unlock != nil {
		t.unlock()
		t.unlock = nil
	}
}

// State is the team state as this Team holds it. Read it only: changes go
// through the methods.
func (t *Team) State() *State { return t.st }

// SetClock makes the Team read time from now (tests move it).
func (t *Team) SetClock(now func() time.Time) { t.st.clock = now }

// SetFreshWindow sets how long this device may push without seeing
// anything new from the team before it warns (0: the default), and writes
// it at once.
func (t *Team) SetFreshWindow(d time.Duration) error {
	t.st.FreshWindow = d
	return t.save()
}

// SetAuto turns automatic sync on or off, and writes it at once.
func (t *Team) SetAuto(on bool) error {
	t.st.Auto = on
	return t.save()
}

func (t *Team) save() error {
	t.writes++
	t.owed = false
	t.st.prunePurged(t.v) // the names of purges the team has taken go
	return t.st.save(t.v)
}

func (t *Team) conn() (*conn, error) {
	if t.c == nil {
		c, err := t.st.conn()
		if err != nil {
			return nil, err
		}
		t.c = c
	}
	return t.c, nil
}

// verifyLog fetches and verifies the membership log, once per Team.
func (t *Team) verifyLog(ctx context.Context) (*conn, error) {
	c, err := t.conn()
	if err != nil {
		return nil, err
	}
	if t.verified {
		return c, nil
	}
	if err := t.st.syncLog(ctx, c); err != nil {
		return nil, err
	}
	t.verified = true
	return c, nil
}
