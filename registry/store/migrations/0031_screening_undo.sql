-- `registry screen undo`: a decision taken back stays in the table (append-only history)
-- but is marked undone and no longer counts; see registry/store/screening.py.
ALTER TABLE screening_decisions ADD COLUMN undone_at TIMESTAMP;
ALTER TABLE screening_decisions ADD COLUMN undone_by TEXT;
