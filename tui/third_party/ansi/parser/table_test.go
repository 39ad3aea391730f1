package parser

import (
	"bytes"
	"testing"
)

// table.go is GenerateTransitionTable written out (gentable.go).
func TestTableIsGenerated(t *testing.T) {
	if !bytes.Equal(Table, GenerateTransitionTable()) {
		t.Fatal("table.go is stale: run `go run gentable.go` in this folder")
	}
}
