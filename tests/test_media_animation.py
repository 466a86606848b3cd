"""A writer uploads an animation (GIF or WebP): it is kept, every frame in order, in the image
and in its variants."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.support.media import file_path, opened, upload

COLOURS = [(255, 0, 0), (0, 0, 255), (0, 255, 0)]


def animation(image_format: str, size: tuple[int, int]) -> bytes:
    """A looping animation, one plain frame per colour."""
    frames = [Image.new("RGB", size, colour) for colour in COLOURS]
    out = io.BytesIO()
    frames[0].save(out, image_format, save_all=True, append_images=frames[1:], duration=120, loop=0)
    return out.getvalue()


def frame_colours(data: bytes) -> list[tuple[int, ...]]:
    """The colour at the top left of each frame, roughly (WebP is lossy)."""
    image = opened(data)
    colours = []
    for n in range(getattr(image, "n_frames", 1)):
        image.seek(n)
        colours.append(tuple(round(c / 16) * 16 for c in image.convert("RGB").getpixel((2, 2))))
    return colours


@pytest.mark.parametrize("image_format", ["GIF", "WEBP"])
def test_an_animation_keeps_its_frames_in_the_image_and_its_variants(client, author, image_format):
    reply = upload(client, author, animation(image_format, (800, 400)), "loop.img")
    assert reply.status_code == 201, reply.get_json()
    media = reply.get_json()
    expected = [tuple(round(c / 16) * 16 for c in colour) for colour in COLOURS]
    for url in [media["url"], *(v["url"] for v in media["variants"])]:
        served = client.get(file_path(url))
        assert opened(served.data).format == image_format
        assert frame_colours(served.data) == expected
