package vault

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// Windows: mode bits mean little (0600 only sets the read-only attribute
// or not); who may open a file is its access list. restrictFolder gives
// the vaults folder a protected ACL that grants the current user, and no
// one else, full control, inherited by every file made in it (the vault,
// its -wal and -shm files, the audit log, lock files). A protected ACL
// ignores what the parent folder would have passed down.
//
// Cannot: keep out an administrator, who can take ownership of anything,
// or the SYSTEM account; or protect a vault folder the user made elsewhere
// (HUSH_HOME) before hush first ran in it, beyond what this sets.
func restrictFolder(path string) error {
	tok := windows.GetCurrentProcessToken()
	u, err := tok.GetTokenUser()
	if err != nil {
		return fmt.Errorf("failed to find the current user: %w", err)
	}
	sd, err := windows.SecurityDescriptorFromString("D:P(A;OICI;FA;;;" + u.User.Sid.String() + ")")
	if err != nil {
		return fmt.Errorf("failed to build the folder's access list: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("failed to build the folder's access list: %w", err)
	}
	if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
		return fmt.Errorf("failed to make %s private: %w", path, err)
	}
	return nil
}

// ownedByMe reports whether path's owner is the current user: Windows'
// version of the Unix owner check (a file another account owns can be
// changed by it whatever its ACL says, since an owner may rewrite the
// ACL). Not called yet by the vault file checks (private_other.go): a
// file made by an elevated process of an administrator is owned by the
// Administrators group, not the user, so a plain comparison would refuse
// such a user's own vault; the check needs that case settled, and a
// Windows machine to test it on. It looks at
// the file itself, not through a link (GetNamedSecurityInfo follows
// reparse points, so the caller refuses links first, as on Unix).
func ownedByMe(path string) (bool, error) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return false, fmt.Errorf("failed to read the owner of %s: %w", path, err)
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return false, fmt.Errorf("failed to read the owner of %s: %w", path, err)
	}
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return false, fmt.Errorf("failed to find the current user: %w", err)
	}
	return owner.Equals(u.User.Sid), nil
}
