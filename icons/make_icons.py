"""Draws the callrec icon (a red record dot on a dark rounded square) as RGBA PNGs.

Run from the repository root: python3 icons/make_icons.py. Standard library only.
"""
import struct
import zlib


def png(size):
    radius = size * 0.22  # corner radius of the square
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter type: none
        for x in range(size):
            cx, cy = x + 0.5, y + 0.5
            # rounded square coverage (anti-aliased by distance)
            dx = max(radius - cx, 0, cx - (size - radius))
            dy = max(radius - cy, 0, cy - (size - radius))
            d = (dx * dx + dy * dy) ** 0.5
            bg = max(0.0, min(1.0, radius - d + 0.5)) if (dx or dy) else 1.0
            # record dot
            r = ((cx - size / 2) ** 2 + (cy - size / 2) ** 2) ** 0.5
            dot = max(0.0, min(1.0, size * 0.28 - r + 0.5))
            ring = max(0.0, min(1.0, size * 0.36 - r + 0.5)) - max(0.0, min(1.0, size * 0.33 - r + 0.5))
            base = (30, 41, 59)  # slate-800
            red = (220, 38, 38)  # red-600
            white = (241, 245, 249)
            col = base
            col = tuple(int(c * (1 - ring) + w * ring) for c, w in zip(col, white))
            col = tuple(int(c * (1 - dot) + rr * dot) for c, rr in zip(col, red))
            row += bytes(col) + bytes([int(255 * bg)])
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


for name, size in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
    with open(f"icons/{name}", "wb") as f:
        f.write(png(size))
