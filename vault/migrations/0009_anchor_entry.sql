-- Schema 9: the anchor keeps its own entry of the audit log, sealed as the
-- log holds it. The vault and its log are two files, committed one after
-- the other (the vault first): a process killed between the two, or a
-- power cut, left the log one entry short of the anchor, which hush then
-- took for a log cut. The next command that checks the anchor appends the
-- entry from here, once it has checked that it chains onto the log's last
-- entry and is the entry the anchor names (its chain MAC); a log cut
-- further, or replaced, is still refused. Empty: nothing to put back (an
-- anchor written without an entry of its own, or before schema 9).
ALTER TABLE anchor ADD COLUMN entry BLOB NOT NULL DEFAULT x'';
