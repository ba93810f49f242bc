"""Media type and image size from a file's first bytes (PNG, JPEG, GIF, WebP), else its name."""

from __future__ import annotations

import struct

from rayguild.http_api.media import MediaInfo, describe
from rayguild.http_api.uploads import clean_filename
from tests.http.test_uploads import png


def jpeg(width: int, height: int, exif_bytes: int = 0) -> bytes:
    app1 = b"\xff\xe1" + struct.pack(">H", exif_bytes + 2) + b"\x00" * exif_bytes
    sof = b"\xff\xc2" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app1 + b"\xff\xfe\x00\x04hi" + sof + b"\xff\xd9"


def test_images_are_measured_from_their_headers() -> None:
    assert describe("x.bin", png(640, 480)) == MediaInfo("image/png", 640, 480)
    assert describe("x", jpeg(1920, 1080, exif_bytes=30_000)) == MediaInfo("image/jpeg", 1920, 1080)
    assert describe("a.gif", b"GIF89a" + struct.pack("<HH", 17, 9) + b"\x00" * 8) == MediaInfo(
        "image/gif", 17, 9
    )
    vp8x = b"RIFF\x00\x00\x00\x00WEBPVP8X" + b"\x0a\x00\x00\x00" + b"\x00" * 4
    vp8x += (299).to_bytes(3, "little") + (199).to_bytes(3, "little")
    assert describe("w", vp8x) == MediaInfo("image/webp", 300, 200)
    vp8l = b"RIFF\x00\x00\x00\x00WEBPVP8L" + b"\x00" * 4 + b"\x2f"
    vp8l += ((64 - 1) | ((32 - 1) << 14)).to_bytes(4, "little")
    assert describe("w", vp8l) == MediaInfo("image/webp", 64, 32)
    vp8 = (
        b"RIFF\x00\x00\x00\x00WEBPVP8 "
        + b"\x00" * 4
        + b"\x00\x00\x00\x9d\x01\x2a"
        + struct.pack("<HH", 50, 40)
    )
    assert describe("w", vp8) == MediaInfo("image/webp", 50, 40)


def test_other_files_are_typed_by_name() -> None:
    assert describe("notes.txt", b"hello") == MediaInfo("text/plain; charset=utf-8")
    assert describe("data.json", b"{}").content_type == "application/json"
    assert describe("blob", b"\x00\x01") == MediaInfo("application/octet-stream")
    # A file that claims to be an image but is not one is only typed by its name.
    assert describe("fake.png", b"\x89PNG broken") == MediaInfo("image/png")
    assert describe("cut.jpg", jpeg(10, 10)[:8]) == MediaInfo("image/jpeg")


def test_file_names_are_cleaned_as_discord_shows_them() -> None:
    assert clean_filename("my file (1).png") == "my_file__1_.png"
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("C:\\Users\\me\\a.txt") == "a.txt"
    assert clean_filename("...") == "unknown" and clean_filename("") == "unknown"
    assert clean_filename("SPOILER_x.bin") == "SPOILER_x.bin"
