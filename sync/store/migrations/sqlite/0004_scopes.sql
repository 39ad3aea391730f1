-- Team server schema 4 (SQLite): folder scopes. A wrapped key belongs to a scope
-- ('' is the root: every key before scopes), a record to a scope id (''
-- is the root: every record before scopes). Ids only: the server never
-- sees a folder name.
CREATE TABLE wrapped_keys_4 (
    team   TEXT NOT NULL REFERENCES teams(id),
    device TEXT NOT NULL REFERENCES devices(id),
    scope  TEXT NOT NULL DEFAULT '',
    epoch  INTEGER NOT NULL,
    sealed BLOB NOT NULL,
    signer TEXT NOT NULL,
    sig    BLOB NOT NULL,
    PRIMARY KEY (device, scope, epoch)
);
INSERT INTO wrapped_keys_4 (team, device, scope, epoch, sealed, signer, sig)
    SELECT team, device, '', epoch, sealed, signer, sig FROM wrapped_keys;
DROP TABLE wrapped_keys;
ALTER TABLE wrapped_keys_4 RENAME TO wrapped_keys;
ALTER TABLE records ADD COLUMN scope TEXT NOT NULL DEFAULT '';
