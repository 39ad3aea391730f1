package client

import (
	"strings"
	"testing"
)

// FuzzWatchStream: whatever a server sends on a watch stream, the parser
// neither panics nor reports a negative head, and an event is only ever
// "head" or "removed".
func FuzzWatchStream(f *testing.F) {
	f.Add("event: head\ndata: 42\n\n: ping\n\n")
	f.Add("event: removed\ndata: 0\n\n")
	f.Add("event: head\ndata: -1\n\n")
	f.Add("event: head\ndata: 99999999999999999999\n\n")
	f.Add("data: 7\nevent: head\n\nevent: other\n\n")
	f.Fuzz(func(t *testing.T, stream string) {
		var p streamParser
		for _, l := range strings.Split(stream, "\n") {
			event, head, err := p.line(l)
			if err != nil {
				continue
			}
			switch event {
			case "", "removed":
				if head != 0 {
					t.Fatalf("event %q with head %d", event, head)
				}
			case "head":
				if head < 0 {
					t.Fatalf("negative head %d", head)
				}
			default:
				t.Fatalf("unknown event %q reported", event)
			}
		}
	})
}
