package listing

import (
	"errors"
	"fmt"

	"github.com/hush-secrets/hush/vault"
)

// Audit reads the vault's audit log, its chain checked whole: a log
// altered outside hush is an error that says so.
func Audit(v *vault.Vault) ([]vault.AuditEntry, error) {
	entries, err := v.Audit()
	var ae *vault.AuditError
	if errors.As(err, &ae) {
		return nil, fmt.Errorf("%w: the log was altered outside hush", err)
	}
	return entries, err
}

// VerifyAudit is `audit --verify`: the log (Audit) and the vault file
// checked, and what to tell the person.
func VerifyAudit(v *vault.Vault) (string, error) {
	entries, err := Audit(v)
	if err != nil {
		return "", err
	}
	if err := v.CheckFile(); err != nil {
		return "", err
	}
	if len(entries) == 0 {
		return "audit log intact: no entries yet", nil
	}
	return fmt.Sprintf("audit log intact: %d entries, %s to %s", len(entries),
		entries[0].Time.Local().Format("2006-01-02 15:04"), entries[len(entries)-1].Time.Local().Format("2006-01-02 15:04")), nil
}
