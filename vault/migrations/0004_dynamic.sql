-- Schema 4: leases, the short-lived database logins `hush run --dynamic`
-- makes. A lease is written before its login is created and deleted after
-- the login is dropped, so a hush killed at any point leaves a row that a
-- later cleanup finds. Everything about it is sealed.

CREATE TABLE leases (
    id      BLOB    PRIMARY KEY,  -- 16 random bytes
    epoch   INTEGER NOT NULL,
    created INTEGER NOT NULL,     -- unix nanoseconds (listing order)
    lease   BLOB    NOT NULL      -- Seal(value key, JSON, AD("hush/v1/lease", vault_id, id, epoch))
);
