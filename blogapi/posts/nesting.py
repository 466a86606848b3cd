"""Bound how deeply HTML nests before the sanitizer parses it.

An HTML parser checks "is there a <p> to close?" by walking its stack of open elements for
every block-level start tag, so a body of nothing but `<div>` costs time quadratic in its
length. This pass, linear in the length, hands the sanitizer HTML in which no element opens
deeper than MAX_DEPTH and every end tag closes the element opened last.
"""

from __future__ import annotations

import re

MAX_DEPTH = 64

# One tag as the HTML tokenizer reads it: a name up to whitespace, "/" or ">", then
# attributes whose quoted values may hold ">". Possessive and atomic groups keep the
# match linear whatever the text (no backtracking into a name or a value).
_WS = r"\t\n\f\r "
_TAG = re.compile(
    rf"""<(?P<end>/?)(?P<name>[A-Za-z][^{_WS}/>]*+)
    (?P<attrs>(?>[{_WS}/]++|[^{_WS}/>][^{_WS}/>=]*+
        (?>[{_WS}]*+=[{_WS}]*+(?>"[^"]*+"|'[^']*+'|[^{_WS}>]*+))?)*+)>""",
    re.VERBOSE,
)
# Comments and what the tokenizer reads as "bogus" comments (<!DOCTYPE>, <?php ?>, </ 1>):
# the sanitizer strips them anyway, and dropping them here leaves nothing to misread.
_COMMENT = re.compile(r"<!--(?:-?>|.*?(?:--!?>|\Z))|<(?:[!?]|/[^A-Za-z>])[^>]*+>?|</>", re.S)
_VOID = {
    "area",
    "base",
    "basefont",
    "bgsound",
    "br",
    "col",
    "embed",
    "frame",
    "hr",
    "img",
    "input",
    "keygen",
    "link",
    "meta",
    "param",
    "source",
    "track",
    "wbr",
}
# Start tags that close an open <p> first, and elements a sibling start tag closes:
# following the parser here keeps sloppy HTML (<li> without </li>) from counting as depth.
_CLOSES_P = {
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "li",
    "dd",
    "dt",
    "listing",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "plaintext",
    "pre",
    "search",
    "section",
    "summary",
    "table",
    "ul",
    "xmp",
}
_SIBLINGS = {
    "li": {"li"},
    "dt": {"dt", "dd"},
    "dd": {"dt", "dd"},
    "tr": {"tr", "td", "th"},
    "td": {"td", "th"},
    "th": {"td", "th"},
    "option": {"option"},
}


def limit_nesting(html: str, max_depth: int = MAX_DEPTH) -> str:
    """The HTML with start tags beyond max_depth dropped and end tags made to nest."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while (start := html.find("<", pos)) >= 0:
        out.append(html[pos:start])
        if comment := _COMMENT.match(html, start):
            pos = comment.end()
            continue
        tag = _TAG.match(html, start)
        if tag is None:
            if html[start + 1 : start + 2].isascii() and html[start + 1 : start + 2].isalpha():
                return "".join(out)  # a tag never closed: the parser drops all that follows
            out.append("&lt;")  # a "<" that starts no tag is text
            pos = start + 1
            continue
        pos = tag.end()
        name = tag["name"].lower()
        if tag["end"]:
            out.append(_close(stack, name))
            continue
        out.append(_implied_ends(stack, name))
        if name in _VOID:
            out.append(_tag_text(tag))
        elif len(stack) < max_depth:
            stack.append(name)
            out.append(_tag_text(tag))
    out.append(html[pos:])
    return "".join(out)


def _tag_text(tag: re.Match[str]) -> str:
    """The tag as written, with any "<" inside its attributes spelled as a reference."""
    text = tag[0]
    return "<" + text[1:].replace("<", "&lt;") if "<" in text[1:] else text


def _close(stack: list[str], name: str) -> str:
    """End tags closing `name` and all opened inside it; nothing if it is not open."""
    if name == "br":
        return "<br>"  # the parser reads </br> as <br>
    if name not in stack:
        return ""  # the parser ignores it (or, for </p>, adds an empty paragraph)
    ends = []
    while (top := stack.pop()) != name:
        ends.append(f"</{top}>")
    ends.append(f"</{name}>")
    return "".join(ends)


def _implied_ends(stack: list[str], name: str) -> str:
    """The end tags the parser implies before the start tag `name`."""
    ends = []
    siblings = _SIBLINGS.get(name, set())
    while stack and (stack[-1] in siblings or (stack[-1] == "p" and name in _CLOSES_P)):
        ends.append(f"</{stack.pop()}>")
    return "".join(ends)
