package wire

import (
	"strings"
	"testing"
)

// Names a terminal would act on, or cannot print, are refused.
func TestDeviceNamesRefuseControlsAndBadUTF8(t *testing.T) {
	good := Device{ID: strings.Repeat("a", 32), Name: "laptop-2 (Zoë)", Member: "bob", SignKey: make([]byte, 32), Box: "age1" + strings.Repeat("q", 58)}
	if err := good.Check(); err != nil {
		t.Fatalf("a plain name refused: %v", err)
	}
	for _, name := range []string{"", "a\x1b[2J", "a\tb", "a\u0085b", "a\u009bb", "a\x7fb", "bad\xffutf8", strings.Repeat("x", 65)} {
		d := good
		d.Name = name
		if d.Check() == nil {
			t.Errorf("device name %q accepted", name)
		}
		d = good
		d.Member = name
		if d.Check() == nil {
			t.Errorf("member name %q accepted", name)
		}
	}
}
