package tui

import (
	"bytes"
	"testing"

	"github.com/charmbracelet/x/ansi/parser"
)

// hush's copy of x/ansi (third_party/ansi) has its parser's transition
// table written out as data instead of built at init: it must be exactly
// the table upstream builds, or the terminal UI misreads keys.
func TestANSITransitionTableIsUpstreams(t *testing.T) {
	if !bytes.Equal(parser.Table, parser.GenerateTransitionTable()) {
		t.Fatal("third_party/ansi/parser/table.go is stale: run `go run gentable.go` there")
	}
}
