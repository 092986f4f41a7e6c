"""Draw the Teams app icons with the standard library only (zlib + struct PNG writer).

color.png: 192x192, a white calendar on Slotbot blue, full background (Teams' colour icon).
outline.png: 32x32, the same calendar in white on a transparent background (Teams requires
white and transparent only for the outline icon).

Run: python manifest/teams/make_icons.py  (writes both files next to this script)
"""

from __future__ import annotations

import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

ACCENT = (0x4F, 0x6B, 0xED)
WHITE = (0xFF, 0xFF, 0xFF)

Pixel = tuple[int, int, int, int]


def png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """An 8-bit RGBA PNG, one filter byte (0) per row."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return (
            struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def calendar(x: float, y: float) -> bool:
    """The glyph on a unit square: a calendar page with two rings and a check-like slot grid."""
    left, right, top, bottom = 0.2, 0.8, 0.24, 0.82
    border = 0.06
    inside = left <= x <= right and top <= y <= bottom
    if not inside:
        # the two binder rings above the page
        return any(abs(x - cx) <= 0.035 and 0.16 <= y <= 0.3 for cx in (0.36, 0.64))
    frame = x < left + border or x > right - border or y < top + border or y > bottom - border
    header_bar = y < top + 0.16
    # a 3x2 grid of slots in the page body
    cell_x = (x - left - border) / ((right - left - 2 * border) / 3)
    cell_y = (y - top - 0.2) / ((bottom - top - 0.26) / 2)
    slot = 0 <= cell_y < 2 and 0 <= cell_x < 3 and (cell_x % 1) < 0.6 and (cell_y % 1) < 0.6
    return frame or header_bar or slot


def color_pixel(size: int) -> Callable[[int, int], Pixel]:
    def pixel(x: int, y: int) -> Pixel:
        on = calendar((x + 0.5) / size, (y + 0.5) / size)
        r, g, b = WHITE if on else ACCENT
        return (r, g, b, 255)

    return pixel


def outline_pixel(size: int) -> Callable[[int, int], Pixel]:
    def pixel(x: int, y: int) -> Pixel:
        on = calendar((x + 0.5) / size, (y + 0.5) / size)
        return (255, 255, 255, 255) if on else (0, 0, 0, 0)

    return pixel


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else Path(__file__).resolve().parent
    (folder / "color.png").write_bytes(png(192, 192, color_pixel(192)))
    (folder / "outline.png").write_bytes(png(32, 32, outline_pixel(32)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
