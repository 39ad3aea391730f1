package teamsync

import (
	"testing"

	"github.com/hush-secrets/hush/sync/client"
)

// An ungrant or a removal whose secrets were marked before says how many
// are due, not "0 marked" (attack18 F5).
func TestDueNote(t *testing.T) {
	for _, c := range []struct {
		marked, due int
		where, want string
	}{
		{2, 2, " in them", "2 secret(s) in them marked to be rotated (see `hush due`)"},
		{0, 0, " in it", "0 secret(s) in it marked to be rotated (see `hush due`)"},
		{0, 3, " in them", "3 secret(s) in them to be rotated: 0 marked now, 3 already marked (see `hush due`)"},
		{1, 3, "", "3 secret(s) to be rotated: 1 marked now, 2 already marked (see `hush due`)"},
	} {
		if got := dueNote(c.marked, c.due, c.where); got != c.want {
			t.Errorf("dueNote(%d, %d, %q) = %q, want %q", c.marked, c.due, c.where, got, c.want)
		}
	}
}

func TestHolderList(t *testing.T) {
	got := holderList([]client.ScopeHolder{{Member: "alice", Role: "admin"}, {Member: "ci", Role: "reader", Machine: true}})
	if want := "alice (admin), ci (reader)"; got != want {
		t.Fatalf("holderList = %q, want %q", got, want)
	}
}
