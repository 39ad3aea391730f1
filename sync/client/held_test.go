package client

import (
	"errors"
	"strings"
	"testing"
)

// A machine ungranted from every scope it had is told so, not
// "not in this token's scopes:  only" (outside attack attack18 F5).
func TestOutOfScopeNamesWhatIsHeld(t *testing.T) {
	some := &Held{ids: []string{"p"}, folders: map[string]string{"p": "app/prod"}}
	if err := some.OutOfScope(); !errors.Is(err, ErrOutOfScope) || !strings.HasSuffix(err.Error(), ": app/prod only") {
		t.Fatalf("holding app/prod: %v", err)
	}
	none := &Held{}
	err := none.OutOfScope()
	if !errors.Is(err, ErrOutOfScope) || strings.Contains(err.Error(), " only") || !strings.Contains(err.Error(), "holds no scope") {
		t.Fatalf("holding nothing: %v", err)
	}
}
