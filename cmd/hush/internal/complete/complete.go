// Package complete says what shell completion offers for a secret name or
// a folder typed so far, from the vault's names ([Names]: only when a
// remembered key opens the vault without asking; locked, it offers
// nothing).
package complete

import (
	"sort"
	"strings"

	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/unlock"
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

// Offer is what completion offers for toComplete: the Candidates and,
// with foldersOnly, the folder itself once nothing below it is left to
// type into (`hush ls app/prod`). intoFolder reports whether a folder is
// among them: the shell then adds no space, so the person goes on typing.
func Offer(names []string, toComplete string, foldersOnly bool) (out []string, intoFolder bool) {
	out = Candidates(names, toComplete, foldersOnly)
	if foldersOnly {
		if f := strings.TrimSuffix(toComplete, "/"); f != "" && len(out) == 0 && len(Candidates(names, f+"/", false)) > 0 {
			out = append(out, f)
		}
	}
	for _, c := range out {
		if strings.HasSuffix(c, "/") {
			return out, true
		}
	}
	return out, false
}

// Names lists the names of the vault at path when a key remembered in a
// store that never asks opens it (unlock.Chain.Quietly): no prompt, no
// passphrase variable (Argon2 would make every Tab slow), no audit entry.
// Otherwise, and on any error, it lists nothing.
func Names(path string, c *unlock.Chain) []string {
	v, err := vault.Open(path)
	if err != nil {
		return nil
	}
	defer v.Close()
	if !c.Quietly(v) {
		return nil
	}
	names, err := v.Names()
	if err != nil {
		return nil
	}
	return names
}
