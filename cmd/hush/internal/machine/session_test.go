package machine

import (
	"reflect"
	"testing"
)

// The names a command reads, checked against the machine's scopes once
// the team is read: a secret for get, set and rm; a folder (the root when none is
// given) for ls and export; run's --from folders; nothing for the rest.
func TestNames(t *testing.T) {
	for _, c := range []struct {
		cmd        string
		args, from []string
		want       []Name
	}{
		{"get", []string{"app/KEY"}, nil, []Name{{"app/KEY", false}}},
		{"set", []string{"app/KEY", "v"}, nil, []Name{{"app/KEY", false}}},
		{"rm", []string{"a", "b"}, nil, []Name{{"a", false}, {"b", false}}},
		{"ls", nil, nil, []Name{{"", true}}},
		{"export", []string{"app/prod"}, nil, []Name{{"app/prod", true}}},
		{"run", []string{"env"}, []string{"app/prod", "app/dev"}, []Name{{"app/prod", true}, {"app/dev", true}}},
		{"history", []string{"app/KEY"}, nil, nil},
	} {
		if got := Names(c.cmd, c.args, c.from); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Names(%s, %q, %q) = %v, want %v", c.cmd, c.args, c.from, got, c.want)
		}
	}
}
