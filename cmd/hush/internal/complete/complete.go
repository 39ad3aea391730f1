// Package complete says what shell completion offers for a secret name or
// a folder typed so far, from the vault's names. It reads no vault itself:
// cmd/hush hands it the names (vault.Names, from a sealed cache).
package complete

import (
	"sort"
	"strings"
)

// Candidates returns what can follow prefix: each name that starts with it
// and has no further "/" after it, and each folder one level down, with a
// trailing "/" so the person can go on typing ("app/pr" offers
// "app/prod/"). With foldersOnly, only folders. names must be sorted.
func Candidates(names []string, prefix string, foldersOnly bool) []string {
	var out []string
	for i := sort.SearchStrings(names, prefix); i < len(names) && strings.HasPrefix(names[i], prefix); i++ {
		name := names[i]
		rest := name[len(prefix):]
		slash := strings.IndexByte(rest, '/')
		switch {
		case slash >= 0:
			folder := name[:len(prefix)+slash+1]
			if len(out) == 0 || out[len(out)-1] != folder {
				out = append(out, folder)
			}
			// Skip the rest of this folder at once: sorted names keep it
			// together, and a large folder is not walked name by name.
			i = sort.SearchStrings(names, folder[:len(folder)-1]+"0") - 1 // '0' follows '/'
		case !foldersOnly:
			out = append(out, name)
		}
	}
	return out
}
