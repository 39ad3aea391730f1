-- Team server schema 3 (SQLite): the change chain (sync v2).
ALTER TABLE teams ADD COLUMN chained INTEGER NOT NULL DEFAULT 0;   -- 1: v1 pushes are refused
ALTER TABLE teams ADD COLUMN chain_pos INTEGER NOT NULL DEFAULT 0; -- the chain's head
ALTER TABLE teams ADD COLUMN chain_hash BLOB;                      -- its hash
ALTER TABLE records ADD COLUMN chain_pos INTEGER NOT NULL DEFAULT 0; -- the entry that wrote this version
CREATE INDEX records_chain ON records(team, chain_pos);
CREATE TABLE chain (
    team  TEXT NOT NULL REFERENCES teams(id),
    pos   INTEGER NOT NULL,
    entry BLOB NOT NULL,   -- the signed entry, JSON, as the device sent it
    hash  BLOB NOT NULL,   -- its hash: what the next entry's prev names
    base  BLOB,            -- a base entry's snapshot, JSON
    PRIMARY KEY (team, pos)
);
