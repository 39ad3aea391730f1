-- Schema 3: what a team sync client keeps beside the secrets, so that
-- applying a record and noting it happen in one transaction.

-- Sealed settings and keys of the sync client (the team key, this
-- device's private keys, the server's address): one sealed blob per key.
CREATE TABLE sync_state (
    k TEXT PRIMARY KEY,
    v BLOB NOT NULL        -- Seal(value subkey, data, AD = "hush/v1/sync-state", vault id, k)
);

-- One row per secret the team server knows (or knew).
CREATE TABLE sync_records (
    id            BLOB PRIMARY KEY,  -- the secret's id, the record id on the server
    base          INTEGER NOT NULL,  -- server version the local state derives from; 0: never pushed
    seen          INTEGER NOT NULL,  -- highest server version seen: never accept less
    local_head    INTEGER NOT NULL,  -- local head version when last in step with the server
    local_deleted INTEGER NOT NULL,  -- whether it was removed then
    theirs        BLOB               -- a conflicting server record, as received (sealed by the team key)
) WITHOUT ROWID;
