-- Schema 5: the vault's anchor of its audit log, and its change counter.
-- Every transaction that changes the vault moves it, so that
-- `hush audit --verify` finds a log that was cut, emptied or replaced by
-- an older copy, and a vault that went back in time (a lost -wal, an older
-- copy put back) says so. A vault of record format 2 or more must have it.

CREATE TABLE anchor (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    seq     INTEGER NOT NULL,  -- the log's last entry when the vault last changed
    mac     BLOB    NOT NULL,  -- that entry's chain mac (empty for seq 0)
    changes INTEGER NOT NULL,  -- how many transactions have changed the vault
    tag     BLOB    NOT NULL   -- HMAC(audit chain key, AD("hush/v1/anchor", vault_id, seq, mac, changes))
);
