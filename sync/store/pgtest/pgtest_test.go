package pgtest

import (
	"context"
	"testing"

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
