-- Every page request of a live source, with its counts: committed together with the
-- page's records and the run's resumable state, so the log never claims a page whose
-- records were lost (and never misses one that was stored).
CREATE TABLE source_requests (
    run_id BIGINT NOT NULL,
    seq INTEGER NOT NULL,            -- 1-based page number within the run
    source TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    cursor_in TEXT,                  -- pageToken / cursorMark sent ('*' or NULL: first page)
    cursor_out TEXT,                 -- the next page's token/cursor (NULL: last page)
    attempts INTEGER NOT NULL,       -- HTTP tries, retries included
    items INTEGER NOT NULL,          -- records/trials on the page
    new_items INTEGER NOT NULL,      -- of which the registry had never seen
    problems INTEGER NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, seq)
);
