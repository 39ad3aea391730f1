package pgtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestStartAndNewDatabase(t *testing.T) {
	s, skip, err := ForTest()
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		t.Skip(skip)
	}
	defer s.Stop()
	ctx := context.Background()
	u, err := s.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE x (a int)"); err != nil {
		t.Fatalf("the new role should own its database: %v", err)
	}
}

// TestDurable: a durable server syncs its commits (what a benchmark of a
// user's server needs), a test's does not.
func TestDurable(t *testing.T) {
	for _, durable := range []bool{false, true} {
		s, skip, err := ForTestWith(Options{Durable: durable})
		if err != nil {
			t.Fatal(err)
		}
		if s == nil {
			t.Skip(skip)
		}
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, s.SuperURL())
		if err != nil {
			s.Stop()
			t.Fatal(err)
		}
		want := map[bool]string{false: "off", true: "on"}[durable]
		for _, name := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
			var got string
			if err := conn.QueryRow(ctx, "SHOW "+name).Scan(&got); err != nil {
				t.Error(err)
			} else if got != want {
				t.Errorf("durable=%v: %s is %s, want %s", durable, name, got, want)
			}
		}
		if s.Durable() != durable {
			t.Errorf("Durable() = %v, want %v", s.Durable(), durable)
		}
		conn.Close(ctx)
		s.Stop()
	}
}

// TestCPU: the server's CPU time grows with work it is given.
func TestCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	s, skip, err := ForTest()
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		t.Skip(skip)
	}
	defer s.Stop()
	before, ok := s.CPU()
	if !ok {
		t.Fatal("CPU() not readable for a server pgtest started")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.SuperURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Work until a clock tick of it shows (at most a minute of it).
	for deadline := time.Now().Add(time.Minute); ; {
		if _, err := conn.Exec(ctx, "SELECT count(*) FROM generate_series(1, 2000000)"); err != nil {
			t.Fatal(err)
		}
		if after, _ := s.CPU(); after > before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server's CPU time stayed at %s", before)
		}
	}
}
