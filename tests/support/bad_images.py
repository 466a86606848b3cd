"""Files a careless or hostile client uploads: other types dressed as images, polyglots, images
that lie about their size, carry metadata or a payload, or use the formats' rarer corners."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Sequence
from typing import Any

from PIL import Image, PngImagePlugin

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
ORIENTATION = 0x0112
PHP_PAYLOAD = b"<?php system($_GET['c']); ?>"
SCRIPT = b"alert(document.domain);"
RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)

SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
    b'<rect width="100" height="100" fill="red"/><script>' + SCRIPT + b"</script></svg>\n"
)
HTML_PAGE = b"<!DOCTYPE html><html><body><script>" + SCRIPT + b"</script></body></html>\n"
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def saved(image: Image.Image, image_format: str, **options: Any) -> bytes:
    """The image written in `image_format`."""
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def png_zip_polyglot() -> bytes:
    """A valid PNG with a ZIP archive appended: an image to a decoder, an archive to unzip."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("shell.php", PHP_PAYLOAD)
    return saved(Image.new("RGB", (40, 30), RED), "PNG") + archive.getvalue()


def gif_js_polyglot() -> bytes:
    """A GIF that is also JavaScript: `GIF89a/*` opens a comment (the screen width's bytes),
    which the script after the GIF's trailer closes."""
    gif = bytearray(saved(Image.new("P", (1, 1), 0), "GIF"))
    gif[6:8] = b"/*"  # logical screen width 10,799: still a valid GIF
    return bytes(gif) + b"*/=1;" + SCRIPT


def gif_with_script_after_trailer() -> bytes:
    """A plain GIF with a script after its trailer."""
    return saved(Image.new("P", (20, 20), 0), "GIF") + b"\n" + SCRIPT


def with_jpeg_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """The JPEG with a segment inserted right after its SOI marker."""
    segment = struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def jpeg_markers(jpeg: bytes) -> list[int]:
    """The markers of a JPEG's segments up to its first scan (where metadata lives)."""
    markers, i = [], 2
    while i + 4 <= len(jpeg):
        marker = jpeg[i + 1]
        markers.append(marker)
        if marker == 0xDA:
            break
        i += 2 + struct.unpack_from(">H", jpeg, i + 2)[0]
    return markers


def photo(size: tuple[int, int] = (800, 600), corner: tuple[int, int, int] = RED) -> Image.Image:
    """A white picture with a coloured block in its top-left corner (a tenth of each side)."""
    image = Image.new("RGB", size, WHITE)
    width, height = size
    image.paste(corner, (0, 0, width // 10, height // 10))
    return image


def gps_exif(orientation: int | None = None) -> Image.Exif:
    """EXIF a phone writes: camera, time and a GPS position (Berlin), optionally orientation."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 12"
    exif[0x0132] = "2026:05:01 12:00:00"
    if orientation is not None:
        exif[ORIENTATION] = orientation
    exif.get_ifd(EXIF_IFD)[0x9003] = "2026:05:01 12:00:00"  # DateTimeOriginal
    exif.get_ifd(GPS_IFD).update(
        {
            0x0001: "N",
            0x0002: (52.0, 31.0, 12.0),
            0x0003: "E",
            0x0004: (13.0, 24.0, 36.0),
        }
    )
    return exif


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="52,31.2N" '
    b'exif:GPSLongitude="13,24.6E"/></rdf:RDF></x:xmpmeta>'
)


def with_location(image_format: str = "JPEG") -> bytes:
    """A photo (JPEG, PNG or WebP) with EXIF (GPS included), XMP and, but in WebP, a comment
    saying where it was taken, each where its format keeps them."""
    note = "Taken at home, Example Street 1"
    if image_format == "PNG":
        chunks = PngImagePlugin.PngInfo()
        chunks.add_itxt("XML:com.adobe.xmp", XMP.decode())
        chunks.add_text("Comment", note)
        return saved(photo(), "PNG", exif=gps_exif(), pnginfo=chunks)
    if image_format == "WEBP":
        return saved(photo(), "WEBP", exif=gps_exif(), xmp=XMP)
    return saved(photo(), "JPEG", exif=gps_exif(), xmp=XMP, comment=note.encode(), quality=90)


def rotated_jpeg(orientation: int) -> bytes:
    """A photo stored sideways, 800x400 in the file, with its EXIF orientation."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return saved(photo((800, 400)), "JPEG", exif=exif, quality=95)


def multi_picture_jpeg() -> bytes:
    """A JPEG with a second picture after it, declared in its MP index (MPO), as cameras write
    stereo pairs and phones Ultra HDR photos (a gain map): the first red-cornered, the second
    blue-cornered."""
    second = photo(corner=BLUE)
    return saved(photo(), "MPO", save_all=True, append_images=[second], quality=95)


def gif_repeating_a_long_frame() -> bytes:
    """A GIF showing one picture twice for GIF's longest delay (655.35 s) each."""
    gif = saved(Image.new("P", (10, 10), 1), "GIF", duration=655_350)
    frame = gif.index(b"\x21\xf9\x04")  # the graphic control extension: delay, then image
    return gif[:-1] + gif[frame:-1] + b";"


def gif_of_tiny_frames(count: int) -> bytes:
    """A GIF of `count` 1x1 frames, 25 bytes each."""
    gif = saved(Image.new("P", (1, 1), 0), "GIF", duration=20)
    frame = gif.index(b"\x21\xf9\x04")
    return gif[:-1] + gif[frame:-1] * (count - 1) + b";"


def png_claiming(width: int, height: int) -> bytes:
    """A 1x1 PNG whose IHDR claims `width` x `height` (its CRC recomputed to match)."""
    png = bytearray(saved(Image.new("L", (1, 1), 0), "PNG"))
    png[16:24] = struct.pack(">II", width, height)
    png[29:33] = struct.pack(">I", zlib.crc32(png[12:29]))  # the CRC over IHDR's type and data
    return bytes(png)


def gif_claiming(width: int, height: int) -> bytes:
    """A 1x1 GIF whose logical screen claims `width` x `height`."""
    gif = bytearray(saved(Image.new("P", (1, 1), 0), "GIF"))
    gif[6:10] = struct.pack("<HH", width, height)
    return bytes(gif)


def cmyk_jpeg() -> bytes:
    """A print-ready JPEG in CMYK: pure red ink-wise (no cyan, full magenta and yellow)."""
    return saved(Image.new("CMYK", (400, 300), (0, 255, 255, 0)), "JPEG", quality=95)


def sixteen_bit_png(width: int = 512, height: int = 16) -> bytes:
    """A 16-bit greyscale PNG: a gradient from 0 on the left to 65535 on the right."""
    image = Image.new("I;16", (width, height))
    image.putdata([x * 65535 // (width - 1) for _ in range(height) for x in range(width)])
    return saved(image, "PNG")


def palette_png_with_transparency(size: tuple[int, int] = (400, 200)) -> bytes:
    """A palette PNG whose left half is transparent (index 0) and right half red (index 1)."""
    width, height = size
    image = Image.new("P", size, 0)
    image.putpalette([0, 0, 0, *RED] + [0, 0, 0] * 254)
    image.paste(1, (width // 2, 0, width, height))
    return saved(image, "PNG", transparency=0)


FRAME_COLOURS = ((255, 0, 0), (0, 160, 0), (0, 0, 255))


def animation(
    image_format: str, durations: Sequence[int], size: tuple[int, int] = (400, 200)
) -> bytes:
    """An animation of one plain colour per frame, with these frame durations (ms)."""
    frames = [Image.new("RGB", size, FRAME_COLOURS[i % 3]) for i in range(len(durations))]
    return saved(
        frames[0],
        image_format,
        save_all=True,
        append_images=frames[1:],
        duration=list(durations),
        loop=0,
    )


def frame_durations(data: bytes) -> list[int]:
    """The duration (ms) of every frame of an animation."""
    image = Image.open(io.BytesIO(data))
    durations = []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        image.load()  # WebP reads a frame's timing as it decodes it
        durations.append(int(image.info.get("duration", 0)))
    return durations
