// Package importer reads the exports of other secret stores (1Password,
// Bitwarden, KeePassXC, pass and gopass, SOPS, HashiCorp Vault and
// OpenBao) and writes them into a vault in one transaction. Encrypted
// sources are opened by their own tools where those exist (gpg for pass,
// sops, keepassxc-cli for KDBX), in memory, through pipes; Bitwarden's
// password-protected JSON, which has no such tool offline, is decrypted
// here. The flat
// .env, JSON and YAML files are the package envfile's; this package is for
// the stores people move in from.
//
// Reading ([Read], [Parse]) only builds a [Plan]: the secrets that would
// be created, by name, and what the export holds that was not brought,
// with a reason ([Plan.SkipCounts]). [Apply] writes a plan. Nothing is
// written until Apply, and Apply writes all or nothing.
//
// # Mapping
//
// An item of a password manager becomes:
//
//   - FOLDER/TITLE holding its main secret: a login's password, a secure
//     note's text, an SSH key's private key, an API credential's
//     credential, a database's or server's password, a software licence's
//     key. The type is detected from the value (a PEM certificate or an
//     SSH key, by the checks `hush set --type` makes), else the item's
//     (password, api-key, ssh-key, note).
//   - FOLDER/TITLE.totp holding its TOTP seed or otpauth:// URI (type token).
//   - FOLDER/TITLE.FIELD for each concealed (hidden) custom field.
//
// Usernames, URLs and the custom fields that are not concealed are not
// secrets: they become "username: ...", "url: ..." and "FIELD: ..." lines
// at the top of the note of each of those secrets, followed by the item's
// notes. Tags carry over (spaces and commas become "-"); an archived item
// gets the tag "archived". FOLDER is the 1Password vault, the Bitwarden
// folder (or collection), the KeePassXC group path below the root, or the
// pass directory.
//
// Names are made valid deterministically ([Segment]): each run of
// characters outside A-Z a-z 0-9 _ . - becomes one "_" and is dropped at
// either end ("My Bank (old)" is My_Bank_old, "café" is caf), an empty
// result is "untitled". When two items map to one name, the later one in
// the export gets "-2", the next "-3", and the plan lists the renaming.
//
// Not brought, and counted in the plan by reason: items in the trash,
// payment cards and identities, documents and file attachments, passkeys,
// password history, items with no secret value at all (a login with only
// a username), values over the vault's 8 MiB limit (notes over 64 KiB are
// dropped, the secret is kept), and for pass, symbolic links, files that
// are not .gpg and gopass's age-encrypted entries.
//
// Errors say what is wrong with the file and where (a line, a path, a
// column), never a value.
package importer
