"""Bounded reading of untrusted export files: gzip streamed with a compression-ratio
limit, text split into lines of bounded length, decoded block by block.

A hostile file (8 MB of gzip expanding to 8 GiB, one endless line, one endless record)
must end in a clear :class:`InputError` within seconds and bounded memory, never in an
out-of-memory kill. Real exports compress 3-10x (PubMed XML, RIS, MEDLINE text); a ratio
above :data:`MAX_RATIO` is refused once :data:`RATIO_AFTER` bytes have come out, so small
files of any ratio still read.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator
from typing import IO

from ingest.errors import InputError

MAX_RATIO = 100  # decompressed / compressed bytes
RATIO_AFTER = 16 << 20  # only judge the ratio after 16 MiB of output
MAX_LINE = 8 << 20  # bytes in one line of a text export (a RIS abstract is ~10 KB)
MAX_RECORD = 64 << 20  # bytes in one record of a text export
_BLOCK = 1 << 20


class _Counting(io.RawIOBase):
    """A raw file that counts the bytes read from it (the compressed side of a gzip)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def]
        n = self.fh.readinto(buf)  # type: ignore[attr-defined]
        self.count += n or 0
        return n or 0

    def close(self) -> None:
        self.fh.close()
        super().close()


class _GuardedGzip(io.RawIOBase):
    """Gunzips ``raw`` and refuses a compression ratio above :data:`MAX_RATIO`."""

    def __init__(self, raw: IO[bytes], label: str) -> None:
        self.counted = _Counting(raw)
        self.gz = gzip.GzipFile(fileobj=io.BufferedReader(self.counted, _BLOCK))
        self.label = label
        self.out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def]
        # A broken stream raises gzip's own errors: each parser names them in its terms.
        n = self.gz.readinto(buf)
        self.out += n
        if self.out > RATIO_AFTER and self.out > MAX_RATIO * max(self.counted.count, 1):
            raise InputError(
                f"{self.label}: refused: gzip expands more than {MAX_RATIO}x "
                f"({self.counted.count:,} bytes gave {self.out:,} so far): a compression "
                "bomb, not an export"
            )
        return n

    def close(self) -> None:
        self.gz.close()
        self.counted.close()
        super().close()


def open_input(path: str | os.PathLike[str], label: str | None = None) -> IO[bytes]:
    """Open a file for streaming bytes, gunzipped (ratio-guarded) when it is gzip."""
    name = label or os.fspath(path)
    try:
        fh = open(path, "rb", buffering=_BLOCK)  # noqa: SIM115 - returned to the caller
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot open ({exc.strerror or exc})") from None
    if fh.peek(2)[:2] != b"\x1f\x8b":
        return fh
    return io.BufferedReader(_GuardedGzip(fh, name), _BLOCK)


def guard_stream(stream: IO[bytes], label: str) -> IO[bytes]:
    """A gzip stream given as a file object, ratio-guarded like :func:`open_input`."""
    return io.BufferedReader(_GuardedGzip(stream, label), _BLOCK)


def text_blocks(
    fh: IO[bytes], label: str, *, fallback: str | None = None, max_line: int | None = None
) -> Iterator[tuple[int, str]]:
    """``fh`` decoded as UTF-8 in blocks of about a MiB, each as (lines before it, text).

    Every block ends with a line end ("\n"; CRLF and CR are turned into LF) except the
    file's last one when the file does not end with one. A block that is not UTF-8 is
    decoded line by line with ``fallback`` (EndNote on Windows writes cp1252) or, without
    one, refused naming its line. A line longer than ``max_line`` bytes (default
    :data:`MAX_LINE`) is refused: reading it whole is what a hostile file wants. Parsers
    that split records with a regular expression take blocks, not lines: a Python step
    per line was most of what reading a MEDLINE file cost.
    """
    max_line = max_line or MAX_LINE
    carry = b""
    lineno = 0
    first = True
    while True:
        try:
            block = fh.read(_BLOCK)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise InputError(f"{label}: broken gzip file ({exc})") from None
        if not block:
            break
        data = carry + block if carry else block
        if first:
            data = data.removeprefix(b"\xef\xbb\xbf")
            first = False
        cut = data.rfind(b"\n")
        if cut < 0 and b"\r" in data[:-1]:  # old Mac line ends (CR only)
            cut = data.rfind(b"\r", 0, len(data) - 1)
        if cut < 0:
            carry = data
            _check_line(carry, lineno, label, max_line)
            continue
        carry = data[cut + 1 :]
        _check_line(carry, lineno, label, max_line)
        text = _decode(data[: cut + 1], lineno, label, fallback)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if len(data) - len(carry) > max_line:  # only then can a line here be too long
            for i, line in enumerate(text.split("\n")):
                if len(line) > max_line:
                    _check_line(line.encode("utf-8", "replace"), lineno + i, label, max_line)
        yield lineno, text
        lineno += text.count("\n")
    if carry:
        yield lineno, _decode(carry, lineno, label, fallback).rstrip("\r")


def text_lines(
    fh: IO[bytes], label: str, *, fallback: str | None = None, max_line: int | None = None
) -> Iterator[str]:
    """Lines of ``fh`` (without their end: LF, CRLF or CR), decoded and bounded as
    :func:`text_blocks` has it."""
    for _lineno, text in text_blocks(fh, label, fallback=fallback, max_line=max_line):
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()  # the empty string after the last line end
        yield from lines


def _check_line(data: bytes, lineno: int, label: str, max_line: int) -> None:
    if len(data) > max_line:
        raise InputError(
            f"{label}: line {lineno + 1} is longer than {max_line >> 20} MiB; refused "
            "(not an export file, or a damaged one)"
        )


def _decode(data: bytes, lineno: int, label: str, fallback: str | None) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if fallback is None:
            line = lineno + data[: exc.start].count(b"\n") + 1
            raise InputError(f"{label}: not UTF-8 text (line {line})") from None
    return "".join(
        _decode_line(raw, fallback) for raw in data.splitlines(keepends=True)
    )


def _decode_line(raw: bytes, fallback: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode(fallback, errors="replace")
