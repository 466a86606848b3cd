"""How long one post body of each pathological shape takes to render, beside ordinary Markdown.

    python -m bench.render_shapes              # 200,000 characters a shape
    python -m bench.render_shapes --size 50000 --only dl,ul --timeout 30 --memory 2
Each body is one unit repeated to the size: what any contributor can send in one post.
tests/test_markdown_cost.py renders the same shapes and compares each with DENSE.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from multiprocessing import Process, Queue

SIZE = 200_000

# Ordinary Markdown as people write it, densely: the baseline every shape is compared with.
DENSE = (
    "## A heading with `code`\n\n"
    'Some *soft*, **loud** and ~~old~~ words, a [link](https://example.com/a "title"), an '
    "![image](https://example.com/i.png) and H<sub>2</sub>O.\n\n"
    "- first item\n- second *item*\n  1. nested\n  2. list\n\n"
    "> a quote with **strong** text\n\n"
    "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n"
    "```python\nprint('<b>')\n```\n\n"
)


def _nested_bold_paragraphs(size: int) -> str:
    """Paragraphs each leaving a distinct <b> open: the parser reopens them all later."""
    parts, length, n = [], 0, 0
    while length < size:
        part = f"<p><b id={n}>x</p>"
        parts.append(part)
        length += len(part)
        n += 1
    return "".join(parts)


def _growing_backtick_runs(size: int) -> str:
    """Code spans that never close: runs of 1, 2, 3, ... backticks."""
    parts, length, n = [], 0, 1
    while length < size:
        parts.append("`" * n + "a")
        length += n + 1
        n += 1
    return "".join(parts)


def _padded_tables(size: int) -> str:
    """Tables 100 columns wide whose rows hold one cell: the renderer pads every row."""
    table = "|a" * 100 + "\n" + "|-" * 100 + "\n" + "x\n" * 1500 + "\n"
    return (table * (size // len(table) + 1))[:size]


def _indented_lists(size: int) -> str:
    """Lists nested one level deeper each line, by indentation."""
    lines, length, depth = [], 0, 0
    while length < size:
        line = "  " * (depth % 300) + "- a\n"
        lines.append(line)
        length += len(line)
        depth += 1
    return "".join(lines)


# name -> the unit repeated to the size (a string), or a function of the size.
SHAPES: dict[str, str | Callable[[int], str]] = {
    "dense": DENSE,
    "dl": "<dl>",
    "ul": "<ul>",
    "div": "<div>",
    "blockquote-html": "<blockquote>",
    "ul-li": "<ul><li>",
    "span-then-div": lambda size: "<span>" * (size // 12) + "<div>" * (size // 10),
    "ignored-end-tag": "<x><div></x>",
    "reopened-bold": _nested_bold_paragraphs,
    "table-html": "<table><tr><td>",
    "svg-breakout": lambda size: "<svg><title>" + "<div>" * (size // 5),
    "table-bold": "<table><b>",
    "select-option": "<select><option>",
    "template": "<template>",
    "math-mi": "<math><mi>",
    "comment-hidden": "<!--><div>",
    "open-bracket": "[",
    "open-image": "![",
    "link-open": "[a](",
    "quotes": ">",
    "quote-lines": "> a\n",
    "nested-list": lambda size: "- " * (size // 2 - 1) + "a",
    "nested-ordered": lambda size: "1. " * (size // 3 - 1) + "a",
    "em-items": "*a*",
    "em-nested": lambda size: "*a " * (size // 6) + "b" + " c*" * (size // 6),
    "indented-lists": _indented_lists,
    "list-items": "- a\n",
    "backticks": "`",
    "backtick-runs": _growing_backtick_runs,
    "stars": "*",
    "star-a": "*a",
    "underscore-a": "_a",
    "strong-open": "**a",
    "tildes": "~~a",
    "lt": "<",
    "unclosed-tag": "<a ",
    "comment-open": "<!--",
    "entities": "&amp;",
    "escapes": "\\*",
    "reference-defs": "[a]: /u\n",
    "reference-uses": "[a][b]",
    "headings": "# a\n",
    "table-wide": lambda size: "|a" * (size // 4) + "\n" + "|-" * (size // 4),
    "table-rows": lambda size: "|a|b|\n|-|-|\n" + "|x\n" * (size // 3),
    "table-padding": lambda size: _padded_tables(size),
}


def body(name: str, size: int = SIZE) -> str:
    """The body of shape `name`, `size` characters long (or about, for built ones)."""
    shape = SHAPES[name]
    if callable(shape):
        return shape(size)
    return (shape * (size // len(shape) + 1))[:size]


def cpu_seconds(render: Callable[[str], str], source: str, runs: int = 1) -> float:
    """The least process CPU time of `runs` renders of `source`."""
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        render(source)
        best = min(best, time.process_time() - start)
    return best


def _child(name: str, size: int, memory: int, results: Queue[float]) -> None:
    """Render one shape in a child process with bounded memory; report its CPU time."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    from blogapi.posts.markdown import render_markdown

    results.put(cpu_seconds(render_markdown, body(name, size)))


def measure(name: str, size: int, timeout: float, memory: int) -> str:
    """The shape's CPU seconds, or why there are none (over the time or memory limit)."""
    results: Queue[float] = Queue()
    child = Process(target=_child, args=(name, size, memory, results))
    child.start()
    child.join(timeout)
    if child.is_alive():
        child.kill()
        child.join()
        return f"> {timeout:.0f} s"
    if child.exitcode != 0:
        return f"> {memory >> 30} GiB"
    return f"{results.get():.3f}"


def main() -> None:
    """Print each shape's render time and its ratio to the dense baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--only", help="comma-separated shape names")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a shape may take")
    parser.add_argument("--memory", type=int, default=4, help="GiB a shape may use")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(SHAPES)
    # Each shape renders in a child process: the old renderer ran out of memory on some.
    baseline = float(measure("dense", args.size, args.timeout, args.memory << 30))
    print(f"{'shape':<18} {'chars':>8} {'seconds':>9} {'x dense':>8}")
    for name in names:
        seconds = measure(name, args.size, args.timeout, args.memory << 30)
        ratio = f"{float(seconds) / baseline:.1f}" if seconds[0].isdigit() else "-"
        print(f"{name:<18} {len(body(name, args.size)):>8} {seconds:>9} {ratio:>8}", flush=True)


if __name__ == "__main__":
    main()
