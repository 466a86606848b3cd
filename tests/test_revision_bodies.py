"""Revision bodies are stored compactly and always read back exactly as they were saved."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blogapi.posts.revisions.bodies import CorruptBody, decode, encode, encode_delta, encode_full

LINES = st.lists(st.sampled_from(["", "\n", "a\n", "b\n", "a", "é\r\n", "x" * 50 + "\n", "\u2028"]))
TEXTS = st.one_of(st.text(max_size=300), LINES.map("".join))


@settings(max_examples=300, deadline=None)
@given(keyframe=TEXTS, body=TEXTS)
def test_any_body_comes_back_whole_from_a_delta_or_a_keyframe(keyframe, body):
    assert decode(encode_delta(keyframe, body), keyframe) == body
    assert decode(encode_full(body)) == body
    data, is_delta = encode(body, keyframe)
    assert decode(data, keyframe if is_delta else None) == body


def test_a_small_edit_of_a_long_body_is_a_small_delta():
    lines = [
        f"Sentence number {n} says something different from the others.\n" for n in range(4000)
    ]
    keyframe = "".join(lines)
    lines[1234] = "One sentence was rewritten.\n"
    lines.insert(3000, "And one was added.\n")
    data, is_delta = encode("".join(lines), keyframe)
    assert is_delta
    assert len(data) < 200
    assert len(encode_full(keyframe)) > 20 * len(data)


def test_a_rewrite_becomes_a_keyframe_of_its_own():
    keyframe = "".join(f"Old line {n}\n" for n in range(500))
    body = "".join(f"Entirely new line {n * 7}\n" for n in range(500))
    _data, is_delta = encode(body, keyframe)
    assert not is_delta


def test_repeated_lines_cost_linear_work_however_many():
    body = "\n" * 200_000  # difflib's matcher would compare each line with every other one
    data = encode_delta(body, "x\n" + body)
    assert decode(data, body) == "x\n" + body
    assert len(data) < 100


@pytest.mark.parametrize(
    "data", [b"", b"F", b"Fnot zlib", b"D" + b"x" * 5, b"Q" + encode_full("a")[1:]]
)
def test_damaged_bodies_raise_a_clear_error(data):
    with pytest.raises(CorruptBody):
        decode(data, "keyframe")


def test_a_delta_without_its_keyframe_is_refused():
    with pytest.raises(CorruptBody):
        decode(encode_delta("a\nb\n", "a\nc\n"))
