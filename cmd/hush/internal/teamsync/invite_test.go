package teamsync

import (
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/sync/wire"
)

func TestMachineTermsAReaderOrWriterForALimitedTime(t *testing.T) {
	role, life, err := MachineTerms("", "writer", false, "7d", false)
	if err != nil || role != wire.RoleReader || life != MachineLife {
		t.Fatalf("no role or expiry given: %s, %s, %v", role, life, err)
	}
	role, life, err = MachineTerms("", wire.RoleWriter, true, "30d", true)
	if err != nil || role != wire.RoleWriter || life != 30*24*time.Hour {
		t.Fatalf("a writer for 30d: %s, %s, %v", role, life, err)
	}
	for _, c := range []struct {
		member, role, expires string
		want                  string
	}{
		{"alice", wire.RoleReader, "30d", "a machine is a member of its own"},
		{"", wire.RoleAdmin, "30d", "never an admin"},
		{"", wire.RoleReader, "400d", "up to 366d"},
		{"", wire.RoleReader, "0s", "up to 366d"},
	} {
		if _, _, err := MachineTerms(c.member, c.role, true, c.expires, true); !usage.Is(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestInviteLifeIsAtMostAMonth(t *testing.T) {
	if d, err := InviteLife("7d"); err != nil || d != 7*24*time.Hour {
		t.Fatalf("7d: %s, %v", d, err)
	}
	for _, bad := range []string{"32d", "0s", "soon"} {
		if _, err := InviteLife(bad); !usage.Is(err) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
