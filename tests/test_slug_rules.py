"""Stories about turning titles into tidy slugs, and which slugs a client may choose."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blogapi.posts.slugs import is_valid_slug, slugify, with_suffix

# --- Titles become slugs --------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Crème Brûlée", "creme-brulee"),
        ("Straße", "strasse"),
        ("Hello, World!", "hello-world"),
        ("  --Already--sluggy--  ", "already-sluggy"),
        ("Python 3.12: What's New?", "python-3-12-what-s-new"),
        ("Ærøskøbing Ørsted", "aeroskobing-orsted"),
        ("ﬁnal " + "".join(chr(ord(c) + 0xFEE0) for c in "WIDE"), "final-wide"),
        ("naïve café", "naive-cafe"),
    ],
)
def test_titles_fold_to_lowercase_ascii_slugs(title: str, slug: str) -> None:
    assert slugify(title) == slug


@pytest.mark.parametrize("title", ["", "   ", "🎉🚀✨", "!!! ??? ...", "\u200b\u200d"])
def test_titles_with_nothing_to_keep_give_an_empty_slug(title: str) -> None:
    assert slugify(title) == ""


def test_chinese_titles_are_transliterated_by_unidecode() -> None:
    # text_unidecode knows Mandarin readings, so CJK titles do not come out empty.
    assert slugify("中文标题") == "zhong-wen-biao-ti"
    assert slugify("中文标题 🎉") == "zhong-wen-biao-ti"


def test_long_titles_are_cut_on_a_word_boundary() -> None:
    title = "the quick brown fox jumps over the lazy dog " * 5

    slug = slugify(title)

    assert len(slug) <= 80
    assert title.replace(" ", "-").startswith(slug + "-")
    assert is_valid_slug(slug)


def test_max_length_is_configurable_and_never_leaves_a_trailing_dash() -> None:
    assert slugify("hello world again", max_length=11) == "hello-world"
    assert slugify("hello world again", max_length=12) == "hello-world"
    assert slugify("hello world again", max_length=14) == "hello-world"


def test_a_single_long_word_is_cut_mid_word() -> None:
    assert slugify("a" * 200) == "a" * 80
    assert slugify("supercalifragilistic", max_length=5) == "super"


def test_max_length_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_length"):
        slugify("anything", max_length=0)


def test_with_suffix_numbers_duplicates() -> None:
    assert with_suffix("my-post", 2) == "my-post-2"
    assert with_suffix("my-post", 3) == "my-post-3"
    assert with_suffix("my-post", 123) == "my-post-123"


def test_with_suffix_keeps_within_max_length() -> None:
    long_slug = slugify("word " * 40)

    suffixed = with_suffix(long_slug, 42)

    assert len(suffixed) <= 80
    assert suffixed.endswith("-42")
    assert is_valid_slug(suffixed)
    assert with_suffix("a" * 80, 2) == "a" * 78 + "-2"
    assert with_suffix("hello-world", 12, max_length=12) == "hello-12"


@pytest.mark.parametrize(
    ("slug", "n", "max_length", "complaint"),
    [("", 2, 80, "slug"), ("post", 0, 80, "n must"), ("post", 100, 4, "max_length")],
)
def test_with_suffix_rejects_impossible_requests(
    slug: str, n: int, max_length: int, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        with_suffix(slug, n, max_length)


@given(st.text(), st.integers(min_value=1, max_value=10**6))
def test_generated_slugs_are_always_valid(title: str, n: int) -> None:
    slug = slugify(title)
    assert slug == "" or is_valid_slug(slug)
    assert is_valid_slug(with_suffix(slug or "post", n))


@pytest.mark.parametrize("slug", ["a", "post", "my-post-2", "2024-recap", "x" * 80])
def test_well_formed_client_slugs_are_accepted(slug: str) -> None:
    assert is_valid_slug(slug)


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "x" * 81,
        "-post",
        "post-",
        "my--post",
        "My-Post",
        "my post",
        "my_post",
        "crème",
        "post\n",
        "../etc",
        "١٢٣",
    ],
)
def test_malformed_client_slugs_are_rejected(slug: str) -> None:
    assert not is_valid_slug(slug)


# --- Tags spell the symbols that tell them apart -----------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("C", "c"),
        ("C++", "c-plus-plus"),
        ("C#", "c-sharp"),
        ("F#", "f-sharp"),
        ("Notepad++", "notepad-plus-plus"),
        (".NET", "dot-net"),
        ("ASP.NET", "asp-net"),  # a dot inside a word joins parts, as in Node.js or 3.12
        ("Node.js", "node-js"),
        ("#100DaysOfCode", "100daysofcode"),  # a leading # marks a hashtag
        ("\uff23\uff28\uff03", "ch-sharp"),  # full-width forms fold first
    ],
)
def test_tag_slugs_spell_plus_sharp_and_a_leading_dot(name: str, slug: str) -> None:
    assert slugify(name, 40, symbols=True) == slug


def test_titles_keep_their_plain_slugs() -> None:
    assert slugify("C++ and C# in 2026") == "c-and-c-in-2026"
    assert slugify("Vim + tmux") == "vim-tmux"
