// Package unlock opens a vault the way every hush front end does, in one
// order: a key remembered by `hush unlock` (the kernel keyring, then the
// OS keychain; see package keychain), HUSH_PASSPHRASE, a passphrase file.
// Only when none of them applies does a front end ask a person, each in
// its own way (a hidden prompt, the terminal UI's unlock screen).
//
// It also remembers and forgets vault keys for `hush unlock` and `hush
// lock`, creates a vault for init and team join ([Create]), and owns the
// passphrase variables: [Scrub] is the one list of what no process hush
// starts may inherit.
package unlock
