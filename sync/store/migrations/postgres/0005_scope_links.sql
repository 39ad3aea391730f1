-- Team server schema 5 (PostgreSQL): scope links (docs/sync.md, "Scope
-- links"). Each chain entry's scope id ('' is the root, and a base
-- entry's), so that the last entry of a scope before a position, and a
-- scope's entries after one, are an index range each; backfilled from
-- the stored entry (JSON in a BYTEA).
ALTER TABLE chain ADD COLUMN scope TEXT NOT NULL DEFAULT '';
UPDATE chain SET scope = COALESCE(convert_from(entry, 'UTF8')::jsonb ->> 'scope', '');
CREATE INDEX chain_scope ON chain(team, scope, pos);
-- 1 once the team's chain holds a linked entry: from then on an unlinked
-- push (a client from before links) is told to upgrade.
ALTER TABLE teams ADD COLUMN linked BIGINT NOT NULL DEFAULT 0;
-- Each entry's record id ('' for a base entry): a record's entries are
-- an index range, so that a scoped page can prove a record left a
-- device's scopes with the entry that moved it (the next one after the
-- device's last), not only with its newest.
ALTER TABLE chain ADD COLUMN record TEXT NOT NULL DEFAULT '';
UPDATE chain SET record = COALESCE(convert_from(entry, 'UTF8')::jsonb ->> 'id', '');
CREATE INDEX chain_record ON chain(team, record, pos);
