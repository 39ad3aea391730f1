package usage

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hush-secrets/hush/vault"
)

func TestAUsageErrorIsFoundThroughWrapping(t *testing.T) {
	err := fmt.Errorf("while adding: %w", Errorf("--ttl must be at least %s", "1s"))
	if !Is(err) || err.Error() != "while adding: --ttl must be at least 1s" {
		t.Fatalf("Is(%v) = false, or the words changed", err)
	}
	if Is(errors.New("the database is down")) {
		t.Fatal("a failure was taken for a usage error")
	}
}

func TestABadNameOrFolderIsAUsageError(t *testing.T) {
	if err := Names("app/API_KEY", "app/../x"); !Is(err) || !errors.As(err, new(*vault.NameError)) {
		t.Fatalf("Names with a bad name: %v", err)
	}
	if err := Names("app/API_KEY", "db/prod"); err != nil {
		t.Fatalf("Names with good names: %v", err)
	}
	if f, err := Folder("app/dev/"); err != nil || f != "app/dev" {
		t.Fatalf("Folder(app/dev/) = %q, %v", f, err)
	}
	if _, err := Folder("app//dev"); !Is(err) {
		t.Fatalf("Folder(app//dev): %v", err)
	}
}
