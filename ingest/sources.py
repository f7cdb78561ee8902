"""One vocabulary of source (database) names, with the aliases teams actually type.

Records, runs and PRISMA boxes are keyed by the canonical name, so ``wos``,
``Web of Science`` and ``web_of_science`` count as one source. :func:`canonical_source`
maps any spelling (case, spaces, hyphens and dots ignored) to it and refuses a name it
does not know with the list of known ones. Canonical names follow the bundled protocols
(``web_of_science``, ``cochrane_central``).
"""

from __future__ import annotations

import re

from ingest.errors import InputError

# canonical name -> aliases (written in the folded form: lower case, "_" for separators)
SOURCES: dict[str, tuple[str, ...]] = {
    "pubmed": ("medline", "pubmed_medline", "ncbi_pubmed", "nlm"),
    "embase": ("embase_com", "ovid_embase", "elsevier_embase"),
    "web_of_science": ("wos", "webofscience", "web_of_knowledge", "wok", "wos_core_collection",
                       "clarivate"),
    "cochrane_central": ("central", "cochrane", "cochrane_library", "cochranelibrary",
                         "cochrane_central_register_of_controlled_trials"),
    "scopus": (),
    "cinahl": ("cinahl_plus", "ebsco_cinahl"),
    "psycinfo": ("apa_psycinfo",),
    "lilacs": (),
    "cnki": ("china_national_knowledge_infrastructure",),
    "wanfang": ("wanfang_data",),
    "vip": ("cqvip", "vip_database"),
    "cbm": ("sinomed", "chinese_biomedical_literature_database"),
    "google_scholar": ("scholar", "googlescholar"),
    "europepmc": ("europe_pmc", "epmc"),
    "clinicaltrials_gov": ("clinicaltrials", "ctgov", "ct_gov", "clinical_trials_gov"),
    "ictrp": ("who_ictrp",),
    "crossref": (),
    "other": ("hand_search", "handsearch", "reference_lists", "citation_search"),
}
_FOLD = re.compile(r"[\s.\-/]+")
_LOOKUP: dict[str, str] = {
    alias: name for name, aliases in SOURCES.items() for alias in (name, *aliases)
}


def fold(name: str) -> str:
    """Case, spaces, hyphens, dots and slashes ignored: "Web of Science" -> "web_of_science"."""
    return _FOLD.sub("_", name.strip().casefold()).strip("_")


def canonical_source(name: str, *, where: str | None = None) -> str:
    """The canonical source name for ``name``; InputError naming ``where`` if unknown."""
    key = _LOOKUP.get(fold(name))
    if key is None:
        at = f"{where}: " if where else ""
        raise InputError(
            f"{at}unknown source {name!r}; use one of {', '.join(SOURCES)} "
            "(aliases such as wos, central, ctgov are accepted)"
        )
    return key
