-- Schema 1: the vault header, secrets and their versions.
-- No column holds a plaintext name, value, note or tag: see docs/format.md.

CREATE TABLE header (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    vault_id    BLOB    NOT NULL,  -- 16 random bytes
    format      INTEGER NOT NULL,  -- record format version
    kdf         TEXT    NOT NULL,  -- "argon2id"
    kdf_memory  INTEGER NOT NULL,  -- KiB
    kdf_passes  INTEGER NOT NULL,
    kdf_lanes   INTEGER NOT NULL,
    salt        BLOB    NOT NULL,  -- 32 random bytes
    epoch       INTEGER NOT NULL,  -- current key epoch
    created     INTEGER NOT NULL,  -- unix seconds
    check_mac   BLOB    NOT NULL,  -- HMAC(passphrase key, "hush/v1/passphrase-check")
    wrapped_key BLOB    NOT NULL,  -- Seal(passphrase key, vault key, AD = header)
    header_mac  BLOB    NOT NULL   -- HMAC(header subkey of the vault key, header)
);

CREATE TABLE secrets (
    id          BLOB    PRIMARY KEY,      -- 16 random bytes, never reused
    name_mac    BLOB    NOT NULL UNIQUE,  -- HMAC(lookup subkey, name)
    folder_mac  BLOB    NOT NULL,         -- HMAC(lookup subkey, folder of the name)
    head        INTEGER NOT NULL,         -- current version number
    created     INTEGER NOT NULL,         -- unix nanoseconds
    updated     INTEGER NOT NULL,
    deleted     INTEGER                   -- unix nanoseconds of `rm`, NULL when live
);
CREATE INDEX secrets_folder ON secrets(folder_mac);

CREATE TABLE versions (
    secret_id   BLOB    NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    epoch       INTEGER NOT NULL,
    created     INTEGER NOT NULL,         -- unix nanoseconds
    name        BLOB    NOT NULL,         -- sealed name
    meta        BLOB    NOT NULL,         -- sealed JSON: type, note, tags, rotation, expiry
    value       BLOB    NOT NULL,         -- sealed value
    PRIMARY KEY (secret_id, version)
) WITHOUT ROWID;
