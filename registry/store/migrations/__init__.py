"""Numbered SQL migrations, applied in order on open. Ranges per area:
0001-0009 records & search runs, 0010-0019 dedup, 0020-0029 curation,
0030-0039 screening, 0040-0049 analyses/report versions."""
