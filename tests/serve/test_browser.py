#!/usr/bin/python3
"""The page of ferc serve in a real browser (make test-browser): Debian's Chromium, headless,
driven by Selenium through chromium-driver, with its fake camera playing a Y4M clip made here
from the fixture photo tests/data/faces_astronaut.png (panned left and right, so the face
moves). Checks, against the ferc command's own output where there is one:
  - photo: choosing tests/data/astronaut.jpg shows the command's box and emotion; with the TTA
    select on "centre", the command's `--tta centre` probabilities (as the page rounds them);
  - camera (started from the keyboard: Tab to the button, Space): a face box in the status
    and summary, and a curve whose points move as frames come;
  - camera refused: the page says so.
Screenshots go to --out (not committed).

  /usr/bin/python3 tests/serve/test_browser.py [--ferc build/ferc] [--out build/serve]
"""
import argparse
import json
import math
import os
import struct
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_serve import ROOT, Server  # noqa: E402  (same server start-up; sets FERC_WEIGHTS)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

EMOTIONS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]  # the page's table order


def read_gray_png(path):
    """8-bit gray, non-interlaced PNG (the fixture's format) with the standard library."""
    d = open(path, "rb").read()
    assert d[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(d):
        n, kind = struct.unpack(">I4s", d[pos:pos + 8])
        body = d[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype == 0 and interlace == 0, "not an 8-bit gray PNG"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    rows, prev = [], bytearray(w)
    for y in range(h):
        f, line = raw[y * (w + 1)], bytearray(raw[y * (w + 1) + 1:(y + 1) * (w + 1)])
        for x in range(w):
            a = line[x - 1] if x else 0
            b, c = prev[x], prev[x - 1] if x else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows


def make_clip(png, path, frames=20, fps=10):
    """A 4:2:0 Y4M clip of the gray photo panned by up to 24 pixels (edges repeated)."""
    w, h, rows = read_gray_png(png)
    chroma = bytes([128]) * (w // 2 * (h // 2))
    with open(path, "wb") as f:
        f.write(b"YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n" % (w, h, fps))
        for i in range(frames):
            dx = int(round(24 * math.sin(2 * math.pi * i / frames)))
            f.write(b"FRAME\n")
            for r in rows:
                f.write(r[:1] * dx + r[:w - dx] if dx >= 0 else r[-dx:] + r[-1:] * -dx)
            f.write(chroma + chroma)


def browser(clip, allow_camera):
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1400",
              "--use-fake-device-for-media-stream", "--use-file-for-fake-video-capture=" + clip]:
        o.add_argument(a)
    if allow_camera:
        o.add_argument("--use-fake-ui-for-media-stream")
    else:  # the user said no: the camera permission is blocked for every site
        o.add_experimental_option("prefs", {"profile.default_content_setting_values.media_stream_camera": 2})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def wait(what, fn, seconds=60):
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out after %d s waiting for %s" % (seconds, what))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferc", default=os.path.join(os.environ.get("FERC_BUILD", "build"), "ferc"))
    ap.add_argument("--out", default="build/serve")
    a = ap.parse_args()
    ferc = os.path.abspath(os.path.join(ROOT, a.ferc))
    out = os.path.abspath(os.path.join(ROOT, a.out))
    os.makedirs(out, exist_ok=True)
    clip = os.path.join(out, "astronaut_pan.y4m")
    make_clip(os.path.join(ROOT, "tests/data/faces_astronaut.png"), clip)
    photo = "tests/data/astronaut.jpg"
    want = json.loads(subprocess.run([ferc, photo], cwd=ROOT, capture_output=True, check=True).stdout)["faces"]
    failed = 0

    def check(cond, what):
        nonlocal failed
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        failed += 0 if cond else 1

    srv = Server(ferc, "--workers", "2")
    url = "http://127.0.0.1:%d/" % srv.port
    try:
        d = browser(clip, True)
        try:
            d.get(url)
            # Photo: the file input, as a person picking a file would fill it.
            d.find_element(By.ID, "file").send_keys(os.path.join(ROOT, photo))
            rows = wait("the photo's faces", lambda: d.find_elements(By.CSS_SELECTOR, "#photo-faces tr.face"))
            boxes = [r.text for r in rows]
            want_box = "box " + ", ".join(str(int(math.floor(v + 0.5))) for v in want[0]["box"])
            check(len(rows) == len(want) and rows[0].get_attribute("data-emotion") == want[0]["emotion"] and
                  want_box in boxes[0], "photo: %s, the command's: %d face(s), %s, %s" %
                  (boxes, len(want), want[0]["emotion"], want_box))
            size = d.execute_script("const c = document.getElementById('photo-canvas'); return [c.width, c.height];")
            check(size == [512, 512], "photo canvas %s" % size)
            d.save_screenshot(os.path.join(out, "photo.png"))

            # The TTA select goes into the query: the same photo with "centre" shows the
            # probabilities of the command's --tta centre, to the page's 0.1%.
            cmd = [ferc, "--tta", "centre", photo]
            p = json.loads(subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True).stdout)["faces"][0]
            want_rows = ["%s %.1f%%" % (e, 100 * p["probabilities"][e]) for e in EMOTIONS]
            Select(d.find_element(By.ID, "tta")).select_by_visible_text("centre")
            d.execute_script("document.getElementById('file').value = '';")  # the same file again
            d.find_element(By.ID, "file").send_keys(os.path.join(ROOT, photo))

            def face_rows():
                rows = [r.text for r in d.find_elements(By.CSS_SELECTOR, "#photo-faces tr")[1:8]]
                return rows if rows == want_rows else None
            try:
                check(wait("the centre-TTA probabilities", face_rows, 20) == want_rows,
                      "photo with TTA centre: %s" % want_rows)
            except AssertionError:
                rows = [r.text for r in d.find_elements(By.CSS_SELECTOR, "#photo-faces tr")[1:8]]
                check(False, "photo with TTA centre: page %s, the command's %s" % (rows, want_rows))

            # Camera, by keyboard only: Tab until the start button has focus, then Space.
            # Key presses go to whatever has focus, as a person's would (ActionChains).
            d.execute_script("document.activeElement.blur();")
            tabs = 0
            while d.switch_to.active_element.get_attribute("id") != "cam-start" and tabs < 30:
                ActionChains(d).send_keys(Keys.TAB).perform()
                tabs += 1
            check(d.switch_to.active_element.get_attribute("id") == "cam-start",
                  "Tab reaches the camera button (%d presses)" % tabs)
            ActionChains(d).send_keys(Keys.SPACE).perform()
            wait("a face in a camera frame",
                 lambda: "1 face" in d.find_element(By.ID, "cam-status").text, 90)
            line = 'document.querySelector("#curves polyline[data-emotion=happy]")'
            p1 = wait("a curve", lambda: d.execute_script("const l = %s; return l && l.getAttribute('points');" % line))
            time.sleep(3)
            p2 = d.execute_script("return %s.getAttribute('points');" % line)
            n1, n2 = len(p1.split()), len(p2.split())
            check(p1 != p2 and n2 > n1, "the curve moves: %d points, then %d, 3 s later" % (n1, n2))
            summary = d.find_elements(By.CSS_SELECTOR, "#summary .face-summary")
            check(len(summary) >= 1 and summary[0].get_attribute("data-emotion") in
                  ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"),
                  "per-face summary: %s" % [s.text for s in summary])
            cam = d.execute_script("const c = document.getElementById('cam-canvas'); return [c.width, c.height];")
            check(cam == [512, 512], "camera canvas shows the clip's frames: %s" % cam)
            check(d.find_element(By.ID, "cam-error").text == "", "no camera error when allowed")
            d.execute_script("document.getElementById('cam-h').scrollIntoView();")
            d.save_screenshot(os.path.join(out, "camera.png"))
        finally:
            d.quit()

        d = browser(clip, False)
        try:
            d.get(url)
            d.find_element(By.ID, "cam-start").send_keys(Keys.SPACE)
            msg = wait("the refusal message", lambda: d.find_element(By.ID, "cam-error").text, 30)
            check("refused" in msg, "camera refused: %r" % msg)
            d.save_screenshot(os.path.join(out, "denied.png"))
        finally:
            d.quit()
    finally:
        srv.stop()
    print("test_browser: %s (screenshots in %s)" % ("FAILED %d" % failed if failed else "all passed", out))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
