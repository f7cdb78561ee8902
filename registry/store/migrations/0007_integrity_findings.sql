-- Retraction / expression-of-concern / correction signals found for included studies.
-- A finding is kept once (first_seen says when it became news).
CREATE TABLE integrity_findings (
    review TEXT NOT NULL,
    study_id TEXT NOT NULL,
    kind TEXT NOT NULL,              -- retraction | expression of concern | correction
    source TEXT NOT NULL,            -- 'pubmed RetractionIn', 'crossref update-to', ...
    notice TEXT NOT NULL,            -- notice DOI or 'PMID n' ('' when none is named)
    work TEXT,                       -- the study's DOI or PMID that was checked
    date TEXT,                       -- date of the notice when the source gives one
    first_seen TIMESTAMP NOT NULL,
    PRIMARY KEY (review, study_id, kind, source, notice)
);
