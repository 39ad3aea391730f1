package client

import (
	"strconv"
	"strings"
)

// pushedBatch tells a batch of pushedKey's entries (savePushed) by its
// key, pushedKey/N, and returns N.
func pushedBatch(k string) (int, bool) {
	rest, ok := strings.CutPrefix(k, pushedKey+"/")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n > 0
}

// saving is sr as savePushed writes it.
func (sr *sentRecord) saving(id string) pushedEntry {
	return pushedEntry{ID: id, Version: sr.version, Hash: sr.hash[:], Head: sr.head, Deleted: sr.deleted, Pos: sr.pos, Entry: sr.entry}
}

// markSaved notes that ps are saved (sentRecord.saved).
func (s *syncer) markSaved(ps []pushedEntry) {
	for i := range ps {
		if sr, ok := s.sent[ps[i].ID]; ok {
			sr.saved = true
			s.sent[ps[i].ID] = sr
		}
	}
}
