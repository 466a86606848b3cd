"""The pure pieces of search: reading a search box, writing it out for each database, the
text search reads of a body, and snippets."""

from __future__ import annotations

import re
import sqlite3

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from blogapi.posts.search.document import plain_text, tag_text
from blogapi.posts.search.query import (
    MAX_TERMS,
    SearchQuery,
    Term,
    fts5_expression,
    parse,
    wanted,
    websearch_text,
)
from blogapi.posts.search.snippets import ELLIPSIS, MAX_TEXT, START, STOP, snippet_html

TRICKY = ['"', "NEAR(", "*", ":", "^", "AND", "NOT", "OR", "(", ")", "-", "+", "{a b}", "col:x"]


def groups(text: str) -> list[list[tuple[tuple[str, ...], bool]]]:
    """A parsed query as lists of (words, excluded), one list per group."""
    query = parse(text, "english")
    return [[(term.words, term.excluded) for term in group] for group in query.groups]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("cats dogs", [[(("cats",), False), (("dogs",), False)]]),
        ("cats or dogs", [[(("cats",), False)], [(("dogs",), False)]]),
        ("cats OR dogs", [[(("cats",), False)], [(("dogs",), False)]]),
        ("a b or c d", [[(("b",), False)], [(("c",), False), (("d",), False)]]),  # a: stop word
        ("cats -dogs", [[(("cats",), False), (("dogs",), True)]]),
        ('-"hot dogs" cats', [[(("hot", "dogs"), True), (("cats",), False)]]),
        ('"green fence', [[(("green", "fence"), False)]]),  # the quote ends at the end
        ('"green fence" "', [[(("green", "fence"), False)]]),
        ("cat-dog", [[(("cat", "dog"), False)]]),  # one term of two words, as FTS5 reads it
        ("- cats", [[(("cats",), False)]]),  # a lone minus excludes nothing
        ("cats -", [[(("cats",), False)]]),
    ],
)
def test_parse_reads_words_phrases_exclusions_and_or(text, expected):
    assert groups(text) == expected


@pytest.mark.parametrize("text", ["or cats", "cats or", "or or cats or or", "cats or or"])
def test_an_or_at_either_end_or_doubled_is_ignored(text):
    assert groups(text) == [[(("cats",), False)]]


def test_an_or_between_terms_even_when_doubled_still_means_either():
    assert groups("cats or or dogs") == [[(("cats",), False)], [(("dogs",), False)]]


def test_a_minus_before_or_excludes_the_word_or_which_is_a_stop_word():
    assert groups("cats -or dogs") == [[(("cats",), False), (("dogs",), False)]]


def test_stop_words_are_trimmed_from_the_ends_of_a_phrase_but_kept_inside():
    [[term]] = parse('"the cat and the hat of"', "english").groups
    assert term.words == ("cat", "and", "the", "hat")
    assert term.text == "the cat and the hat of"  # PostgreSQL reads the words itself


@pytest.mark.parametrize("text", ["", "   ", "the", "The AND of", '"to be or not"', '""', "%_\\"])
def test_a_query_with_no_searchable_word_has_no_groups(text):
    query = parse(text, "english")
    assert query.groups == ()
    assert not query.answerable


@pytest.mark.parametrize("text", ["-cats", '-"hot dogs"', "-cats -dogs", "cats or -dogs"])
def test_a_group_of_only_exclusions_makes_the_query_unanswerable(text):
    assert not parse(text, "english").answerable


def test_terms_past_max_terms_are_ignored():
    words = [f"word{n}" for n in range(MAX_TERMS + 10)]
    [group] = parse(" ".join(words), "english").groups
    assert [term.words[0] for term in group] == words[:MAX_TERMS]
    either = parse(" or ".join(words), "english").groups
    assert len(either) == MAX_TERMS


def test_nul_separates_words():
    assert groups("cats\x00dogs") == [[(("cats",), False), (("dogs",), False)]]


def unquoted_parts(expression: str) -> list[str]:
    """The parts of an FTS5 expression outside its double-quoted strings (where "" is a
    quote); fails on a string that never closes."""
    parts, position = [], 0
    for match in re.finditer(r'"(?:[^"]|"")*"', expression):
        parts.append(expression[position : match.start()])
        position = match.end()
    parts.append(expression[position:])
    assert all('"' not in part for part in parts), expression
    return parts


def assert_only_operators_outside_strings(expression: str) -> None:
    """Outside its quoted strings an FTS5 expression holds only our operators."""
    for part in unquoted_parts(expression):
        assert re.fullmatch(r"[() ]*(?:(?:AND|OR|NOT)[() ]*)*", part), (part, expression)


@pytest.mark.parametrize("tricky", TRICKY)
def test_no_user_character_reaches_fts5_unquoted(tricky):
    for text in (tricky, f"a{tricky}b", f'cat {tricky} "dog {tricky}" -{tricky}x or {tricky}y z'):
        query = parse(f"word {text}", "english")
        assert query.answerable
        assert_only_operators_outside_strings(fts5_expression(query))


@pytest.fixture(scope="module")
def fts5() -> sqlite3.Connection:
    """An FTS5 table as the app makes it, with one row."""
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='porter unicode61 remove_diacritics 2')"
    )
    connection.execute("INSERT INTO t VALUES ('The quick brown fox, NEAR the café.')")
    return connection


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60) | st.lists(st.sampled_from([*TRICKY, "fox", " "])).map("".join))
@example(text='"NEAR(fox " AND brown*')
@example(text="body:fox")
@example(text="^fox")
def test_any_text_is_a_valid_fts5_query(fts5, text):
    query = parse(text, "english")
    if not query.answerable:
        return
    expression = fts5_expression(query)
    assert_only_operators_outside_strings(expression)
    fts5.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


@pytest.mark.parametrize(
    "text, expression",
    [
        ("fox brown", '("fox" AND "brown")'),
        ("fox or brown", '("fox") OR ("brown")'),
        ('fox -"lazy dog"', '(("fox") NOT ("lazy dog"))'),
        ("fox -a -b -c", '(("fox") NOT ("b" OR "c"))'),
        ('"fox"*', '("fox")'),
        ('fox"ox', '("fox" AND "ox")'),  # a quote starts a phrase, even inside a word
    ],
)
def test_fts5_expression(text, expression):
    assert fts5_expression(parse(text, "english")) == expression


@pytest.mark.parametrize(
    "text, found",
    [
        ("fox", True),
        ("FOXES", True),  # porter
        ("cafe", True),  # remove_diacritics
        ('"quick brown"', True),
        ('"brown quick"', False),
        ("fox -quick", False),
        ("fox -slow", True),
        ("slow or quick", True),
        ("near fox", True),  # NEAR is a word here, not FTS5's operator
        ("brown*", True),
        ("brown:fox", True),  # a phrase, not FTS5's column filter
        ("fox:brown", False),
    ],
)
def test_fts5_expressions_mean_what_the_search_box_said(fts5, text, found):
    expression = fts5_expression(parse(text, "english"))
    rows = fts5.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()
    assert bool(rows) is found


@pytest.mark.parametrize(
    "text, websearch",
    [
        ("fox brown", '"fox" "brown"'),
        ("fox or brown", '"fox" or "brown"'),
        ('fox -"lazy  dog"', '"fox" -"lazy dog"'),
        ("the fox", '"fox"'),
        ('say "hi', '"say" "hi"'),
        ("ΕΛΛΗΝΙΚΆ Straße", '"ελληνικά" "straße"'),  # lowered: PostgreSQL's C locale would not
        ("Vec<String> R&D", '"vec string" "r d"'),  # its words: no tags or entities to parse
        ("example.com 3.14", '"example com" "3 14"'),  # as FTS5 splits them
    ],
)
def test_websearch_text_quotes_every_term(text, websearch):
    assert websearch_text(parse(text, "english")) == websearch


@given(text=st.text(max_size=60) | st.lists(st.sampled_from([*TRICKY, "fox", " "])).map("".join))
def test_websearch_text_quotes_every_term_whatever_was_typed(text):
    written = websearch_text(parse(text, "english"))
    for part in unquoted_parts(written):
        assert re.fullmatch(r"(?: |-|or)*", part), (part, written)
    assert "<" not in written and "&" not in written


def test_wanted_drops_the_exclusions_a_rank_has_no_use_for():
    query = parse('cats -dogs "hot tea" -"cold milk" or birds -fish', "english")
    assert websearch_text(wanted(query)) == '"cats" "hot tea" or "birds"'


def test_an_excluded_term_in_a_query_built_by_hand_is_written_with_a_minus():
    term = Term('say "hi"', ("say", "hi"), excluded=True)
    assert websearch_text(SearchQuery(((term,),))) == '-"say hi"'


def marked(text: str, *words: str) -> str:
    """`text` with each of `words` marked as the databases mark matches."""
    for word in words:
        text = text.replace(word, f"{START}{word}{STOP}")
    return text


def test_a_snippet_marks_matches_and_escapes_everything_else():
    html = snippet_html(marked("Fish & chips <b>vinegar</b> & more vinegar", "vinegar"))
    assert html == (
        "Fish &amp; chips &lt;b&gt;<mark>vinegar</mark>&lt;/b&gt; &amp; more <mark>vinegar</mark>"
    )


def test_a_snippet_closes_a_mark_the_database_left_open():
    assert snippet_html(f"a {START}fox") == "a <mark>fox</mark>"
    assert snippet_html(f"{STOP}a {STOP}fox{START}") == "a fox"


def text_of(html: str) -> str:
    """A snippet's text: marks removed, entities read."""
    return (
        re.sub(r"</?mark>", "", html)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )


def test_a_long_text_is_cut_to_300_characters_around_the_first_match_with_ellipses():
    before = " ".join(f"b{n:03}" for n in range(100))  # 499 characters
    after = " ".join(f"a{n:03}" for n in range(100))
    html = snippet_html(marked(f"{before} <walrus> & {after}", "walrus"))
    text = text_of(html)
    assert len(text) <= MAX_TEXT
    assert text.startswith(ELLIPSIS) and text.endswith(ELLIPSIS)
    assert "&lt;<mark>walrus</mark>&gt; &amp;" in html
    # About 80 characters of context before the match, cut at a space.
    lead = text[len(ELLIPSIS) : text.index("<walrus>")]
    assert 60 <= len(lead) <= 85 and lead.startswith("b")
    assert re.fullmatch(r"(?:b\d{3} )+", lead), lead


def test_a_match_near_the_start_keeps_the_start_and_cuts_the_end_only():
    after = " ".join(f"a{n:03}" for n in range(100))
    text = text_of(snippet_html(marked(f"The walrus sleeps. {after}", "walrus")))
    assert text.startswith("The walrus sleeps.") and text.endswith(ELLIPSIS)
    assert len(text) <= MAX_TEXT
    assert not text[: -len(ELLIPSIS)].endswith(" ")


def test_a_short_text_is_shown_whole_and_blank_text_gives_an_empty_snippet():
    assert snippet_html(marked("  A walrus.  ", "walrus")) == "A <mark>walrus</mark>."
    assert snippet_html("   ") == ""
    assert snippet_html("") == ""


@given(text=st.text(alphabet=st.sampled_from("ab <&>\"'" + START + STOP), max_size=700))
def test_every_snippet_is_escaped_with_balanced_marks_and_at_most_300_characters(text):
    html = snippet_html(text)
    tags = re.findall(r"<[^>]*>", html)
    assert set(tags) <= {"<mark>", "</mark>"}
    assert tags[::2] == ["<mark>"] * len(tags[::2]) and tags[1::2] == ["</mark>"] * len(tags[1::2])
    assert len(tags) % 2 == 0
    assert len(text_of(html)) <= MAX_TEXT
    assert START not in html and STOP not in html


@pytest.mark.parametrize(
    "body_html, text",
    [
        ("<p>one</p><p>two</p>", "one two"),  # blocks separate words
        ("<ul><li>one</li><li>two</li></ul>", "one two"),
        ("one<br>two<br />three", "one two three"),
        ("<h2>Head</h2>line", "Head line"),
        ("<p>in<em>line</em> <strong>b</strong>old</p>", "inline bold"),  # inline tags don't
        ('<p><a href="x">li</a>nk</p>', "link"),
        ('<p><a title="a > b">x</a>y</p>', "xy"),  # a > inside an attribute value
        ("<p>Fish &amp; chips &lt;b&gt; &#233;t&eacute;</p>", "Fish & chips <b> été"),
        ("<p>a\tb\x01c\x7fd\n\ne</p>", "a b c d e"),  # control characters become spaces
        ("<pre><code>x = 1\ny = 2</code></pre>", "x = 1 y = 2"),
        ("", ""),
    ],
)
def test_plain_text_keeps_the_words_of_a_body(body_html, text):
    assert plain_text(body_html) == text


def test_plain_text_never_holds_a_control_character_snippets_use():
    text = plain_text(f"<p>a{START}b{STOP}c&#1;d&#x2;e</p>")
    assert START not in text and STOP not in text


def test_tag_text_is_the_same_whatever_the_order():
    assert tag_text(["web", "Python", "apis"]) == tag_text(["apis", "web", "Python"])
    assert tag_text(["web", "Python", "apis"]) == "apis Python web"
