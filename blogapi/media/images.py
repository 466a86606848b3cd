"""Decoding uploads with Pillow and writing them out again: upright, without any metadata,
and at smaller widths.

The type is what the decoder finds in the bytes (never the name or the declared type), the
pixel count is checked on the header before anything is decoded, and nothing of the upload
but its pixels (and an animation's timing) reaches the files written: EXIF (with GPS), XMP,
comments and ICC profiles stay behind, colours turned to sRGB first.

Pillow is imported by the first upload (or variant) a process handles, not by every worker.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from typing import TYPE_CHECKING, Any

from blogapi.media.containers import Malformed, trailing_data
from blogapi.media.keys import CONTENT_TYPES as KEY_TYPES
from blogapi.web.errors import ApiError

if TYPE_CHECKING:
    from PIL import Image
    from PIL._imagingcms import CmsProfile

FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
# The type a stored file is served with follows from its key's extension (keys.py).
CONTENT_TYPES = {name: KEY_TYPES[extension] for name, extension in EXTENSIONS.items()}
# Pillow opens a JPEG that declares more pictures after it (MPO: a stereo pair, the gain map of
# an Ultra HDR phone photo) as MPO. It is the JPEG it starts with; only that first picture is kept.
FIRST_PICTURE_ONLY = {"MPO": "JPEG"}
# A decoded frame costs an image object besides its pixels (some 4 KB): each frame of an
# animation counts as at least this many pixels, so that a GIF of 1x1 frames (10 MB hold
# 400,000 of them: 23 s and 1.8 GB to decode) is refused as the bomb it is.
FRAME_PIXELS_MIN = 64 * 64
# What every format is written with; nothing from the upload's own info is passed on.
SAVE_OPTIONS: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 85},
    "PNG": {},
    "GIF": {},
    "WEBP": {"quality": 85},
}
ORIENTATION = 0x0112
# EXIF orientation -> the name of Pillow's Image.Transpose that makes the picture upright.
TRANSPOSE = {
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}
NOT_AN_IMAGE = "The file is not a JPEG, PNG, GIF or WebP image."
CORRUPT = "The image is truncated or corrupt."


@cache
def srgb() -> CmsProfile:
    """The sRGB profile colours are converted to, made once per process."""
    from PIL import ImageCms

    return ImageCms.createProfile("sRGB")


def refused(status: int, detail: str) -> ApiError:
    """A refusal of the uploaded file, reported under `file`."""
    return ApiError(status, detail, errors={"file": [detail]} if status == 422 else None)


@dataclass(frozen=True)
class Encoded:
    """One written file: its bytes and size in pixels."""

    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Processed:
    """An upload made safe: the image re-encoded, and its variants narrowest first."""

    image_format: str
    image: Encoded
    variants: tuple[Encoded, ...]

    @property
    def content_type(self) -> str:
        """The exact media type of every file written."""
        return CONTENT_TYPES[self.image_format]

    @property
    def extension(self) -> str:
        """The file name extension of every file written."""
        return EXTENSIONS[self.image_format]


@dataclass(frozen=True)
class Frames:
    """Decoded pixels: one frame, or an animation's frames with their durations (ms)."""

    images: list[Image.Image]
    durations: list[int]
    loop: int | None

    @property
    def size(self) -> tuple[int, int]:
        """Width and height."""
        return self.images[0].size


def process(data: bytes, *, max_pixels: int, widths: Sequence[int]) -> Processed:
    """Decode, check, turn upright, strip and re-encode an upload, with its variants at each
    of `widths` narrower than it; 415 for what is not an image, 422 for a bad one."""
    if not data:
        raise refused(422, "The file is empty.")
    with open_image(data) as image:
        opened_as = str(image.format)
        image_format = FIRST_PICTURE_ONLY.get(opened_as, opened_as)
        check_size(image, max_pixels)
        try:
            if trailing_data(data, opened_as):
                raise refused(415, "The file holds more than an image after the image's end.")
        except Malformed:
            raise refused(422, CORRUPT) from None
        frames = decode(image)
    encoded = encode(frames, image_format)
    return Processed(image_format, encoded, variants(frames, image_format, widths))


def variants_of(data: bytes, widths: Sequence[int]) -> Processed:
    """New variants, at each of `widths` narrower than it, of an image this server stored
    (already upright and stripped: it is decoded again but kept as it is)."""
    with open_image(data) as image:
        image_format = str(image.format)
        frames = decode(image)
    width, height = frames.size
    stored = Encoded(data, width, height)
    return Processed(image_format, stored, variants(frames, image_format, widths))


def variants(frames: Frames, image_format: str, widths: Sequence[int]) -> tuple[Encoded, ...]:
    """The frames written at each of `widths` narrower than them, in that order."""
    return tuple(
        encode(resized(frames, width), image_format) for width in widths if width < frames.size[0]
    )


def open_image(data: bytes) -> Image.Image:
    """Read the header with the four allowed decoders only."""
    from PIL import Image, UnidentifiedImageError

    # Pillow refuses a header over twice its own limit here; between once and twice it only
    # warns (turning the warning into an error would change process-wide warning filters, which
    # threads share), and check_size refuses it with MEDIA_MAX_PIXELS at the default.
    try:
        return Image.open(BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise refused(415, NOT_AN_IMAGE) from None
    except Image.DecompressionBombError:
        raise refused(422, "The image has too many pixels.") from None
    except (OSError, SyntaxError, ValueError, struct.error, EOFError, IndexError):
        raise refused(422, CORRUPT) from None


def check_size(image: Image.Image, max_pixels: int) -> None:
    """422 when the header's size (times the frames of an animation, each at least
    FRAME_PIXELS_MIN) is over the limit."""
    width, height = image.size
    if width < 1 or height < 1:
        raise refused(422, CORRUPT)
    if width * height > max_pixels:
        raise refused(
            422, f"The image has {width * height:,} pixels; at most {max_pixels:,} are accepted."
        )
    try:
        frames = frame_count(image)
    except (OSError, SyntaxError, ValueError, struct.error, EOFError, IndexError):
        raise refused(422, CORRUPT) from None
    if frames > 1 and frames * max(width * height, FRAME_PIXELS_MIN) > max_pixels:
        raise refused(
            422,
            f"The animation has {frames:,} frames of {width}x{height}: over {max_pixels:,} "
            f"pixels in all (a frame counting as at least {FRAME_PIXELS_MIN:,}).",
        )


def frame_count(image: Image.Image) -> int:
    """How many frames are decoded: all of an animation's, a multi-picture JPEG's first."""
    return 1 if image.format in FIRST_PICTURE_ONLY else int(getattr(image, "n_frames", 1))


def decode(image: Image.Image) -> Frames:
    """Every frame decoded, upright, in a mode its format can write, with no metadata."""
    from PIL import Image, ImageSequence

    upright = TRANSPOSE.get(orientation(image))
    transpose = Image.Transpose[upright] if upright else None
    images, durations = [], []
    count = frame_count(image)  # counted before, by check_size
    try:
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index == count:
                break
            frame.load()
            durations.append(int(frame.info.get("duration", 0) or 0))
            pixels = writable(frame, FIRST_PICTURE_ONLY.get(str(image.format), str(image.format)))
            if pixels is frame:  # the file's own image, which the next seek or closing changes
                pixels = frame.copy()
            if transpose is not None:
                pixels = pixels.transpose(transpose)
            pixels.info = {}
            images.append(pixels)
    except (OSError, SyntaxError, ValueError, struct.error, EOFError, IndexError):
        raise refused(422, CORRUPT) from None
    loop = image.info.get("loop") if len(images) > 1 else None
    return Frames(images, durations, loop if isinstance(loop, int) else None)


def orientation(image: Image.Image) -> int:
    """The EXIF orientation (1, upright, when absent or unreadable)."""
    try:
        value = image.getexif().get(ORIENTATION, 1)
    except (OSError, SyntaxError, ValueError, struct.error, EOFError, IndexError):
        return 1
    return value if isinstance(value, int) else 1


def writable(frame: Image.Image, image_format: str) -> Image.Image:
    """The frame in sRGB, in a mode the format writes: 16-bit scaled to 8, CMYK to RGB,
    palettes with transparency to RGBA."""
    mode = frame.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        frame = frame.convert("I").point(lambda v: v / 256).convert("L")
    elif mode == "1":
        frame = frame.convert("L")
    elif mode == "P" or "transparency" in frame.info:
        frame = frame.convert("RGBA" if has_alpha(frame) else "RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):
        frame = frame.convert("RGBA" if "A" in mode else "RGB")
    frame = to_srgb(frame)
    if frame.mode == "CMYK":
        frame = frame.convert("RGB")
    if image_format == "JPEG" and frame.mode not in ("L", "RGB"):
        frame = frame.convert("RGB")
    if image_format == "WEBP" and frame.mode in ("L", "LA"):
        frame = frame.convert("RGBA" if frame.mode == "LA" else "RGB")
    return frame


def has_alpha(frame: Image.Image) -> bool:
    """Whether a palette or keyed image has transparent pixels to keep."""
    return "transparency" in frame.info or frame.mode in ("RGBA", "LA", "PA")


def to_srgb(frame: Image.Image) -> Image.Image:
    """Colours converted from an embedded ICC profile to sRGB (the profile itself is not kept)."""
    icc = frame.info.get("icc_profile")
    if not icc or frame.mode not in ("RGB", "RGBA", "CMYK"):
        return frame  # grey images keep their grey values
    from PIL import ImageCms

    output = "RGBA" if frame.mode == "RGBA" else "RGB"
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc))
        converted = ImageCms.profileToProfile(frame, source, srgb(), outputMode=output)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return frame  # a broken profile: the pixels as they are
    return converted if converted is not None else frame


def resized(frames: Frames, width: int) -> Frames:
    """The frames scaled to `width`, the height in proportion."""
    from PIL import Image

    old_width, old_height = frames.size
    height = max(1, round(old_height * width / old_width))
    images = [
        image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        for image in frames.images
    ]
    return Frames(images, frames.durations, frames.loop)


def encode(frames: Frames, image_format: str) -> Encoded:
    """Write the frames in the format, with nothing but pixels and timing."""
    out = BytesIO()
    first, *rest = frames.images
    options = dict(SAVE_OPTIONS[image_format])
    if rest:
        options.update(save_all=True, append_images=rest, duration=frames.durations)
        if frames.loop is not None:
            options["loop"] = frames.loop
    try:
        first.save(out, image_format, **options)
    except OverflowError:  # GIF sums the delays of repeated frames it merges, in 16 bits
        raise refused(422, "The animation shows a frame for longer than GIF can say.") from None
    width, height = first.size
    return Encoded(out.getvalue(), width, height)
