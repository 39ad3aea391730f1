package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
)

// Races: concurrent compare-and-set pushes.

func TestConcurrentCAS(t *testing.T) {
	e := newTeam(t, server.Options{})
	w2 := e.member(wire.RoleWriter, "ci", "cy")
	const rounds = 8
	for i := 0; i < rounds; i++ {
		id := wire.NewID()
		a, b := e.record(e.writer, id, 1), e.record(w2, id, 1)
		reqs := []*http.Request{
			e.signed(e.writer, "POST", "/v1/push", body(t, wire.Push{Records: []wire.Record{a}})),
			e.signed(w2, "POST", "/v1/push", body(t, wire.Push{Records: []wire.Record{b}})),
		}
		start := make(chan struct{})
		out := make(chan response, 2)
		for _, r := range reqs {
			go func() {
				<-start
				resp, err := e.hs.Client().Do(r)
				if err != nil {
					out <- response{desc: err.Error()}
					return
				}
				defer resp.Body.Close()
				var buf bytes.Buffer
				buf.ReadFrom(resp.Body)
				out <- response{code: resp.StatusCode, body: buf.Bytes(), desc: r.Header.Get(wire.HeaderDevice)}
			}()
		}
		close(start)
		var winner, loser *wire.PushResult
		var winnerRec wire.Record
		for range 2 {
			r := <-out
			if r.code != http.StatusOK {
				t.Fatalf("concurrent push: %d %s %s", r.code, r.body, r.desc)
			}
			var pr wire.PushResponse
			if err := json.Unmarshal(r.body, &pr); err != nil || len(pr.Results) != 1 {
				t.Fatalf("answer %s: %v", r.body, err)
			}
			res := pr.Results[0]
			switch res.Status {
			case wire.PushOK:
				if winner != nil {
					t.Fatalf("round %d: both pushes of version 1 applied", i)
				}
				winner = &res
				winnerRec = a
				if r.desc == w2.ID {
					winnerRec = b
				}
			case wire.PushConflict:
				if loser != nil {
					t.Fatalf("round %d: both pushes conflicted", i)
				}
				loser = &res
			default:
				t.Fatalf("status %q", res.Status)
			}
		}
		if winner == nil || loser == nil {
			t.Fatalf("round %d: winner %v loser %v", i, winner, loser)
		}
		cur := loser.Current
		if cur == nil || cur.Version != 1 || cur.Author != winnerRec.Author || !bytes.Equal(cur.Sealed, winnerRec.Sealed) ||
			!bytes.Equal(cur.Sig, winnerRec.Sig) || cur.Seq != winner.Seq {
			t.Fatalf("round %d: the conflict's current record %+v is not the winner's (%s, seq %d)", i, cur, winnerRec.Author, winner.Seq)
		}
	}
	c := e.changes(e.reader)
	if c.Head != rounds || len(c.Records) != rounds {
		t.Fatalf("after %d rounds: head %d, %d records", rounds, c.Head, len(c.Records))
	}
	// The loser resolves on top of the winner: version 2 applies once.
	top := c.Records[0]
	next := e.record(e.writer, top.ID, 2)
	if pr := e.push(e.writer, next); pr.Results[0].Status != wire.PushOK {
		t.Fatalf("version 2: %+v", pr)
	}
	stale := e.record(w2, top.ID, 2)
	pr := e.push(w2, stale)
	if pr.Results[0].Status != wire.PushConflict || pr.Results[0].Current.Version != 2 || pr.Results[0].Current.Author != e.writer.ID {
		t.Fatalf("a second version 2: %+v", pr.Results[0])
	}
	// Skipping a version is a conflict too.
	if pr := e.push(w2, e.record(w2, top.ID, 5)); pr.Results[0].Status != wire.PushConflict {
		t.Fatalf("version 5 over 2: %+v", pr.Results[0])
	}
}
