-- Team server schema 2 (SQLite): the signed membership log and key epochs.
ALTER TABLE teams ADD COLUMN epoch INTEGER NOT NULL DEFAULT 1;
ALTER TABLE teams ADD COLUMN log_seq INTEGER NOT NULL DEFAULT 0;  -- entries in the log
CREATE TABLE log (
    team  TEXT NOT NULL REFERENCES teams(id),
    seq   INTEGER NOT NULL,
    entry BLOB NOT NULL,          -- the signed entry, JSON, as the admin sent it
    PRIMARY KEY (team, seq)
);
ALTER TABLE records ADD COLUMN log_seq INTEGER NOT NULL DEFAULT 0;
