-- Schema 2: per-folder policies (a default rotation interval that the
-- secrets below a folder inherit). Sealed like everything else.

CREATE TABLE policies (
    folder_mac BLOB    PRIMARY KEY,  -- HMAC(lookup key, AD("folder", folder))
    epoch      INTEGER NOT NULL,
    policy     BLOB    NOT NULL      -- Seal(value key, JSON {folder, rotate_every}, AD(vault, folder_mac, "policy", epoch))
);
