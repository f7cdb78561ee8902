"""Hostile input to the curation commands: exit code, message, time and peak memory.

    .venv/bin/python bench/bench_hostile_curation.py [--rows 1000000]

Builds each hostile file in a temporary folder and runs the real CLI on it in a child
process, reporting the exit code, the first line of the message, wall time and the child's
peak RSS (ru_maxrss):

- item 6: an extraction workbook whose ``outcomes`` sheet has ``--rows`` data rows
  (1,000,000 by default; written as raw sheet XML, so building it is quick), given to
  ``registry add-trial``. Target: a clear error (or a correct import) within a minute at
  under 1 GiB.
- item 7: a protocol.yaml whose ``title`` is a "billion laughs" alias bomb (9 levels of 9
  aliases), given to ``registry load-review``. Target: refused in < 5 s naming the file.
- item 10: ``registry report --review ../../x`` and ``registry init /tmp/x``. Target:
  refused, nothing written outside the output folder.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
    '"xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="outcomes" sheetId="1" r:id="rId1"/></sheets>'
    "</workbook>"
)
WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
    '"worksheets/sheet1.xml"/></Relationships>'
)
HEADER = ("study_id", "arm_id", "outcome", "time_point", "time_weeks", "mean", "sd", "n",
          "source")  # fmt: skip


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def big_workbook(path: Path, rows: int) -> Path:
    """An extraction workbook whose outcomes sheet has ``rows`` data rows."""
    letters = "ABCDEFGHI"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WB_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                     b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')  # fmt: skip
            head = "".join(_inline(f"{c}1", h) for c, h in zip(letters, HEADER, strict=True))
            fh.write(f'<row r="1">{head}</row>'.encode())
            for i in range(2, rows + 2):
                fh.write(
                    (f'<row r="{i}">{_inline(f"A{i}", f"S{i}")}{_inline(f"B{i}", "trt")}'
                     f'{_inline(f"C{i}", "score")}{_inline(f"D{i}", "1 month")}'
                     f'<c r="E{i}"><v>4</v></c><c r="F{i}"><v>12.5</v></c>'
                     f'<c r="G{i}"><v>3.1</v></c><c r="H{i}"><v>18</v></c>'
                     f'{_inline(f"I{i}", "https://doi.org/10.1000/x")}</row>').encode()
                )  # fmt: skip
            fh.write(b"</sheetData></worksheet>")
    return path


def bomb_protocol(folder: Path) -> Path:
    """review 'bomb' whose title is 9 levels of 9 aliases (9**9 strings once expanded)."""
    folder.mkdir(parents=True)
    anchors = ['  - &a0 "lol"'] + [
        f"  - &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)
    ]
    text = "notes:\n" + "\n".join(anchors) + "\n" + (
        "review: bomb\ntitle: *a9\noutcomes:\n  - {id: o, name: O, kind: dichotomous}\n"
    )
    f = folder / "protocol.yaml"
    f.write_text(text)
    return f


def plain_protocol(folder: Path) -> Path:
    """A valid review 'plain' with the outcome 'score' the big workbook's rows name."""
    folder.mkdir(parents=True)
    f = folder / "protocol.yaml"
    f.write_text("review: plain\ntitle: Plain\noutcomes:\n  - {id: score, name: Score, "
                 "kind: continuous, unit: points}\n")  # fmt: skip
    return f


def run(cmd: list[str], env: dict[str, str]) -> tuple[int, str, float, float]:
    """(exit code, stderr+stdout, wall seconds, peak RSS MiB) of one child run."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read().decode() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    return os.waitstatus_to_exitcode(status), out, wall, usage.ru_maxrss / 1024


def main() -> None:
    """Build each hostile file, run the CLI on it, print what happened."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    cli = [sys.executable, "-m", "registry.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        reviews = root / "reviews"
        bomb = bomb_protocol(reviews / "bomb")
        plain_protocol(reviews / "plain")
        env = {**os.environ, "PYTHONPATH": str(REPO), "REGISTRY_REVIEWS": str(reviews)}
        db = str(root / "r.duckdb")
        t0 = time.perf_counter()
        book = big_workbook(root / "huge.xlsx", args.rows)
        built = time.perf_counter() - t0
        print(f"built {book.name}: {args.rows:,} rows, {book.stat().st_size / 1e6:.1f} MB "
              f"({built:.1f} s)")  # fmt: skip
        cases = {
            f"item 6: add-trial {book.name} ({args.rows:,} rows)":
                [*cli, "--db", db, "add-trial", str(book), "--review", "plain"],
            f"item 7: load-review bomb ({bomb})": [*cli, "--db", db, "load-review", "bomb"],
            "item 10: report --review ../../x":
                [*cli, "--db", db, "report", "--review", "../../x", "--out", str(root / "o")],
            "item 10: init /tmp/x": [*cli, "--db", db, "init", "/tmp/x"],
        }  # fmt: skip
        for name, cmd in cases.items():
            code, out, wall, rss = run(cmd, env)
            first = next((ln for ln in out.splitlines() if ln.strip()), "")
            print(f"{name}\n  exit {code}, {wall:.2f} s, peak RSS {rss:.0f} MiB\n  {first}")
        print(f"nothing written outside: {not (root.parent / 'x').exists()}")


if __name__ == "__main__":
    main()
