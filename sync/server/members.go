package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/hush-secrets/hush/sync/wire"
)

// The server replays each team's signed membership log to know who holds
// what (roles, scopes, machines). Replaying it whole on every request
// checked one Ed25519 signature per entry: a team of 50 devices has a log
// of 50 entries and more, and that replay was four fifths of the server's
// CPU (docs/benchmarks.md "The team server at 50 devices"). So each
// team's verified membership is kept, and a request reads only the log's
// entries after the one it was verified up to (in one query, which also
// reads the head): nothing new, and the kept state answers; new entries
// are verified onto a copy of it, as a client does (each must chain to
// the kept head and be signed by an admin at its point), and the copy is
// kept instead. A log shorter than what was kept (a database restored from
// a backup) is replayed from its start. A pull reads the log's length in
// the same snapshot as its records, and a push's records name the log
// position they were written at (the store takes them only if the log is
// still there when it commits): when that is the kept state, it answers
// without a query (membershipAt). Every server process on a shared
// PostgreSQL reads the head each time, so none answers from a log another
// has moved past.

// memberships is the verified membership of each team this process has
// served, up to some log entry. A kept *wire.Membership is never changed:
// readers share it, and a request that applies an entry to it (approve,
// appendLog) takes a Clone.
type memberships struct {
	mu    sync.Mutex
	teams map[string]*wire.Membership
}

// maxKeptTeams bounds the memberships kept (a few KiB each for a team of
// dozens of devices); past it they are forgotten, and replayed again.
const maxKeptTeams = 10000

func (c *memberships) get(team string) *wire.Membership {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.teams[team]
}

// keep keeps m unless a newer state of its team is kept already.
func (c *memberships) keep(m *wire.Membership) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.teams == nil || len(c.teams) >= maxKeptTeams {
		c.teams = map[string]*wire.Membership{}
	}
	if cur := c.teams[m.Team]; cur == nil || cur.Seq < m.Seq {
		c.teams[m.Team] = m
	}
}

// membership is the team's membership as its stored log leads to now,
// verified. The server applies the same rules as the clients, so it never
// stores an entry a client would refuse. The result is shared: read it,
// never change it (see membershipToChange).
func (s *Server) membership(w http.ResponseWriter, r *http.Request, team string) (*wire.Membership, bool) {
	m, err := s.verifiedMembership(r.Context(), team)
	if err != nil {
		s.internal(w, r, err)
		return nil, false
	}
	return m, true
}

// membershipAt is membership, when the caller knows the log's length
// from a read it made in this request (the same snapshot as the records
// it answers with, or the log position the records it takes were written
// at): if that is what is kept, it is the answer without a query.
func (s *Server) membershipAt(w http.ResponseWriter, r *http.Request, team string, logSeq int64) (*wire.Membership, bool) {
	if kept := s.verified.get(team); kept != nil && kept.Seq == logSeq {
		return kept, true
	}
	return s.membership(w, r, team)
}

// membershipToChange is membership as a copy of the caller's own, to
// apply an entry to.
func (s *Server) membershipToChange(w http.ResponseWriter, r *http.Request, team string) (*wire.Membership, bool) {
	m, ok := s.membership(w, r, team)
	if !ok {
		return nil, false
	}
	return m.Clone(), true
}

func (s *Server) verifiedMembership(ctx context.Context, team string) (*wire.Membership, error) {
	kept := s.verified.get(team)
	var since int64
	if kept != nil {
		since = kept.Seq
	}
	entries, head, err := s.st.Log(ctx, team, since)
	if err != nil {
		return nil, err
	}
	var m *wire.Membership
	switch {
	case kept != nil && head == kept.Seq:
		return kept, nil
	case kept != nil && head > kept.Seq:
		m = kept.Clone()
	default:
		// Nothing kept, or a log shorter than what was: from its start.
		if since > 0 {
			if entries, _, err = s.st.Log(ctx, team, 0); err != nil {
				return nil, err
			}
		}
		m = wire.NewMembership(team)
	}
	for _, b := range entries {
		e, err := logEntry(b)
		if err != nil {
			return nil, err
		}
		if err := m.Apply(&e); err != nil {
			return nil, fmt.Errorf("stored log does not verify: %w", err)
		}
	}
	s.verified.keep(m)
	return m, nil
}

// logEntry decodes one stored membership log entry.
func logEntry(b []byte) (wire.LogEntry, error) {
	var e wire.LogEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("stored log entry unreadable: %w", err)
	}
	return e, nil
}
