"""``registry screen next``: an interactive terminal loop over the ranked queue.

Each record is shown in a Rich panel (title, journal/year, identifiers, score breakdown,
abstract); the curator types a key — i(nclude), e(xclude), m(aybe), s(kip), q(uit), and at
full text n(ot retrieved) — optionally followed by a note (``e animal study``). A full-text
exclusion asks for the reason from the protocol's numbered list; a full-text inclusion
asks which study the report belongs to. Every decision is saved at once, so quitting (or
a closed input) loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from registry.config import curator
from registry.screening.config import ScreeningConfig, screening_config, stage_name
from registry.screening.learning import batch_size
from registry.screening.state import (
    QueueItem,
    ReviewView,
    build_queue,
    load_view,
    record_decision,
    resolve_review,
    review_ranker,
)

if TYPE_CHECKING:
    from registry.store import Store

KEYS = {"i": "include", "e": "exclude", "m": "maybe", "n": "not_retrieved"}


@dataclass(frozen=True)
class SessionResult:
    """What a screening session did."""

    decided: int
    skipped: int
    remaining: int  # still queued for this reviewer when the session ended

    def line(self) -> str:
        """One-line summary for the CLI."""
        return (
            f"{self.decided} decided, {self.skipped} skipped, "
            f"{self.remaining} still waiting in the queue"
        )


def screen_console() -> Console:
    """The console record text is printed through: it wraps (never crops) at any width.

    The CLI's shared console is built with ``soft_wrap=True`` so messages stay one line
    for scripts; inside a panel that would crop a title or abstract at the edge. Not a
    terminal: Rich's default width (80, or $COLUMNS) and plain text.
    """
    return Console(markup=False, highlight=False, soft_wrap=False, emoji=False)


def _highlighted(text: str, config: ScreeningConfig, **style: str) -> Text:
    """``text`` as plain Text (never markup) with the protocol's terms highlighted."""
    out = Text(text, overflow="fold", **style)  # fold: a long URL breaks, never vanishes
    include = [k for k in (*config.keywords, *config.mesh) if k.strip()]
    exclude = [k for k in config.exclude_keywords if k.strip()]
    out.highlight_words(include, style="bold green", case_sensitive=False)
    out.highlight_words(exclude, style="bold red", case_sensitive=False)
    return out


def _why(item: QueueItem) -> Text:
    if item.why:
        return Text("ranked high by the model for: " + ", ".join(item.why), style="cyan")
    return Text(f"score {item.score.total}: {item.score.explain()}", style="cyan")


def render(
    item: QueueItem, position: int, total: int, stage: str, config: ScreeningConfig | None = None
) -> Panel:
    """The panel for one record: whole title and abstract, wrapped, protocol terms marked."""
    config = config or ScreeningConfig(review="")
    r = item.record
    where = " · ".join(
        x
        for x in (
            r.get("journal") or "",
            str(r["year"]) if r.get("year") else "",
            f"PMID {r['pmid']}" if r.get("pmid") else "",
            f"doi:{r['doi']}" if r.get("doi") else "",
            f"{r['source']} {r['source_id']}" if r.get("source") != "pubmed" else "",
        )
        if x
    )
    parts: list[Text] = [
        _highlighted(r.get("title") or "(no title)", config, style="bold"),
        Text(where, style="dim", overflow="fold"),
        _why(item),
    ]
    if item.score.retracted:
        parts.append(Text("RETRACTED publication", style="bold red"))
    parts.append(Text(""))
    parts.append(_highlighted(r.get("abstract") or "(no abstract)", config))
    return Panel(
        Group(*parts),
        title=f"{stage} · {position}/{total} · record {r['record_id']}",
        title_align="left",
    )


def _prompt(stage: str) -> str:
    # Parentheses, not brackets: Rich's Console.input would read "[i]" as italic markup.
    extra = " (n)ot retrieved" if stage == "full_text" else ""
    return f"(i)nclude (e)xclude (m)aybe{extra} (s)kip (q)uit - key, then an optional note > "


def screen_interactively(
    store: Store,
    review: str | None,
    stage: str = "title_abstract",
    *,
    reviewer: str | None = None,
    console: Console | None = None,
    ask: Callable[[str], str] | None = None,
) -> SessionResult:
    """Run the loop until the queue is empty, the curator quits or input ends.

    At title/abstract the model is retrained and the queue re-ranked after every batch of
    decisions (one at a time at first, see :func:`registry.screening.learning.batch_size`);
    the features are built once per session.
    """
    review = resolve_review(store, review)
    stage = stage_name(stage)
    who = reviewer or curator()
    console = console or screen_console()
    ask = ask or console.input
    config = screening_config(review)
    view = load_view(store, review, config)
    ranker = review_ranker(view) if stage == "title_abstract" else None
    items = build_queue(view, stage, reviewer=who, ranker=ranker)
    if not items:
        console.print(f"nothing waiting for {who} at {stage} in {review}")
        return SessionResult(0, 0, 0)
    session = _Session(store, review, stage, who, config, console, ask, len(items))
    while items:
        item = items[0]
        outcome = session.one(item, view)
        if outcome == "quit":
            break
        if outcome == "skip":
            session.passed.add(item.cluster_id)
        items = items[1:]
        if outcome == "decided" and session.since_rank >= batch_size(session.decided):
            view = load_view(store, review, config)
            items = [
                it
                for it in build_queue(view, stage, reviewer=who, ranker=ranker)
                if it.cluster_id not in session.passed
            ]
            session.since_rank = 0
    remaining = len(build_queue(load_view(store, review, config), stage, reviewer=who,
                                ranker=ranker))  # fmt: skip
    result = SessionResult(session.decided, session.skipped, remaining)
    console.print(result.line())
    return result


@dataclass
class _Session:
    """One screener's session: asks for each record's decision and records it."""

    store: Store
    review: str
    stage: str
    who: str
    config: ScreeningConfig
    console: Console
    ask: Callable[[str], str]
    total: int
    decided: int = 0
    skipped: int = 0
    since_rank: int = 0
    passed: set[int] = field(default_factory=set)

    def one(self, item: QueueItem, view: ReviewView) -> str:
        """Show ``item`` and take one key: 'decided', 'skip' or 'quit'."""
        position = self.decided + self.skipped + 1
        self.console.print(render(item, position, self.total, self.stage, self.config))
        while True:
            try:
                line = self.ask(_prompt(self.stage)).strip()
            except EOFError:
                return "quit"
            key, _, note = line.partition(" ")
            key = key.lower()
            if key == "q":
                return "quit"
            if key == "s":
                self.skipped += 1
                return "skip"
            if key not in KEYS or (key == "n" and self.stage != "full_text"):
                self.console.print(f"unknown key {key!r}", style="yellow", markup=False)
                continue
            try:
                extra = self._details(KEYS[key])
            except EOFError:
                return "quit"
            if extra is None:
                continue  # back to the key prompt
            reason, study_id = extra
            record_decision(
                self.store, self.review, self.stage, int(item.record["record_id"]), KEYS[key],
                reviewer=self.who, reason=reason, note=note or None,
                study_id=study_id or None, via="interactive", view=view,
            )  # fmt: skip
            self.decided += 1
            self.since_rank += 1
            self.console.print(
                f"→ {KEYS[key]}" + (f" ({reason})" if reason else ""), style="green", markup=False
            )
            return "decided"

    def _details(self, decision: str) -> tuple[str | None, str | None] | None:
        """Full text asks for the exclusion reason or the study; None: go back."""
        reason = study_id = None
        if decision == "exclude" and self.stage == "full_text":
            reason = _ask_reason(self.config, self.console, self.ask)
            if reason is None:
                return None
        if decision == "include" and self.stage == "full_text":
            try:
                study_id = self.ask("study id this report belongs to (enter to skip) > ").strip()
            except EOFError:
                study_id = ""
        return reason, study_id


def _ask_reason(config: ScreeningConfig, console: Console, ask: Callable[[str], str]) -> str | None:
    """Numbered exclusion reasons; returns the chosen id, None to go back."""
    if not config.reasons:
        console.print("the protocol lists no exclusion reasons", style="red")
        return None
    for n, (rid, label) in enumerate(config.reasons, start=1):
        console.print(f"  {n}. {label} [{rid}]", highlight=False, markup=False)
    while True:
        answer = ask("reason number (enter to go back) > ").strip()
        if not answer:
            return None
        if answer.isdigit() and 1 <= int(answer) <= len(config.reasons):
            return config.reasons[int(answer) - 1][0]
        match = config.match_reason(answer)
        if match:
            return match
        console.print(f"choose 1-{len(config.reasons)}", style="yellow")
