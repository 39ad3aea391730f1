-- Team server schema 2 (PostgreSQL): the signed membership log and key epochs.
ALTER TABLE teams ADD COLUMN epoch BIGINT NOT NULL DEFAULT 1;
ALTER TABLE teams ADD COLUMN log_seq BIGINT NOT NULL DEFAULT 0;  -- entries in the log
CREATE TABLE log (
    team  TEXT NOT NULL REFERENCES teams(id),
    seq   BIGINT NOT NULL,
    entry BYTEA NOT NULL,          -- the signed entry, JSON, as the admin sent it
    PRIMARY KEY (team, seq)
);
ALTER TABLE records ADD COLUMN log_seq BIGINT NOT NULL DEFAULT 0;
