-- Schema 10: each secret's sync bookkeeping is authenticated, from record
-- format 6. mac = HMAC(row subkey, AD("hush/v1/sync-mark", vault id, id,
-- base, seen, local_head, local_deleted, "theirs" or "none", theirs)): a
-- local writer who raises `seen` (freezing the device, with the blame on
-- the server), or plants a record in `theirs` (an older version of the
-- secret, or another secret's record, from the server's database), or
-- copies a row's columns to another, gets "vault data failed
-- authentication" naming the secret. NULL in a vault of an older format,
-- until its upgrade seals every row.
ALTER TABLE sync_records ADD COLUMN mac BLOB;
