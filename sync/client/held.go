package client

import (
	"fmt"
	"strings"

	"github.com/hush-secrets/hush/sync/wire"
)

// Covers reports whether a name (folder false) or a folder (folder true;
// "" is the whole team) is one this device may read by the verified log:
// the name's scope is held; for a folder, the scope it lies in is held,
// or a held scope lies inside it (listing it shows only those).
func (h *Held) Covers(name string, folder bool) bool {
	if !folder {
		return h.Name(name)
	}
	n := strings.TrimSuffix(name, "/")
	if n == "" {
		return len(h.ids) > 0
	}
	// No name holds a NUL: the deepest scope of n/NUL is that of n itself.
	if h.Name(n + "/\x00") {
		return true
	}
	for _, id := range h.ids {
		if f := h.folders[id]; id != "" && strings.HasPrefix(f, n+"/") {
			return true
		}
	}
	return false
}

// OutOfScope is the refusal of a name a machine does not hold by the
// verified log: ErrOutOfScope, with the folders it does hold.
func (h *Held) OutOfScope() error {
	return fmt.Errorf("%w: %s only", ErrOutOfScope, strings.Join(h.Folders(), ", "))
}

// ScopeOf is the folder of the scope a name belongs to ("/" for the
// root), by the verified log: for a message.
func (h *Held) ScopeOf(name string) string {
	if id := wire.DeepestScope(h.folders, name); id != "" {
		return h.folders[id]
	}
	return "/"
}
