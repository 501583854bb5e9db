"""Regression images for the two image-decoder findings of issue 20 (fuzz/fuzz_image.c),
checked by tests/test_image.c.

    /usr/bin/python3 tests/gen/make_bad_images.py [--out tests/cli/bad] [--good tests/data] [--corpus fuzz/corpus/image]

Writes, under --out:
  png_header_overflow.png      a PNG whose IHDR claims 4294967295 x 4294967295 pixels (the
                               header guard multiplied the sides in int64 and overflowed)
  jpeg_undefined_huffman.jpg   a 16x16 gray baseline JPEG (OpenCV's encoder) whose scan names
                               DC Huffman table 1, which no DHT defines (stb decoded it with an
                               unbuilt table and aborted on STBI_ASSERT in stbi__jpeg_huff_decode)
and under --good:
  jpeg_progressive.jpg         a 16x16 RGB progressive JPEG and
  jpeg_baseline.jpg            its baseline twin (same quantisation): both must decode, to the
                               same pixels (the scan check must not refuse progressive scans,
                               whose DC scans name AC tables that are defined only later)
and each of the two bad files into --corpus with a leading byte (fuzz_image's first byte
picks gray or RGB output).
"""
import argparse
import os
import struct
import zlib

import cv2
import numpy as np


def png_header(w, h):
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", zlib.crc32(chunk[4:]))


def segments(jpg):
    """(offset, marker) of each marker segment before the first scan's data."""
    out, i = [], 2
    while i < len(jpg):
        assert jpg[i] == 0xFF
        m = jpg[i + 1]
        out.append((i, m))
        if m == 0xDA:
            break
        i += 2 + (jpg[i + 2] << 8 | jpg[i + 3])
    return out


def picture(channels):
    y, x = np.mgrid[0:16, 0:16]
    img = np.stack([(x * 16) % 256, (y * 16) % 256, ((x + y) * 8) % 256], -1).astype(np.uint8)
    return img if channels == 3 else img[:, :, 0].copy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/cli/bad")
    ap.add_argument("--good", default="tests/data")
    ap.add_argument("--corpus", default="fuzz/corpus/image")
    a = ap.parse_args()
    files = {"png_header_overflow.png": png_header(0xFFFFFFFF, 0xFFFFFFFF)}

    ok, enc = cv2.imencode(".jpg", picture(1), [cv2.IMWRITE_JPEG_QUALITY, 90])
    jpg = bytearray(enc.tobytes())
    sos = [o for o, m in segments(jpg) if m == 0xDA][0]
    assert jpg[sos + 4] == 1 and jpg[sos + 6] == 0x00  # one component, tables DC 0 / AC 0
    jpg[sos + 6] = 0x10  # DC table 1: never defined
    files["jpeg_undefined_huffman.jpg"] = bytes(jpg)

    good = {}
    rgb = cv2.cvtColor(picture(3), cv2.COLOR_RGB2BGR)
    for name, prog in (("jpeg_progressive.jpg", 1), ("jpeg_baseline.jpg", 0)):
        ok, enc = cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, 90, cv2.IMWRITE_JPEG_PROGRESSIVE, prog])
        assert any(m == (0xC2 if prog else 0xC0) for _, m in segments(enc.tobytes()))
        good[name] = enc.tobytes()

    for folder, group in ((a.out, files), (a.good, good)):
        os.makedirs(folder, exist_ok=True)
        for name, data in group.items():
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
    os.makedirs(a.corpus, exist_ok=True)
    for name in ("png_header_overflow.png", "jpeg_undefined_huffman.jpg"):
        with open(os.path.join(a.corpus, "regress_" + name), "wb") as f:
            f.write(b"\x01" + files[name])


if __name__ == "__main__":
    main()
