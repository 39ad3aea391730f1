-- Schema 6: each secret's row state is authenticated. row_mac is
-- HMAC(row subkey, AD("hush/v1/row", vault_id, id, head, created, updated,
-- deleted, name_mac, folder_mac)), so that moving head back, clearing
-- deleted, changing folder_mac or the times is refused. NULL only in a
-- vault of record format 2 or older, until its upgrade.
ALTER TABLE secrets ADD COLUMN row_mac BLOB;

-- How many live secrets each folder holds, authenticated, so that a row
-- whose folder_mac was changed cannot drop out of `export` or
-- `run --from` unseen: mac = HMAC(row subkey, AD("hush/v1/folder",
-- vault_id, folder_mac, live)).
CREATE TABLE folders (
    folder_mac BLOB    PRIMARY KEY,
    live       INTEGER NOT NULL,
    mac        BLOB    NOT NULL
) WITHOUT ROWID;
