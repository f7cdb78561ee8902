"""Record text in the Markdown report stays text (issue 10 item 19: emoji shortcodes)."""

from __future__ import annotations

import re

from reports.render import md_escape

# GitHub / GitLab / markdown-it-emoji shortcode: ':' name ':' in one text run
SHORTCODE = re.compile(r":[A-Za-z0-9_+\\-]+:")


def test_emoji_shortcodes_are_broken_up() -> None:
    for title in ("Stem cells :key: findings", "a :white_check_mark: trial", "score :+1:",
                  "100% :100: response"):
        out = md_escape(title)
        assert not SHORTCODE.search(out), out
        # what a reader sees is unchanged: only an empty HTML comment is added
        assert out.replace("<!-- -->", "").replace("\\_", "_") == title


def test_ordinary_colons_are_left_alone() -> None:
    assert md_escape("key: value; HR: 0.5") == "key: value; HR: 0.5"
