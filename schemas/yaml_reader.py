"""Reading YAML written by people: a bounded loader and a strict walker with key paths.

``load_yaml`` refuses what ``yaml.safe_load`` would happily build: an alias-expansion bomb
("billion laughs": nested anchors each used several times, a few hundred bytes that stand
for billions of nodes) or a recursive alias. PyYAML shares aliased objects, so building
the bomb is cheap; what explodes is the first walk over it (an error message's repr of a
value, a comparison, a JSON dump). The loader counts the expanded size of the node graph
before building any Python object, with one visit per distinct node, so the check costs
what the file costs, and a file over the bound is refused in milliseconds, naming the file.

:class:`YamlReader` walks the parsed data, remembering the key path
(``outcomes[1].units.g/dL``) so that every error names the file, the key and what is wrong.
"""

from __future__ import annotations

import math
import reprlib
from pathlib import Path
from typing import Any

import yaml

from ingest.errors import InputError

# A protocol holds a few hundred nodes; 100,000 leaves room for any real review while a
# billion-laughs file (9 levels of 9 aliases = 387 million nodes) is refused at once.
MAX_NODES = 100_000
MAX_BYTES = 1_000_000  # a protocol file of a megabyte is already a mistake
_SHOW = reprlib.Repr()
_SHOW.maxstring, _SHOW.maxother, _SHOW.maxlist, _SHOW.maxdict = 80, 80, 6, 6


def show(value: Any) -> str:
    """A short repr of a parsed value for error messages (never the whole structure)."""
    return _SHOW.repr(value)


def _expanded_size(node: yaml.Node, file: Path, limit: int) -> int:
    """Nodes ``node`` stands for once every alias is expanded (stops counting past limit)."""
    memo: dict[int, int] = {}
    active: set[int] = set()

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in memo:
            return memo[key]
        if key in active:
            raise InputError(f"{file}: a YAML alias refers to itself (recursive anchor)")
        active.add(key)
        total = 1
        if isinstance(n, yaml.SequenceNode):
            for child in n.value:
                total += size(child)
                if total > limit:
                    break
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                total += size(k) + size(v)
                if total > limit:
                    break
        active.discard(key)
        memo[key] = total
        return total

    return size(node)


def load_yaml(file: Path, text: str | None = None, *, max_nodes: int = MAX_NODES) -> Any:
    """Parse ``file`` (or ``text`` standing for it) safely, within the bounds above.

    Raises InputError naming the file for invalid YAML, a file over ``MAX_BYTES``, a
    recursive alias, or aliases expanding to more than ``max_nodes`` nodes.
    """
    if text is None:
        if file.stat().st_size > MAX_BYTES:
            raise InputError(f"{file}: {file.stat().st_size} bytes; a protocol file may "
                             f"hold at most {MAX_BYTES}")
        text = file.read_text(encoding="utf-8")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        n = _expanded_size(node, file, max_nodes)
        if n > max_nodes:
            raise InputError(
                f"{file}: YAML anchors and aliases expand to more than {max_nodes:,} values "
                "(an alias-expansion bomb?); write the values out instead of nesting aliases"
            )
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise InputError(f"{file}: not valid YAML: {exc}") from exc
    except RecursionError:
        raise InputError(f"{file}: YAML nested too deeply") from None
    finally:
        loader.dispose()


def join_path(path: str, key: str | int) -> str:
    """``outcomes`` + 1 -> ``outcomes[1]``; ``outcomes[1]`` + ``unit`` -> ``outcomes[1].unit``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class YamlReader:
    """Walks the parsed YAML, remembering the key path for error messages."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def unique(self, ids: list[str], path: str) -> None:
        """Refuse a repeated id in the list at ``path``."""
        seen: set[str] = set()
        for i, x in enumerate(ids):
            if x in seen:
                raise self.fail(f"{path}[{i}].id", f"duplicate id {x!r}")
            seen.add(x)

    def fail(self, path: str, what: str) -> InputError:
        return InputError(f"{self.file}: {path or '<top>'}: {what}")

    def mapping(self, value: Any, path: str, allowed: set[str], required: set[str]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping, got {type(value).__name__} {show(value)}")
        for k in value:
            if not isinstance(k, str):
                raise self.fail(path, f"key {show(k)} must be a string")
            if k not in allowed:
                raise self.fail(
                    join_path(path, k), f"unknown key (allowed: {', '.join(sorted(allowed))})"
                )
        for k in sorted(required):
            if k not in value or value[k] is None:
                raise self.fail(join_path(path, k), "required key is missing")
        return value

    def string(self, value: Any, path: str, *, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(path, f"expected text, got {show(value)}")
        text = str(value).strip()
        if not text and not optional:
            raise self.fail(path, "must not be empty")
        return text or None

    def ident(self, value: Any, path: str) -> str:
        text = self.string(value, path)
        assert text is not None
        if not all(ch.isalnum() or ch in "_-" for ch in text):
            raise self.fail(path, f"id {text!r} may hold only letters, digits, '_' and '-'")
        return text

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"expected true or false, got {show(value)}")
        return value

    def number(self, value: Any, path: str, *, optional: bool = False) -> float | None:
        if value is None and optional:
            return None
        if isinstance(value, str):
            try:  # YAML 1.1 reads 1.0e7 as a float but 1e7 as a string
                value = float(value)
            except ValueError:
                raise self.fail(path, f"expected a number, got {show(value)}") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.fail(path, f"expected a number, got {show(value)}")
        return float(value)

    def integer(self, value: Any, path: str, *, optional: bool = False) -> int | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(path, f"expected a whole number >= 0, got {show(value)}")
        return value

    def choice(self, value: Any, path: str, choices: tuple[str, ...]) -> str:
        text = self.string(value, path)
        if text not in choices:
            raise self.fail(path, f"{text!r} is not one of {', '.join(choices)}")
        assert text is not None
        return text

    def seq(self, value: Any, path: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list, got {show(value)}")
        return value

    def strings(self, value: Any, path: str) -> tuple[str, ...]:
        out = []
        for i, v in enumerate(self.seq(value, path)):
            s = self.string(v, f"{path}[{i}]")
            assert s is not None
            out.append(s)
        return tuple(out)
