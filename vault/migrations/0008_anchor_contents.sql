-- Schema 8: the anchor commits to the vault's contents (record format 5),
-- not only to a counter, so that an older audit log put back with the
-- anchor row of its time, or an older vault put back under the current
-- anchor row, is refused.

-- The change number (the anchor's counter) of the row's last write,
-- covered by row_mac: a row newer than the anchor means the anchor (and
-- the log) went back in time.
ALTER TABLE secrets ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;

-- The last change: the secret's id and the row_mac it was left with (an
-- empty mac: the row was purged), or "header" and the header's MAC (a
-- passwd). Checked by every command: an older vault under this anchor
-- does not hold it.
ALTER TABLE anchor ADD COLUMN last_id  BLOB NOT NULL DEFAULT x'';
ALTER TABLE anchor ADD COLUMN last_mac BLOB NOT NULL DEFAULT x'';
-- The MAC of the set of folder policies (policy_set.mac) as the vault
-- last wrote it.
ALTER TABLE anchor ADD COLUMN policies BLOB NOT NULL DEFAULT x'';
-- The header's MAC as the vault last wrote it (create, passwd, a key
-- rotation): the header from before a passwd put back does not match.
ALTER TABLE anchor ADD COLUMN header   BLOB NOT NULL DEFAULT x'';
-- Seal(value key, XOR of HMAC(row-set key, row_mac) over every secret
-- row): checked against the rows by ls and audit --verify.
ALTER TABLE anchor ADD COLUMN digest   BLOB NOT NULL DEFAULT x'';
