package vault

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrCurrentVersion is returned by a rollback to the version a live secret
// already has: it would only add a duplicate.
var ErrCurrentVersion = errors.New("is the current version")

// Edit changes a live secret's metadata only: a new version with the same
// value and the fields u sets, the others kept. A revocation or exposure
// stays (the value did not change). When the type changes, the value is
// described again for the new type (u.Describe), so a value that is not a
// certificate cannot become one. Asking for what the secret already has
// adds no version (Changed false). A name with no live secret is
// [ErrNotFound]: Edit never creates.
func (v *Vault) Edit(name string, u Update) (SetResult, error) {
	if err := v.unlocked(name); err != nil {
		return SetResult{}, err
	}
	var res SetResult
	err := v.write(func(tx *sql.Tx) error {
		r, cur, err := v.current(tx, name)
		if err != nil {
			return err
		}
		defer clear(cur.Value)
		meta := u.apply(cur.Meta)
		if err := meta.validate(); err != nil {
			return fmt.Errorf("secret %s: %w", name, err)
		}
		if meta.Type != cur.Type {
			if err := u.describe(name, &meta, cur.Value); err != nil {
				return err
			}
		}
		if metaEqual(cur.Meta, meta) {
			res = SetResult{Name: name, Version: r.head}
			return nil
		}
		keepClock(&meta, cur.Meta, r) // the value is the same: so is its age
		if err := v.addVersion(tx, r, name, meta, cur.Value, time.Now().UnixNano()); err != nil {
			return err
		}
		res = SetResult{Name: name, Version: r.head, Changed: true}
		return nil
	})
	return res, err
}

// Closest returns the live secret name nearest to name, for a "did you
// mean" after a typo: within two edits (one for names of up to four
// characters), or "" when none is that close. It reads names only.
func (v *Vault) Closest(name string) (string, error) {
	idx, err := v.Index()
	if err != nil {
		return "", err
	}
	limit := 2
	if len(name) <= 4 {
		limit = 1
	}
	best, bestD := "", limit+1
	for _, e := range idx {
		if d := editDistance(name, e.Name, bestD); d < bestD {
			best, bestD = e.Name, d
		}
	}
	return best, nil
}

// editDistance is the Levenshtein distance between a and b, or any value
// of at least bound once it is sure to reach it.
func editDistance(a, b string, bound int) int {
	if d := len(a) - len(b); d >= bound || -d >= bound {
		return bound
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= bound {
			return bound
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
