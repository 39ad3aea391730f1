-- Schema 2: the local audit log, sealed and chained (see docs/format.md).

CREATE TABLE audit (
    seq   INTEGER PRIMARY KEY,  -- 1, 2, 3, ... without gaps
    entry BLOB    NOT NULL,     -- Seal(audit key, JSON entry, AD(vault, "audit", seq))
    mac   BLOB    NOT NULL      -- HMAC(chain key, previous mac ‖ seq ‖ entry)
);

-- One row: HMAC(chain key, "head" ‖ last seq ‖ last mac), so that cutting
-- entries off the end is found too.
CREATE TABLE audit_head (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    mac BLOB    NOT NULL
);
