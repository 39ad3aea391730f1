-- Schema 7: the set of folder policies is authenticated (record format 4),
-- so that a policy deleted, added or put back from an older copy outside
-- hush is refused instead of silently changing `hush due`: mac =
-- HMAC(row subkey, AD("hush/v1/policies", vault_id, SHA-256 over every
-- policy row in folder_mac order)). Missing only in a vault of record
-- format 3 or older, until its upgrade.
CREATE TABLE policy_set (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    mac BLOB    NOT NULL
);

-- Every lookup compares its folder's live secrets with the folder's
-- authenticated count (a removed secret's row put back is one more): this
-- index makes that count read only the index.
CREATE INDEX secrets_folder_live ON secrets(folder_mac) WHERE deleted IS NULL;
