"""Where an image file's own structure ends, so that bytes hidden after it are seen.

A polyglot (a PNG that is also a ZIP, a GIF that is also a script) is a real image with another
file after its end marker. Decoders stop at the marker and never look further, so the walk
here follows each format's blocks to the end the format defines.
"""

from __future__ import annotations

import struct


class Malformed(ValueError):
    """The file's blocks run past its end, or a block is not what the format allows there."""


def image_end(data: bytes, image_format: str) -> int:
    """The offset just past the image's last block (JPEG, MPO, PNG, GIF or WEBP)."""
    walk = WALKS[image_format]
    try:
        return walk(data)
    except (IndexError, struct.error):
        raise Malformed("the file ends inside a block") from None


def trailing_data(data: bytes, image_format: str) -> bool:
    """Whether anything but zero padding follows the image's end."""
    return bool(data[image_end(data, image_format) :].strip(b"\x00"))


def jpeg_end(data: bytes, start: int = 0) -> int:
    """Walk JPEG segments (and entropy-coded scans) from the SOI marker at `start` to EOI."""
    i, n = start + 2, len(data)
    while i < n:
        if data[i] != 0xFF:
            raise Malformed("a JPEG segment does not start with a marker")
        while data[i] == 0xFF:  # fill bytes may pad a marker
            i += 1
        marker = data[i]
        i += 1
        if marker == 0xD9:  # EOI
            return i
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # standalone markers carry no length
            continue
        (length,) = struct.unpack_from(">H", data, i)
        if length < 2 or i + length > n:
            raise Malformed("a JPEG segment runs past the end of the file")
        i += length
        if marker == 0xDA:  # SOS: scan data runs to the next marker that is not RSTn or FF00
            while True:
                j = data.find(b"\xff", i)
                if j < 0:  # the file was cut inside the scan
                    raise Malformed("a JPEG scan runs past the end of the file")
                following = data[j + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    i = j + 1
                    continue
                i = j
                break
    raise Malformed("the JPEG has no end marker")


def mpo_end(data: bytes) -> int:
    """Walk a multi-picture JPEG: whole JPEGs one after the other (its MP index names them)."""
    end = jpeg_end(data)
    while data.startswith(b"\xff\xd8", end):
        end = jpeg_end(data, end)
    return end


def png_end(data: bytes) -> int:
    """Walk PNG chunks to IEND."""
    i, n = 8, len(data)
    while True:
        length: int = struct.unpack_from(">I", data, i)[0]
        kind = data[i + 4 : i + 8]
        i += 12 + length  # length, type, data, CRC
        if i > n:
            raise Malformed("a PNG chunk runs past the end of the file")
        if kind == b"IEND":
            return i


def gif_sub_blocks(data: bytes, i: int) -> int:
    """Skip a chain of GIF data sub-blocks; the offset after its terminator."""
    while (size := data[i]) != 0:
        i += size + 1
    return i + 1


def gif_end(data: bytes) -> int:
    """Walk GIF blocks to the trailer (a file cut just before it ends at its length)."""
    packed = data[10]
    i = 13 + (3 * 2 ** ((packed & 7) + 1) if packed & 0x80 else 0)  # header, screen, palette
    n = len(data)
    while i < n:
        block = data[i]
        if block == 0x3B:  # trailer
            return i + 1
        if block == 0x21:  # extension: label, then sub-blocks
            i = gif_sub_blocks(data, i + 2)
        elif block == 0x2C:  # image: descriptor, local palette, LZW code size, sub-blocks
            packed = data[i + 9]
            i += 10 + (3 * 2 ** ((packed & 7) + 1) if packed & 0x80 else 0)
            i = gif_sub_blocks(data, i + 1)
        else:
            raise Malformed(f"a GIF block starts with 0x{block:02x}")
    if i > n:
        raise Malformed("a GIF block runs past the end of the file")
    return n


def webp_end(data: bytes) -> int:
    """The end a WebP's RIFF header declares (its chunks padded to even sizes)."""
    size: int = struct.unpack_from("<I", data, 4)[0]
    end = 8 + size + (size & 1)
    if end > len(data) + (size & 1):
        raise Malformed("the WebP is shorter than its header says")
    return min(end, len(data))


WALKS = {"JPEG": jpeg_end, "MPO": mpo_end, "PNG": png_end, "GIF": gif_end, "WEBP": webp_end}
