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
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from registry.config import curator
from registry.screening.config import ScreeningConfig, screening_config, stage_name
from registry.screening.state import QueueItem, build_queue, load_view, record_decision

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


def render(item: QueueItem, position: int, total: int, stage: str) -> Panel:
    """The panel for one record. Record text goes in as Text, never as markup."""
    r = item.record
    head = Text(r.get("title") or "(no title)", style="bold")
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
    score = Text(f"score {item.score.total}: {item.score.explain()}", style="cyan")
    parts: list[Text] = [head, Text(where, style="dim"), score]
    if item.score.retracted:
        parts.append(Text("RETRACTED publication", style="bold red"))
    parts.append(Text(""))
    parts.append(Text(r.get("abstract") or "(no abstract)"))
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
    review: str,
    stage: str = "title_abstract",
    *,
    reviewer: str | None = None,
    console: Console | None = None,
    ask: Callable[[str], str] | None = None,
    config: ScreeningConfig | None = None,
) -> SessionResult:
    """Run the loop until the queue is empty, the curator quits or input ends."""
    stage = stage_name(stage)
    who = reviewer or curator()
    console = console or Console()
    ask = ask or console.input
    config = config or screening_config(review)
    view = load_view(store, review, config)
    # The queue is fixed for the session: a decision settles only its own cluster, and the
    # stage prerequisites of the other clusters do not change while screening one stage.
    items = build_queue(view, stage, reviewer=who)
    decided = skipped = 0
    if not items:
        console.print(f"nothing waiting for {who} at {stage} in {review}")
        return SessionResult(0, 0, 0)
    quit_ = False
    for pos, item in enumerate(items, start=1):
        console.print(render(item, pos, len(items), stage))
        while True:
            try:
                line = ask(_prompt(stage)).strip()
            except EOFError:
                quit_ = True
                break
            key, _, note = line.partition(" ")
            key = key.lower()
            if key == "q":
                quit_ = True
                break
            if key == "s":
                skipped += 1
                break
            if key not in KEYS or (key == "n" and stage != "full_text"):
                console.print(f"unknown key {key!r}", style="yellow", markup=False)
                continue
            decision = KEYS[key]
            reason = study_id = None
            if decision == "exclude" and stage == "full_text":
                try:
                    reason = _ask_reason(config, console, ask)
                except EOFError:
                    quit_ = True
                    break
                if reason is None:
                    continue  # back to the key prompt
            if decision == "include" and stage == "full_text":
                try:
                    study_id = ask("study id this report belongs to (enter to skip) > ").strip()
                except EOFError:
                    study_id = ""
            record_decision(
                store,
                review,
                stage,
                int(item.record["record_id"]),
                decision,
                reviewer=who,
                reason=reason,
                note=note or None,
                study_id=study_id or None,
                via="interactive",
                view=view,
            )
            decided += 1
            console.print(
                f"→ {decision}" + (f" ({reason})" if reason else ""), style="green", markup=False
            )
            break
        if quit_:
            break
    remaining = len(build_queue(load_view(store, review, config), stage, reviewer=who))
    result = SessionResult(decided, skipped, remaining)
    console.print(result.line())
    return result


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
