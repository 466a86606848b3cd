"""Rendering a body costs time in proportion to its size, whatever the body holds.

Counted, not timed: each pathological shape of bench/render_shapes.py (200,000 characters, the
most a body may hold) is compared with ordinary dense Markdown of the same size, in this one
process. The renderer and the sanitizer run in C, so Python calls say nothing of their work;
CPU time relative to the baseline does. A quadratic shape is 10 to 100 times the baseline at
this size; the linear ones stay within a few times it.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from bench.render_shapes import SHAPES, body, cpu_seconds
from blogapi.posts.markdown import bounded_html, render_markdown
from blogapi.posts.nesting import MAX_DEPTH, limit_nesting

# A table of one-letter cells yields five times the elements a character of mixed prose
# does, and costs about four times as much to sanitize: the bound leaves room for that.
MAX_RATIO = 8
MAX_GROWTH = 32  # HTML characters for each character of Markdown
PATHOLOGICAL = [name for name in SHAPES if name != "dense"]


@pytest.fixture(scope="module")
def dense_seconds() -> float:
    """The CPU time of rendering ordinary dense Markdown (the best of three)."""
    return cpu_seconds(render_markdown, body("dense"), runs=3)


@pytest.mark.slow
@pytest.mark.parametrize("shape", PATHOLOGICAL)
def test_every_shape_renders_within_a_fixed_multiple_of_dense_markdown(shape, dense_seconds):
    source = body(shape)
    seconds = cpu_seconds(render_markdown, source)
    if seconds > MAX_RATIO * dense_seconds:  # measured twice before failing: one may be noise
        seconds = min(seconds, cpu_seconds(render_markdown, source))
    assert seconds <= MAX_RATIO * dense_seconds, (shape, seconds, dense_seconds)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_html_grows_no_faster_than_the_markdown(shape):
    source = body(shape)
    assert len(bounded_html(source)) <= MAX_GROWTH * len(source)


def test_a_table_that_pads_every_row_renders_as_text():
    source = "|a" * 100 + "\n" + "|-" * 100 + "\n" + "x\n" * 1500

    assert "<table>" not in render_markdown(source)
    assert "<table>" in render_markdown("| a | b | c |\n|---|:-:|--:|\n| 1 |\n| 2 | 3 |\n")


def test_a_line_opens_a_bounded_number_of_quotes():
    html = bounded_html(">" * 1000 + " deep")
    assert html.count("<blockquote>") == 100
    assert "&gt;" * 900 + " deep" in html


class _Depth(HTMLParser):
    """The deepest an HTML fragment nests, and whether each end tag closes the last opened."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.deepest = 0
        self.crossed: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in {"br", "hr", "img", "input", "wbr", "col", "area", "embed", "source"}:
            self.stack.append(tag)
            self.deepest = max(self.deepest, len(self.stack))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.crossed.append(tag)


@pytest.mark.parametrize(
    "html",
    [
        "<dl>" * 5000,
        "<div><span>" * 3000 + "</div>" * 3000,
        "<x><div></x>" * 3000,
        "<p><b id=1>x</p>" * 3000,
        "<ul><li>a<li>b" * 2000,
        "<table><tr><td>" * 2000,
        '<a title="<div>">' * 2000,
        "<!--><div>" * 3000,
    ],
)
def test_html_reaches_the_sanitizer_nested_at_most_max_depth_and_well_formed(html):
    parser = _Depth()
    parser.feed(limit_nesting(html))
    assert parser.deepest <= MAX_DEPTH
    assert parser.crossed == []


def test_sloppy_html_a_person_writes_keeps_its_structure():
    assert render_markdown("<ul><li>a<li>b</ul>") == "<ul><li>a</li><li>b</li></ul>\n"
    assert render_markdown("<p>one<p>two") == "<p>one</p><p>two\n</p>"
    assert render_markdown("a <!-- note --> b") == "<p>a  b</p>\n"
