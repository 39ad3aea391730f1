-- Team server schema 1 (PostgreSQL). Records hold ciphertext only.
CREATE TABLE teams (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    seq     BIGINT NOT NULL DEFAULT 0,   -- newest sequence number given to a record
    created BIGINT NOT NULL              -- unix nanoseconds
);
CREATE TABLE devices (
    id        TEXT PRIMARY KEY,
    team      TEXT NOT NULL REFERENCES teams(id),
    name      TEXT NOT NULL,
    member    TEXT NOT NULL,
    sign_key  BYTEA NOT NULL,
    box       TEXT NOT NULL,
    role      TEXT NOT NULL,
    state     TEXT NOT NULL,
    invite    TEXT NOT NULL DEFAULT '',
    binding   BYTEA,
    joined    BIGINT NOT NULL,
    last_seen BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX devices_team ON devices(team, joined);
CREATE TABLE invites (
    id        TEXT PRIMARY KEY,
    team      TEXT NOT NULL REFERENCES teams(id),
    role      TEXT NOT NULL,
    expires   BIGINT NOT NULL,
    by_device TEXT NOT NULL,
    used      BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE records (
    team    TEXT NOT NULL REFERENCES teams(id),
    id      TEXT NOT NULL,
    version BIGINT NOT NULL,
    epoch   BIGINT NOT NULL,
    sealed  BYTEA NOT NULL,
    author  TEXT NOT NULL,
    sig     BYTEA NOT NULL,
    seq     BIGINT NOT NULL,
    PRIMARY KEY (team, id)
);
CREATE INDEX records_seq ON records(team, seq);
CREATE TABLE wrapped_keys (
    team   TEXT NOT NULL REFERENCES teams(id),
    device TEXT NOT NULL REFERENCES devices(id),
    epoch  BIGINT NOT NULL,
    sealed BYTEA NOT NULL,
    signer TEXT NOT NULL,
    sig    BYTEA NOT NULL,
    PRIMARY KEY (device, epoch)
);
CREATE TABLE nonces (
    device TEXT NOT NULL,
    nonce  TEXT NOT NULL,
    at     BIGINT NOT NULL,
    PRIMARY KEY (device, nonce)
);
CREATE INDEX nonces_at ON nonces(at);
CREATE TABLE events (
    id      BIGSERIAL PRIMARY KEY,
    time    BIGINT NOT NULL,
    team    TEXT NOT NULL,
    device  TEXT NOT NULL,
    action  TEXT NOT NULL,
    records TEXT NOT NULL,
    result  TEXT NOT NULL
);
CREATE INDEX events_team ON events(team, time);
