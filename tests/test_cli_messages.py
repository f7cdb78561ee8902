"""CLI messages print dynamic text literally: no Rich markup parsing, no hard wrapping."""

from __future__ import annotations

import pytest
import typer

from registry.commands._common import domain_errors
from registry.errors import InputError


def test_error_with_markup_like_text_is_printed_literally(
    capsys: pytest.CaptureFixture[str],
) -> None:
    msg = "book.xlsx[outcomes]: row 2, column total, value '[/x]': must be a number " + "x" * 120
    with pytest.raises(typer.Exit) as exc, domain_errors():
        raise InputError(msg)
    assert exc.value.exit_code == 2
    err = capsys.readouterr().err
    assert "book.xlsx[outcomes]" in err and "'[/x]'" in err
    assert err.count("\n") == 1  # one line, even far past 80 columns
