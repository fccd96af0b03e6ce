"""A real headless Chromium for the report's tests: load a page, collect what it writes to its console, take a
screenshot, and read the screenshot's pixels (a small PNG reader: no imaging library needed)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

_CONSOLE = re.compile(r":CONSOLE[:(]")


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass(frozen=True)
class Loaded:
    console: list[str]  # every console message of the page (errors, warnings, CSP refusals)
    dom: str  # the document after loading, as Chromium serialises it


def _run(binary: str, page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        binary,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
        *extra,
        page.resolve().as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def load(binary: str, page: Path, profile: Path) -> Loaded:
    done = _run(binary, page, profile, "--dump-dom")
    console = [line for line in done.stderr.splitlines() if _CONSOLE.search(line)]
    return Loaded(console, done.stdout)


def screenshot(binary: str, page: Path, profile: Path, png: Path, size: tuple[int, int]) -> Path:
    _run(binary, page, profile, "--hide-scrollbars", f"--window-size={size[0]},{size[1]}", f"--screenshot={png}")
    return png


def png_colours(png: Path) -> set[tuple[int, int, int]]:
    """The colours of a non-interlaced 8-bit RGB or RGBA PNG's pixels (what Chromium writes)."""
    data = png.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{png} is not a PNG")
    offset, idat = 8, b""
    width = height = channels = 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError(f"{png}: unsupported PNG (depth {depth}, colour type {colour})")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    colours: set[tuple[int, int, int]] = set()
    for row in range(height):
        start = row * (stride + 1)
        kind_byte = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind_byte == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind_byte == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind_byte == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind_byte == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + predictor) & 0xFF
        colours.update((line[i], line[i + 1], line[i + 2]) for i in range(0, stride, channels))
        previous = line
    return colours
