-- Schema 2: per-folder policies (a default rotation interval that the
-- secrets below a folder inherit). Sealed like everything else.

CREATE TABLE policies (
    folder_mac BLOB    PRIMARY KEY,  -- HMAC(lookup key, AD("folder", folder))
    epoch      INTEGER NOT NULL,
    policy     BLOB    NOT NULL      -- Seal(value key, JSON {folder, rotate_every}, AD(vault, folder_mac, "policy", epoch))
);

-- The audit log lives in its own file (NAME.audit.db). This row, written
-- when that file is first made, lets hush tell a log that was deleted from
-- one that never existed.
CREATE TABLE audit_anchor (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    created INTEGER NOT NULL
);
