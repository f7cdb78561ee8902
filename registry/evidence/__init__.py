"""The evidence layer: what the protocol asks to analyse, the results, GRADE, changes.

Pure computation on the curated data the store hands over; nothing here formats a report
(that is :mod:`reports.assemble`) or touches the database (the store is read by the caller).

- :mod:`.plan` runs the protocol's analysis plan (outcome × time point, subgroup sets,
  sensitivity analyses) through :mod:`registry.pooling`;
- :mod:`.results` turns fitted models into the rows a report version stores;
- :mod:`.grade` suggests the GRADE domains the data can speak to;
- :mod:`.whatsnew` compares two report versions;
- :mod:`.versions` gives a version its identity (data hash, label, predecessor).
"""
