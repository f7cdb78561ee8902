"""Review protocols: one ``protocol.yaml`` per review folder, loaded into frozen dataclasses.

The loader is strict on purpose: an unknown key (a typo such as ``plausible_rnage``) or a
value of the wrong kind raises :class:`ingest.errors.InputError` naming the file, the key
path (``outcomes[1].units.g/dL``) and what is wrong, so that a protocol never silently loses
a setting. Every other part of the registry reads review-specific choices from here, which is
what lets a new review fit through with no code change.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.errors import InputError
from schemas.values import is_missing
from schemas.yaml_reader import YamlReader, load_yaml

OUTCOME_KINDS = ("continuous", "dichotomous")
DIRECTIONS = ("lower_is_better", "higher_is_better")
MEASURES = ("MD", "SMD", "RR", "OR", "RD")
CHAR_TYPES = ("category", "number", "text")
PRESETS = ("revman5", "cochrane2025")
DESIGNS = ("RCT", "nRCT", "cohort", "case-control", "unclear")
GRADE_DOMAINS = {
    "risk_of_bias": ("not_serious", "serious", "very_serious"),
    "inconsistency": ("not_serious", "serious", "very_serious"),
    "indirectness": ("not_serious", "serious", "very_serious"),
    "imprecision": ("not_serious", "serious", "very_serious"),
    "publication_bias": ("undetected", "strongly_suspected"),
}
# a review name: it becomes a folder name (data/reviews/<name>, <out>/<name>)
SLUG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
REPO_ROOT = Path(__file__).resolve().parent.parent
REVIEWS_DIR = REPO_ROOT / "data" / "reviews"


def reviews_dir() -> Path:
    """Folder holding one sub-folder per review: ``REGISTRY_REVIEWS``, else ``data/reviews``
    in the working directory when there is one (a team's own checkout), else the bundled one."""
    env = os.environ.get("REGISTRY_REVIEWS")
    if env:
        return Path(env)
    local = Path.cwd() / "data" / "reviews"
    return local if local.is_dir() else REVIEWS_DIR


# Subgroups may group by a characteristic or by these built-in study/analysis attributes.
BUILTIN_SUBGROUP_KEYS = ("time_point", "design_assessed", "is_rct", "rob_overall", "country")


# --------------------------------------------------------------------------------------
# dataclasses
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    """PICOS of the review."""

    population: str = ""
    intervention: str = ""
    comparison: str = ""
    outcomes: str = ""
    study_designs: str = "RCT"

    @property
    def rct_only(self) -> bool:
        """True when the protocol admits randomised trials only."""
        text = self.study_designs.lower()
        randomised = "rct" in text or ("randomi" in text and "trial" in text)
        wider = ("nrct", "non", "quasi", "observational", "cohort", "case-control", "alternat")
        return randomised and not any(w in text for w in wider)


@dataclass(frozen=True)
class SavedSearch:
    """A saved query for one bibliographic source."""

    source: str
    query: str
    live: bool = True  # only live pubmed searches are run by the registry itself
    notes: str = ""
    condition: str = ""  # clinicaltrials: query.cond (the query itself goes to query.term)
    intervention: str = ""  # clinicaltrials: query.intr


_SEARCH_TEXT = ("notes", "condition", "intervention")  # optional text keys of a search


@dataclass(frozen=True)
class ExclusionReason:
    """A reason for excluding a full text (also a PRISMA box)."""

    id: str
    label: str


@dataclass(frozen=True)
class Eligibility:
    """Inclusion criteria and the closed list of exclusion reasons."""

    inclusion: tuple[str, ...] = ()
    exclusion_reasons: tuple[ExclusionReason, ...] = ()

    def reason(self, reason_id: str) -> ExclusionReason | None:
        """The exclusion reason with this id, or None."""
        return next((r for r in self.exclusion_reasons if r.id == reason_id), None)


@dataclass(frozen=True)
class ScreeningSettings:
    """Ranking hints and the dual-review switch."""

    keywords: tuple[str, ...] = ()
    mesh: tuple[str, ...] = ()
    dual_review: bool = False
    exclude_keywords: tuple[str, ...] = ()  # highlighted in `screen next` as exclusion signs


@dataclass(frozen=True)
class Characteristic:
    """A review-specific study column of the studies sheet."""

    id: str
    type: str  # category | number | text
    levels: tuple[str, ...] = ()
    unit: str | None = None
    label: str | None = None
    plausible_range: tuple[float, float] | None = None  # number type: catches 10x typos


@dataclass(frozen=True)
class Outcome:
    """An outcome the review analyses, with its canonical unit and accepted units."""

    id: str
    name: str
    kind: str  # continuous | dichotomous
    measure: str
    unit: str | None = None
    units: Mapping[str, float] = field(default_factory=dict)
    direction: str = "lower_is_better"
    plausible_range: tuple[float, float] | None = None
    primary: bool = False

    def factor(self, unit: str | None) -> float:
        """Multiplier turning a value in ``unit`` into the canonical unit.

        An empty unit means the canonical one. Raises KeyError for a unit the protocol
        does not accept (callers report it as a validation problem).
        """
        if unit is None or unit == "" or unit == self.unit:
            return 1.0
        return float(self.units[unit])

    def knows_unit(self, unit: str | None) -> bool:
        """True when ``unit`` is the canonical unit, empty, or an accepted unit."""
        return unit is None or unit == "" or unit == self.unit or unit in self.units

    def to_canonical(self, value: float, unit: str | None) -> float:
        """``value`` expressed in the canonical unit."""
        return value * self.factor(unit)


@dataclass(frozen=True)
class TimePoint:
    """An analysis time point: outcome rows whose ``time_weeks`` fall in ``window`` belong."""

    id: str
    label: str
    weeks: float
    window: tuple[float, float]

    def contains(self, weeks: float) -> bool:
        """True when ``weeks`` lies inside the (closed) window."""
        return self.window[0] <= weeks <= self.window[1]


@dataclass(frozen=True)
class Band:
    """One band of a numeric subgroup: ``min <= x < max`` (open ends allowed)."""

    label: str
    min: float | None = None
    max: float | None = None

    def contains(self, x: float) -> bool:
        """True when ``x`` falls in the band."""
        return (self.min is None or x >= self.min) and (self.max is None or x < self.max)


@dataclass(frozen=True)
class SubgroupSet:
    """A subgroup analysis: group studies by a characteristic (or built-in key)."""

    id: str
    label: str
    by: str
    bands: tuple[Band, ...] = ()

    def band_of(self, x: float | None) -> str | None:
        """Label of the band containing ``x`` (None if ``x`` is missing or in no band)."""
        if is_missing(x):
            return None
        for b in self.bands:
            if b.contains(x):
                return b.label
        return None


@dataclass(frozen=True)
class AnalysisSettings:
    """Which preset the pooling uses and which sensitivity analyses run."""

    preset: str = "revman5"
    rct_only_sensitivity: bool = True
    low_rob_sensitivity: bool = True


@dataclass(frozen=True)
class PreviousReview:
    """The review this one updates: the 'previous studies' arm of an updated PRISMA flow."""

    citation: str
    doi: str | None = None
    search_date: str | None = None
    studies_included: int | None = None
    reports_included: int | None = None
    prisma: Mapping[str, Any] = field(default_factory=dict)
    prisma_source: str | None = None


@dataclass(frozen=True)
class Protocol:
    """A whole review protocol."""

    review: str
    title: str
    path: Path
    example: bool = False
    registration: str | None = None
    question: Question = field(default_factory=Question)
    searches: tuple[SavedSearch, ...] = ()
    eligibility: Eligibility = field(default_factory=Eligibility)
    screening: ScreeningSettings = field(default_factory=ScreeningSettings)
    characteristics: tuple[Characteristic, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    time_points: tuple[TimePoint, ...] = ()
    subgroups: tuple[SubgroupSet, ...] = ()
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    grade: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    previous_review: PreviousReview | None = None
    notes: str = ""

    @property
    def folder(self) -> Path:
        """The review folder holding protocol.yaml."""
        return self.path.parent

    @property
    def preset(self) -> str:
        """Name of the pooling preset."""
        return self.analysis.preset

    def outcome(self, outcome_id: str) -> Outcome:
        """The outcome with this id (InputError if the protocol has none)."""
        for o in self.outcomes:
            if o.id == outcome_id:
                return o
        raise InputError(f"{self.path}: review {self.review!r} has no outcome {outcome_id!r}")

    def characteristic(self, char_id: str) -> Characteristic | None:
        """The characteristic with this id, or None."""
        return next((c for c in self.characteristics if c.id == char_id), None)

    def time_point(self, tp_id: str) -> TimePoint:
        """The time point with this id (InputError if unknown)."""
        for t in self.time_points:
            if t.id == tp_id:
                return t
        raise InputError(f"{self.path}: review {self.review!r} has no time point {tp_id!r}")

    def time_point_for(self, weeks: float) -> TimePoint | None:
        """The first protocol time point whose window holds ``weeks``."""
        return next((t for t in self.time_points if t.contains(weeks)), None)


# --------------------------------------------------------------------------------------
# loader
# --------------------------------------------------------------------------------------
def _question(r: YamlReader, v: Any) -> Question:
    keys = {"population", "intervention", "comparison", "outcomes", "study_designs"}
    m = r.mapping(v, "question", keys, set())
    return Question(**{k: r.string(m[k], f"question.{k}") or "" for k in m})


def _searches(r: YamlReader, v: Any) -> tuple[SavedSearch, ...]:
    out = []
    for i, item in enumerate(r.seq(v, "searches")):
        p = f"searches[{i}]"
        m = r.mapping(item, p, {"source", "query", "live", *_SEARCH_TEXT}, {"source", "query"})
        source = r.ident(m["source"], f"{p}.source").lower()
        live = r.boolean(m["live"], f"{p}.live") if "live" in m else source == "pubmed"
        text = {k: r.string(m.get(k), f"{p}.{k}", optional=True) or "" for k in _SEARCH_TEXT}
        query = r.string(m["query"], f"{p}.query") or ""
        out.append(SavedSearch(source=source, query=query, live=live, **text))
    return tuple(out)


def _eligibility(r: YamlReader, v: Any) -> Eligibility:
    m = r.mapping(v, "eligibility", {"inclusion", "exclusion_reasons"}, set())
    reasons = []
    for i, item in enumerate(r.seq(m.get("exclusion_reasons"), "eligibility.exclusion_reasons")):
        p = f"eligibility.exclusion_reasons[{i}]"
        rm = r.mapping(item, p, {"id", "label"}, {"id", "label"})
        reasons.append(
            ExclusionReason(r.ident(rm["id"], f"{p}.id"), r.string(rm["label"], f"{p}.label") or "")
        )
    r.unique([x.id for x in reasons], "eligibility.exclusion_reasons")
    return Eligibility(
        inclusion=r.strings(m.get("inclusion"), "eligibility.inclusion"),
        exclusion_reasons=tuple(reasons),
    )


def _screening(r: YamlReader, v: Any) -> ScreeningSettings:
    m = r.mapping(v, "screening", {"keywords", "mesh", "dual_review", "exclude_keywords"}, set())
    return ScreeningSettings(
        keywords=r.strings(m.get("keywords"), "screening.keywords"),
        exclude_keywords=r.strings(m.get("exclude_keywords"), "screening.exclude_keywords"),
        mesh=r.strings(m.get("mesh"), "screening.mesh"),
        dual_review=r.boolean(m["dual_review"], "screening.dual_review")
        if "dual_review" in m
        else False,
    )


def _range(r: YamlReader, v: Any, path: str) -> tuple[float, float] | None:
    if v is None:
        return None
    seq = r.seq(v, path)
    if len(seq) != 2:
        raise r.fail(path, "expected [low, high]")
    lo, hi = r.number(seq[0], f"{path}[0]"), r.number(seq[1], f"{path}[1]")
    assert lo is not None and hi is not None
    if lo >= hi:
        raise r.fail(path, f"low {lo} must be below high {hi}")
    return (lo, hi)


def _characteristics(r: YamlReader, v: Any) -> tuple[Characteristic, ...]:
    out = []
    for i, item in enumerate(r.seq(v, "characteristics")):
        p = f"characteristics[{i}]"
        m = r.mapping(
            item, p, {"id", "type", "levels", "unit", "label", "plausible_range"}, {"id", "type"}
        )
        ctype = r.choice(m["type"], f"{p}.type", CHAR_TYPES)
        levels = r.strings(m.get("levels"), f"{p}.levels")
        if ctype == "category" and not levels:
            raise r.fail(f"{p}.levels", "a category characteristic needs its list of levels")
        if ctype != "category" and levels:
            raise r.fail(f"{p}.levels", f"levels only apply to type category, not {ctype}")
        rng = _range(r, m.get("plausible_range"), f"{p}.plausible_range")
        if rng is not None and ctype != "number":
            raise r.fail(
                f"{p}.plausible_range", f"a range only applies to type number, not {ctype}"
            )
        out.append(
            Characteristic(
                id=r.ident(m["id"], f"{p}.id"),
                type=ctype,
                levels=levels,
                unit=r.string(m.get("unit"), f"{p}.unit", optional=True),
                label=r.string(m.get("label"), f"{p}.label", optional=True),
                plausible_range=rng,
            )
        )
    r.unique([c.id for c in out], "characteristics")
    return tuple(out)


def _outcomes(r: YamlReader, v: Any) -> tuple[Outcome, ...]:
    out = []
    allowed = {
        "id",
        "name",
        "kind",
        "unit",
        "units",
        "direction",
        "plausible_range",
        "primary",
        "measure",
        "label",
        "notes",
    }
    for i, item in enumerate(r.seq(v, "outcomes")):
        p = f"outcomes[{i}]"
        m = r.mapping(item, p, allowed, {"id", "name", "kind"})
        kind = r.choice(m["kind"], f"{p}.kind", OUTCOME_KINDS)
        default_measure = "MD" if kind == "continuous" else "RR"
        measure = r.choice(m.get("measure", default_measure), f"{p}.measure", MEASURES)
        if kind == "continuous" and measure not in ("MD", "SMD"):
            raise r.fail(f"{p}.measure", f"{measure} is not a measure for a continuous outcome")
        if kind == "dichotomous" and measure not in ("RR", "OR", "RD"):
            raise r.fail(f"{p}.measure", f"{measure} is not a measure for a dichotomous outcome")
        unit = r.string(m.get("unit"), f"{p}.unit", optional=True)
        if kind == "continuous" and unit is None:
            raise r.fail(f"{p}.unit", "a continuous outcome needs its canonical unit")
        units: dict[str, float] = {}
        raw_units = m.get("units") or {}
        if not isinstance(raw_units, dict):
            raise r.fail(f"{p}.units", f"expected a mapping unit -> factor, got {raw_units!r}")
        for uk, uv in raw_units.items():
            f = r.number(uv, f"{p}.units.{uk}")
            assert f is not None
            if f <= 0:
                raise r.fail(f"{p}.units.{uk}", f"conversion factor must be > 0, got {uv!r}")
            units[str(uk)] = f
        if unit is not None:
            if unit in units and units[unit] != 1:
                raise r.fail(f"{p}.units.{unit}", "the canonical unit must have factor 1")
            units.setdefault(unit, 1.0)
        rng = _range(r, m.get("plausible_range"), f"{p}.plausible_range")
        out.append(
            Outcome(
                id=r.ident(m["id"], f"{p}.id"),
                name=r.string(m["name"], f"{p}.name") or "",
                kind=kind,
                measure=measure,
                unit=unit,
                units=units,
                direction=r.choice(
                    m.get("direction", "higher_is_better"), f"{p}.direction", DIRECTIONS
                ),
                plausible_range=rng,
                primary=r.boolean(m["primary"], f"{p}.primary") if "primary" in m else False,
            )
        )
    r.unique([o.id for o in out], "outcomes")
    return tuple(out)


def _time_points(r: YamlReader, v: Any) -> tuple[TimePoint, ...]:
    out = []
    for i, item in enumerate(r.seq(v, "time_points")):
        p = f"time_points[{i}]"
        m = r.mapping(item, p, {"id", "label", "weeks", "window"}, {"id", "label", "weeks"})
        weeks = r.number(m["weeks"], f"{p}.weeks")
        assert weeks is not None
        if weeks < 0:
            raise r.fail(f"{p}.weeks", f"must be >= 0, got {weeks}")
        window = (weeks, weeks)
        if m.get("window") is not None:
            seq = r.seq(m["window"], f"{p}.window")
            if len(seq) != 2:
                raise r.fail(f"{p}.window", "expected [from_weeks, to_weeks]")
            lo = r.number(seq[0], f"{p}.window[0]")
            hi = r.number(seq[1], f"{p}.window[1]")
            assert lo is not None and hi is not None
            if not lo <= weeks <= hi:
                raise r.fail(f"{p}.window", f"window [{lo}, {hi}] must contain weeks {weeks}")
            window = (lo, hi)
        out.append(
            TimePoint(
                r.ident(m["id"], f"{p}.id"), r.string(m["label"], f"{p}.label") or "", weeks, window
            )
        )
    r.unique([t.id for t in out], "time_points")
    ordered = sorted(out, key=lambda t: t.window[0])
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.window[0] <= a.window[1]:
            raise r.fail("time_points", f"windows of {a.id!r} and {b.id!r} overlap")
    return tuple(out)


def _subgroups(r: YamlReader, v: Any, chars: tuple[Characteristic, ...]) -> tuple[SubgroupSet, ...]:
    out = []
    by_ok = {c.id: c for c in chars}
    for i, item in enumerate(r.seq(v, "subgroups")):
        p = f"subgroups[{i}]"
        m = r.mapping(item, p, {"id", "label", "by", "bands"}, {"id", "by"})
        by = r.ident(m["by"], f"{p}.by")
        if by not in by_ok and by not in BUILTIN_SUBGROUP_KEYS:
            raise r.fail(
                f"{p}.by",
                f"{by!r} is neither a characteristic ({', '.join(by_ok) or 'none'}) nor one of "
                f"{', '.join(BUILTIN_SUBGROUP_KEYS)}",
            )
        bands = []
        for j, bitem in enumerate(r.seq(m.get("bands"), f"{p}.bands")):
            bp = f"{p}.bands[{j}]"
            bm = r.mapping(bitem, bp, {"label", "min", "max"}, {"label"})
            lo = r.number(bm.get("min"), f"{bp}.min", optional=True)
            hi = r.number(bm.get("max"), f"{bp}.max", optional=True)
            if lo is None and hi is None:
                raise r.fail(bp, "a band needs min, max or both")
            if lo is not None and hi is not None and lo >= hi:
                raise r.fail(bp, f"min {lo} must be below max {hi}")
            bands.append(Band(r.string(bm["label"], f"{bp}.label") or "", lo, hi))
        if bands and (by not in by_ok or by_ok[by].type != "number"):
            raise r.fail(f"{p}.bands", f"bands need a number characteristic, {by!r} is not one")
        out.append(
            SubgroupSet(
                id=r.ident(m["id"], f"{p}.id"),
                label=r.string(m.get("label", m["id"]), f"{p}.label") or "",
                by=by,
                bands=tuple(bands),
            )
        )
    r.unique([s.id for s in out], "subgroups")
    return tuple(out)


def _analysis(r: YamlReader, v: Any) -> AnalysisSettings:
    m = r.mapping(v, "analysis", {"preset", "rct_only_sensitivity", "low_rob_sensitivity"}, set())
    return AnalysisSettings(
        preset=r.choice(m.get("preset", "revman5"), "analysis.preset", PRESETS),
        rct_only_sensitivity=r.boolean(
            m.get("rct_only_sensitivity", True), "analysis.rct_only_sensitivity"
        ),
        low_rob_sensitivity=r.boolean(
            m.get("low_rob_sensitivity", True), "analysis.low_rob_sensitivity"
        ),
    )


def _grade(r: YamlReader, v: Any, outcomes: tuple[Outcome, ...]) -> dict[str, dict[str, str]]:
    if v is None:
        return {}
    ids = {o.id for o in outcomes}
    m = r.mapping(v, "grade", ids, set())
    out: dict[str, dict[str, str]] = {}
    for oid, domains in m.items():
        dm = r.mapping(domains, f"grade.{oid}", set(GRADE_DOMAINS), set())
        out[oid] = {d: r.choice(val, f"grade.{oid}.{d}", GRADE_DOMAINS[d]) for d, val in dm.items()}
    return out


def _previous(r: YamlReader, v: Any) -> PreviousReview | None:
    if v is None:
        return None
    keys = {
        "citation",
        "doi",
        "search_date",
        "studies_included",
        "reports_included",
        "prisma",
        "prisma_source",
    }
    m = r.mapping(v, "previous_review", keys, {"citation"})
    prisma = m.get("prisma") or {}
    if not isinstance(prisma, dict):
        raise r.fail("previous_review.prisma", f"expected a mapping of counts, got {prisma!r}")

    def counts(d: dict, path: str) -> dict:
        res: dict[str, Any] = {}
        for k, val in d.items():
            if isinstance(val, dict):
                res[str(k)] = counts(val, f"{path}.{k}")
            else:
                res[str(k)] = r.integer(val, f"{path}.{k}", optional=True)
        return res

    return PreviousReview(
        citation=r.string(m["citation"], "previous_review.citation") or "",
        doi=r.string(m.get("doi"), "previous_review.doi", optional=True),
        search_date=r.string(m.get("search_date"), "previous_review.search_date", optional=True),
        studies_included=r.integer(
            m.get("studies_included"), "previous_review.studies_included", optional=True
        ),
        reports_included=r.integer(
            m.get("reports_included"), "previous_review.reports_included", optional=True
        ),
        prisma=counts(prisma, "previous_review.prisma"),
        prisma_source=r.string(
            m.get("prisma_source"), "previous_review.prisma_source", optional=True
        ),
    )


TOP_KEYS = {
    "review",
    "title",
    "example",
    "registration",
    "question",
    "searches",
    "eligibility",
    "screening",
    "characteristics",
    "outcomes",
    "time_points",
    "subgroups",
    "analysis",
    "grade",
    "previous_review",
    "notes",
}


def review_slug(name: str) -> str:
    """``name`` if it is a review slug, else InputError.

    A review name becomes a folder (``data/reviews/<name>``, ``--out/<name>``), so it may
    hold only ASCII letters, digits, '-' and '_': never '/', '..' or an absolute path that
    would lead a report or a template outside its folder.
    """
    if not isinstance(name, str) or not SLUG_RE.fullmatch(name):
        raise InputError(
            f"review name {name!r} is not allowed: a review name is a folder name of at most "
            "64 letters, digits, '-' and '_' (no '/', '..' or path)"
        )
    return name


def protocol_path(review: str | Path) -> Path:
    """The protocol.yaml of a review.

    A ``str`` is a review name (what users type): it must be a slug (:func:`review_slug`)
    and names a folder under :func:`reviews_dir`. A ``Path`` (code and tests only) is a
    review folder or a protocol file.
    """
    if isinstance(review, Path):
        return review if review.suffix in (".yaml", ".yml") else review / "protocol.yaml"
    return reviews_dir() / review_slug(review) / "protocol.yaml"


def parse_protocol(data: Any, file: Path) -> Protocol:
    """Build a Protocol from parsed YAML (``file`` only names the source in errors)."""
    r = YamlReader(file)
    m = r.mapping(data, "", TOP_KEYS, {"review", "title", "outcomes"})
    review = r.ident(m["review"], "review")
    if file.name == "protocol.yaml" and file.parent.name != review:
        raise r.fail("review", f"{review!r} must equal the folder name {file.parent.name!r}")
    chars = _characteristics(r, m.get("characteristics"))
    outcomes = _outcomes(r, m.get("outcomes"))
    if not outcomes:
        raise r.fail("outcomes", "the protocol names no outcome")
    return Protocol(
        review=review,
        title=r.string(m["title"], "title") or "",
        path=file,
        example=r.boolean(m["example"], "example") if "example" in m else False,
        registration=r.string(m.get("registration"), "registration", optional=True),
        question=_question(r, m["question"]) if "question" in m else Question(),
        searches=_searches(r, m.get("searches")),
        eligibility=_eligibility(r, m["eligibility"]) if "eligibility" in m else Eligibility(),
        screening=_screening(r, m["screening"]) if "screening" in m else ScreeningSettings(),
        characteristics=chars,
        outcomes=outcomes,
        time_points=_time_points(r, m.get("time_points")),
        subgroups=_subgroups(r, m.get("subgroups"), chars),
        analysis=_analysis(r, m["analysis"]) if "analysis" in m else AnalysisSettings(),
        grade=_grade(r, m.get("grade"), outcomes),
        previous_review=_previous(r, m.get("previous_review")),
        notes=r.string(m.get("notes"), "notes", optional=True) or "",
    )


def load_protocol(review: str | Path) -> Protocol:
    """Load and validate a protocol by review name (a slug), review folder or file path.

    Raises InputError naming the file and key path for a name that is not a slug, a missing
    file, bad YAML, an alias-expansion bomb, unknown keys or values of the wrong kind.
    """
    file = protocol_path(review)
    if not file.is_file():
        raise InputError(
            f"{file}: no protocol file (known reviews: {', '.join(list_reviews()) or 'none'})"
        )
    return parse_protocol(load_yaml(file), file)


def list_reviews() -> list[str]:
    """Names of the review folders (those holding a protocol.yaml), sorted."""
    root = reviews_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "protocol.yaml").is_file())


def default_review(review: str | None = None, known: list[str] | None = None) -> str:
    """The review a command works on when ``--review`` is not given.

    ``review`` if given; else ``REGISTRY_REVIEW``; else the only review folder; else the only
    review that is not an example (``example: false``). Decided from the data, not the code.
    """
    if review:
        return review_slug(review)
    env = os.environ.get("REGISTRY_REVIEW")
    if env:
        return review_slug(env)
    names = known if known is not None else list_reviews()
    if len(names) == 1:
        return names[0]
    real = [n for n in names if not _is_example(n)]
    if len(real) == 1:
        return real[0]
    raise InputError(f"give --review (reviews: {', '.join(names) or 'none'})")


def _is_example(name: str) -> bool:
    try:
        return load_protocol(name).example
    except InputError:
        return False
