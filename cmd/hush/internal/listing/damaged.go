package listing

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hush-secrets/hush/vault"
)

// DamagedValue is what `history` says of a version whose value does not
// authenticate; its size is what is stored, not what was set.
const DamagedValue = "its value does not authenticate"

// MarkDamaged marks the versions in bad ([vault.Vault.DamagedValues]).
func (h *History) MarkDamaged(bad []int) {
	for i := range h.Versions {
		if slices.Contains(bad, h.Versions[i].Version) {
			h.Versions[i].Damaged = DamagedValue
		}
	}
}

// DamagedHistory is history's failure when the values of the versions in
// bad are damaged (nil when none is): the table is still shown, and the
// command fails saying what can be done, only with commands that work.
func DamagedHistory(name string, hist []vault.VersionInfo, bad []int) error {
	if len(bad) == 0 {
		return nil
	}
	vs := make([]string, len(bad))
	for i, n := range bad {
		vs[i] = strconv.Itoa(n)
	}
	what := fmt.Sprintf("version %s of %s is damaged: its value does not authenticate", vs[0], name)
	if len(bad) > 1 {
		what = fmt.Sprintf("versions %s of %s are damaged: their values do not authenticate", strings.Join(vs, ", "), name)
	}
	fix := "restore the vault file from a backup"
	for i := len(hist) - 1; i >= 0; i-- {
		if h := hist[i]; !slices.Contains(bad, h.Version) {
			if h.Current {
				fix = "the current value is intact; only a backup of the vault file brings the damaged ones back"
			} else {
				// --with-metadata: a value-only rollback compares with the
				// current value, which is damaged.
				fix = fmt.Sprintf("`hush rollback %s --to %d --with-metadata` restores the newest intact version, or %s", name, h.Version, fix)
			}
			break
		}
	}
	return fmt.Errorf("%w: %s; %s", vault.ErrTampered, what, fix)
}

// DamagedHint says what to do about damaged secrets: only commands that
// work, so a secret no version names any more (Named false) is not put
// into an `rm --purge`.
func DamagedHint(d *vault.DamagedSecretsError) string {
	var named, nameless []string
	for _, s := range d.Secrets {
		if s.Named {
			named = append(named, s.Name)
		} else {
			nameless = append(nameless, s.Name)
		}
	}
	hint := "hush will not hand out a folder with a secret missing from it. Restore the vault file from a backup"
	if len(named) > 0 {
		hint += ", or delete what is left of the damaged secret and set it again: `hush rm --purge " + strings.Join(named, " ") + "`"
	}
	if len(nameless) > 0 {
		hint += "; " + strings.Join(nameless, ", ") + " has no version left that gives its name, so no command can remove it: only the backup helps"
	}
	return hint
}
