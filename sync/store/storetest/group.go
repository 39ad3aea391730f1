package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// GroupFunc applies chain pushes as one group of the store's committer:
// the pushes that arrived while a commit was in flight, applied in one
// transaction and each answered after it (store.PushGroup). Results and
// errors come in the order given.
type GroupFunc func(s store.Store, teams []string, as []*store.ChainAppend) ([]*store.ChainResult, []error)

// RunGroup runs the group commit tests: open returns a new, empty store
// for each call.
func RunGroup(t *testing.T, open func(t *testing.T) store.Store, group GroupFunc) {
	fresh := func(t *testing.T) store.Store {
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	t.Run("GroupCommit", func(t *testing.T) { testGroupCommit(t, fresh(t), fresh(t), group) })
}

// testGroupCommit: chain pushes of several teams, several of one team in
// order, applied as one group, are answered and stored exactly as the
// same pushes applied one after the other: each behind, conflicting,
// stale or refused push (a wrong scope link, an unlinked push into a
// linked chain, a move out of a scope the device may not write) is
// refused as it would be alone and changes nothing, and fails none of
// the others; a push of the group that fails outright (an entry without
// its hash) fails alone.
func testGroupCommit(t *testing.T, s, alone store.Store, group GroupFunc) {
	ctx := t.Context()
	both := []store.Store{s, alone}
	newTeamOnBoth := func() *linker {
		tm := team{id: wire.NewID(), admin: newDevice("admin")}
		for _, st := range both {
			if err := st.CreateChainedTeam(ctx, tm.id, "team "+tm.id[:6], tm.admin, []byte(`{}`), t0); err != nil {
				t.Fatalf("CreateChainedTeam: %v", err)
			}
		}
		return newLinker(tm.id, tm.admin.ID)
	}
	pushBoth := func(l *linker, recs ...wire.Record) []wire.Record {
		t.Helper()
		a, entries := l.build(recs, true, nil)
		for _, st := range both {
			if res, err := st.ChainPush(ctx, l.team, a); err != nil || res.Status != wire.PushOK || res.Refused != nil {
				t.Fatalf("ChainPush: %+v, %v", res, err)
			}
		}
		l.take(entries)
		return recs
	}
	A, B, C, D := newTeamOnBoth(), newTeamOnBoth(), newTeamOnBoth(), newTeamOnBoth()
	a := pushBoth(A, A.rec("", "", 1), A.rec("", "", 1))
	b := pushBoth(B, B.rec("", "", 1))
	pushBoth(C, C.rec("", "", 1))
	d := pushBoth(D, D.rec("", "", 1))

	// The group, in the order the pushes arrived.
	type push struct {
		what    string
		l       *linker
		a       *store.ChainAppend
		status  string
		refused string // the refusal's text, if refused
	}
	var pushes []push
	add := func(what string, l *linker, linked bool, lie func(i int, e *wire.ChainEntry), status, refused string, recs ...wire.Record) ([]wire.ChainEntry, *store.ChainAppend) {
		ap, entries := l.build(recs, linked, lie)
		pushes = append(pushes, push{what, l, ap, status, refused})
		return entries, ap
	}
	aHead, aHeads := A.head, A.heads.Clone()
	e1, _ := add("A: a new version and a new record", A, true, nil, wire.PushOK, "", A.rec("", a[0].ID, 2), A.rec("", "", 1))
	A.take(e1)
	e2, _ := add("A: on the head the push before it in the group left", A, true, nil, wire.PushOK, "", A.rec("", a[0].ID, 3), A.rec("", "", 1))
	A.take(e2)
	stale := *A
	stale.head, stale.heads = aHead, aHeads
	add("A: on the head before the group (behind)", &stale, true, nil, wire.ChainBehind, "", stale.rec("", a[1].ID, 2))
	add("B: a version that does not follow the stored one", B, true, nil, wire.PushConflict, "", B.rec("", b[0].ID, 3))
	e4, _ := add("B: after the conflict, which took nothing", B, true, nil, wire.PushOK, "", B.rec("", b[0].ID, 2))
	B.take(e4)
	add("B: unlinked, into a linked chain", B, false, nil, "", store.ErrUnlinkedPush.Error(), B.rec("", "", 1))
	add("C: a wrong scope link", C, true, func(i int, e *wire.ChainEntry) { e.ScopePrev = &wire.ChainCursor{} }, "",
		"chain entry 2 has a wrong scope link: it follows entry 0 of its scope, but the last entry of its scope before it is 1", C.rec("", "", 1))
	old := C.rec("", "", 1)
	old.LogSeq = 2
	add("C: written at another log position (stale)", C, true, nil, wire.PushStale, "", old)
	e8, _ := add("C: after two refusals", C, true, nil, wire.PushOK, "", C.rec("", "", 1))
	C.take(e8)
	P := wire.NewID()
	_, mv := add("D: a move out of a scope the device may not write", D, true, nil, "", (&store.MoveError{ID: d[0].ID}).Error(), D.rec(P, d[0].ID, 2))
	mv.MayMove = func(string) bool { return false }

	teams, as := make([]string, len(pushes)), make([]*store.ChainAppend, len(pushes))
	for i, p := range pushes {
		teams[i], as[i] = p.l.team, p.a
	}
	got, errs := group(s, teams, as)
	for i, p := range pushes {
		want, err := alone.ChainPush(ctx, p.l.team, p.a)
		if err != nil || errs[i] != nil {
			t.Fatalf("%s: grouped: %v; alone: %v", p.what, errs[i], err)
		}
		if err := sameResult(got[i], want); err != nil {
			t.Errorf("%s: grouped and alone differ: %v", p.what, err)
		}
		refused := ""
		if got[i].Refused != nil {
			refused = got[i].Refused.Error()
		}
		if got[i].Status != p.status || refused != p.refused {
			t.Errorf("%s: status %q refused %q, want %q, %q", p.what, got[i].Status, refused, p.status, p.refused)
		}
	}
	for _, l := range []*linker{A, B, C, D} {
		sameStored(t, s, alone, l.team)
	}

	// A push that fails outright (no hash: the store cannot write it)
	// fails alone; the group's other push is taken.
	bad, _ := A.build([]wire.Record{A.rec("", "", 1)}, true, nil)
	bad.Entries[0].Hash = nil
	good, ge := B.build([]wire.Record{B.rec("", "", 1)}, true, nil)
	got, errs = group(s, []string{A.team, B.team}, []*store.ChainAppend{bad, good})
	if errs[0] == nil {
		t.Fatalf("an entry without its hash: %+v, want an error", got[0])
	}
	if errs[1] != nil || got[1].Status != wire.PushOK {
		t.Fatalf("the other push of a group with a failing one: %+v, %v", got[1], errs[1])
	}
	if res, err := alone.ChainPush(ctx, B.team, good); err != nil || res.Status != wire.PushOK {
		t.Fatalf("ChainPush alone: %+v, %v", res, err)
	}
	B.take(ge)
	sameStored(t, s, alone, A.team)
	sameStored(t, s, alone, B.team)
}

// sameResult compares two answers to one push.
func sameResult(got, want *store.ChainResult) error {
	switch {
	case got == nil || want == nil:
		return fmt.Errorf("%+v, want %+v", got, want)
	case got.Status != want.Status || !got.Head.Equal(want.Head) || got.Seq != want.Seq || !slices.Equal(got.Conflicts, want.Conflicts):
		return fmt.Errorf("%+v, want %+v", got, want)
	case (got.Refused == nil) != (want.Refused == nil) || got.Refused != nil && got.Refused.Error() != want.Refused.Error():
		return fmt.Errorf("refused %v, want %v", got.Refused, want.Refused)
	}
	var le *store.LinkError
	var me *store.MoveError
	if errors.As(want.Refused, &le) != errors.As(got.Refused, &le) || errors.As(want.Refused, &me) != errors.As(got.Refused, &me) {
		return fmt.Errorf("refused %T, want %T", got.Refused, want.Refused)
	}
	return nil
}

// sameStored: team's chain, records and sequence numbers are the same in
// both stores.
func sameStored(t *testing.T, s, alone store.Store, team string) {
	t.Helper()
	for _, read := range []func(st store.Store) (any, error){
		func(st store.Store) (any, error) { return st.Chain(t.Context(), team, 0, 10000) },
		func(st store.Store) (any, error) { return st.Changes(t.Context(), team, 0, 10000) },
		func(st store.Store) (any, error) { e, l, err := st.Team(t.Context(), team); return []int64{e, l}, err },
	} {
		g, err := read(s)
		if err != nil {
			t.Fatal(err)
		}
		w, err := read(alone)
		if err != nil {
			t.Fatal(err)
		}
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if !bytes.Equal(gj, wj) {
			t.Fatalf("team %s: grouped\n%s\nalone\n%s", team[:6], gj, wj)
		}
	}
}
