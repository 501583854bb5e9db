#!/usr/bin/python3
"""ferc serve end to end (make test): starts the server on a free loopback port and talks to
it over real sockets (http.client, which ignores proxy settings, and raw sockets for the
misbehaving clients). The reference is the ferc command itself, run on the same fixture
images with the same options: the server's answers must be its output byte for byte.

  /usr/bin/python3 tests/serve/test_serve.py [--ferc build/ferc] [--valgrind]

--valgrind (make valgrind-serve): every server runs under valgrind's memcheck with
tests/valgrind_cli.sh's flags while the same checks talk to it, then is stopped by a signal;
any memory error or leak fails. valgrind has no AVX-512 and runs ~50x slower, so everything
(the reference command too) runs on the AVX2 path, on two small fixtures instead of the
512x512 photos, with fewer query variants (VALGRIND_VARIANTS) and longer waits.
"""
import argparse
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGES = ["tests/data/astronaut.jpg", "tests/data/faces_group.png", "tests/data/faces_astronaut.png"]
# Query string -> the command's options. Every query option and detector is covered. The
# first: the server's defaults (its extra options), the answers checked on every image in IMAGES;
# the others on IMAGES[1].
VARIANTS = [
    ("", []),
    ("detector=haar", ["--detector", "haar"]),
    ("detector=lbp&classifier=small", ["--detector", "lbp", "--classifier", "small"]),
    ("classifier=lbp-svm", ["--classifier", "lbp-svm"]),
    ("tta=1", ["--tta"]),
    ("tta=crops&classifier=small", ["--tta", "crops", "--classifier", "small"]),
    ("align=1&detector=haar", ["--align", "--detector", "haar"]),
    ("int8=1", ["--int8"]),
    ("int8=1&classifier=small&tta=1", ["--int8", "--classifier", "small", "--tta"]),
    ("tta=centre", ["--tta", "centre"]),
]
# --valgrind: small images, and the servers without a detector by default, with one cascade
# detector among the variants: the network detectors (SSD, YuNet) take minutes per image there.
VALGRIND_IMAGES = ["tests/data/astronaut_face.png", "tests/cli/scene.png"]
VALGRIND_VARIANTS = [
    ("", ["--no-detect"]),
    ("detector=haar", ["--detector", "haar"]),
    ("classifier=small&tta=1", ["--no-detect", "--classifier", "small", "--tta"]),
    ("classifier=lbp-svm", ["--no-detect", "--classifier", "lbp-svm"]),
    ("int8=1", ["--no-detect", "--int8"]),
]
MAX_BODY = 1 << 20
MAX_PIXELS = 400000  # the main server's --max-pixels: over the 640x480 of the largest fixture
# build/ferc finds no weights/ beside it: point it at the repository's.
os.environ.setdefault("FERC_WEIGHTS", os.path.join(ROOT, "weights"))
TIMEOUT_S = 2
VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
            "--errors-for-leak-kinds=definite,indirect,possible", "--suppressions=tests/valgrind.supp"]


class Server:
    """ferc serve on a free loopback port (--port 0; the port is read from its first line)."""
    valgrind = False  # run under VALGRIND (--valgrind)
    slow = 1  # waits are multiplied by this

    def __init__(self, ferc, *args):
        self.vglog = None
        prefix = []
        if Server.valgrind:
            fd, self.vglog = tempfile.mkstemp(prefix="ferc_serve_valgrind_", suffix=".log")
            os.close(fd)
            prefix = VALGRIND + ["--log-file=" + self.vglog]
        self.proc = subprocess.Popen(prefix + [ferc, "serve", "--port", "0", *args], cwd=ROOT, stderr=subprocess.PIPE,
                                     text=True)
        line = self.proc.stderr.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("ferc serve did not start: " + line + self.proc.stderr.read())
        self.port = int(m.group(1))
        self.log = []
        threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True).start()

    def request(self, method, path, body=None, headers=None, timeout=120):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout * Server.slow)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def raw(self, data, wait=120):
        """Sends bytes on a new connection; returns what comes back until the server closes."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=wait)
        try:
            s.sendall(data)
            out = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return out
                out += chunk
                if re.search(rb"\r\n\r\n", out):
                    m = re.search(rb"Content-Length: (\d+)", out, re.I)
                    head_end = out.index(b"\r\n\r\n") + 4
                    if m and len(out) >= head_end + int(m.group(1)):
                        return out
        finally:
            s.close()

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=60 * Server.slow)

    def check_valgrind(self, check, what):
        """Under --valgrind: valgrind's verdict on the stopped server (its exit status is 99 on
        any error or leak, which the caller's exit-status check sees too)."""
        if not self.vglog:
            return
        with open(self.vglog) as f:
            log = f.read()
        os.unlink(self.vglog)
        summary = [re.sub(r"^==\d+== +", "", line) for line in log.splitlines()
                   if re.search(r"ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|"
                                r"All heap blocks were freed|total heap usage", line)]
        print("valgrind, %s:\n  %s" % (what, "\n  ".join(summary)), flush=True)
        m = re.search(r"ERROR SUMMARY: (\d+) errors", log)
        check(m and m.group(1) == "0", "valgrind, %s: %s" % (what, log[-3000:]))


def multipart(field, filename, data, boundary="ferc-test-boundary-7MA4YWxk"):
    body = (b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n" +
            b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; name=\"" + field.encode() +
            b"\"; filename=\"" + filename.encode() + b"\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
            data + b"\r\n--" + boundary.encode() + b"--\r\n")
    return body, {"Content-Type": "multipart/form-data; boundary=" + boundary}


def command(ferc, args, stdin=None, cwd=ROOT):
    r = subprocess.run([ferc, *args], cwd=cwd, input=stdin, capture_output=True)
    return r.returncode, r.stdout


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


class Check:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: " + what, flush=True)


def error_of(body):
    return json.loads(body).get("error", "")


def test_answers(srv, ferc, check):
    """JSON equal to the command's: every fixture image with the defaults (raw body and
    multipart), and every query variant on the group photo (several faces)."""
    cases = [("", VARIANTS[0][1], IMAGES)] + [(q, o, [IMAGES[1]]) for q, o in VARIANTS[1:]]
    for query, opts, images in cases:
        rc, out = command(ferc, opts + images)
        lines = out.decode().splitlines()
        check(rc == 0 and len(lines) == len(images), "command %s on %s: rc %d" % (opts, images, rc))
        for path, line in zip(images, lines):
            expect_raw = line.replace('"file":' + json.dumps(path), '"file":"-"', 1) + "\n"
            st, hd, body = srv.request("POST", "/v1/analyze?" + query, read(path), {"Content-Type": "image/png"})
            check(st == 200 and body.decode() == expect_raw,
                  "raw %s ?%s: %d %r != command %r" % (path, query, st, body[:300], expect_raw[:300]))
            check(hd.get("Content-Type") == "application/json", "raw %s: content type %s" % (path, hd.get("Content-Type")))
            if query in ("", "tta=1"):
                b, h = multipart("image", path, read(path))
                st, _, body = srv.request("POST", "/v1/analyze?" + query, b, h)
                check(st == 200 and body.decode() == line + "\n",
                      "multipart %s ?%s: %d %r != command %r" % (path, query, st, body[:300], line[:300]))
    # Byte for byte with the command reading the same bytes from standard input.
    rc, out = command(ferc, VARIANTS[0][1] + ["-"], stdin=read(IMAGES[0]))
    st, _, body = srv.request("POST", "/v1/analyze", read(IMAGES[0]))
    check(rc == 0 and st == 200 and body == out, "astronaut via stdin: %r vs %r" % (body[:200], out[:200]))
    # An already-cropped face: detector=none is the command's --no-detect.
    rc, out = command(ferc, ["--no-detect", "-"], stdin=read("tests/data/astronaut_face.png"))
    st, _, body = srv.request("POST", "/v1/analyze?detector=none", read("tests/data/astronaut_face.png"))
    check(rc == 0 and st == 200 and body == out, "detector=none: %r vs %r" % (body[:200], out[:200]))


def test_annotate(srv, ferc, check):
    """annotate=1: the JPEG the command's --annotate writes, byte for byte (for an input
    named .jpg: the command writes the format the input's name has)."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "in.jpg"), "wb") as f:
            f.write(read(IMAGES[0]))
        rc, _ = command(ferc, VARIANTS[0][1] + ["--annotate", "out", "in.jpg"], cwd=d)
        want = open(os.path.join(d, "out", "in.jpg"), "rb").read()
    st, hd, body = srv.request("POST", "/v1/analyze?annotate=1", read(IMAGES[0]))
    check(rc == 0 and st == 200 and hd.get("Content-Type") == "image/jpeg" and body == want,
          "annotate=1: %d %s, %d bytes vs the command's %d" % (st, hd.get("Content-Type"), len(body), len(want)))


def test_errors(srv, ferc, check):
    """Every error status, each with a JSON {"error": ...} that names the problem."""
    def expect(status, what, got, words):
        st, hd, body = got
        ok = st == status and hd.get("Content-Type") == "application/json"
        msg = error_of(body) if ok else ""
        check(ok and all(w in msg for w in words), "%s: want %d %s, got %d %r" % (what, status, words, st, body[:300]))
        return hd

    img = read(IMAGES[0])
    expect(404, "unknown path", srv.request("GET", "/nope"), ["/nope"])
    hd = expect(405, "GET /v1/analyze", srv.request("GET", "/v1/analyze"), ["POST"])
    check(hd.get("Allow") == "POST", "405 names the allowed method: %r" % hd.get("Allow"))
    expect(405, "POST /healthz", srv.request("POST", "/healthz", b"x"), ["GET"])
    expect(400, "unknown parameter", srv.request("POST", "/v1/analyze?colour=1", img), ["colour"])
    expect(400, "bad detector", srv.request("POST", "/v1/analyze?detector=yolo", img), ["detector=yolo", "ssd"])
    expect(400, "bad flag", srv.request("POST", "/v1/analyze?tta=maybe", img), ["tta=maybe", "crops"])
    expect(400, "parameter twice", srv.request("POST", "/v1/analyze?tta=1&tta=0", img), ["tta", "twice"])
    expect(400, "int8 without an int8 model", srv.request("POST", "/v1/analyze?int8=1&classifier=lbp-svm", img),
           ["lbp-svm int8", "q8"])
    expect(400, "empty body", srv.request("POST", "/v1/analyze", b""), ["empty"])
    b, h = multipart("photo", "a.jpg", img)
    expect(400, "multipart without 'image'", srv.request("POST", "/v1/analyze", b, h), ["image"])
    expect(400, "multipart without boundary",
           srv.request("POST", "/v1/analyze", b, {"Content-Type": "multipart/form-data"}), ["boundary"])
    b, h = multipart("image", "a.jpg", img)
    expect(400, "multipart cut before its closing boundary", srv.request("POST", "/v1/analyze", b[:-40], h), ["boundary"])
    expect(415, "text/plain body", srv.request("POST", "/v1/analyze", b"hello", {"Content-Type": "text/plain"}),
           ["text/plain"])
    # Not an image: 422 and the command's own JSON for the same bytes on standard input.
    rc, out = command(ferc, ["-"], stdin=b"this is not an image")
    st, _, body = srv.request("POST", "/v1/analyze", b"this is not an image")
    check(rc == 1 and st == 422 and body == out, "not an image: %d %r vs the command's %r" % (st, body, out))
    st, _, body = srv.request("POST", "/v1/analyze", img[: len(img) // 3])
    check(st == 422 and "-:" in error_of(body), "truncated JPEG: %d %r" % (st, body))
    # Over --max-pixels: refused from its header before any pixel is decoded, as by the command.
    def png_chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    big = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1000, 1000, 8, 2, 0, 0, 0))
    rc, out = command(ferc, ["--max-pixels", str(MAX_PIXELS), "-"], stdin=big)
    st, _, body = srv.request("POST", "/v1/analyze", big)
    check(rc == 1 and st == 422 and body == out and "1000x1000" in error_of(body),
          "over --max-pixels: %d %r vs the command's %r" % (st, body, out))
    # 411: a POST with neither Content-Length nor chunked encoding.
    out = srv.raw(b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 411") and b"Content-Length" in out, "411: %r" % out[:200])
    # 413, declared: refused from the headers alone, before any body byte is sent.
    out = srv.raw(b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1))
    check(out.startswith(b"HTTP/1.1 413") and b"max-body" in out, "413 by Content-Length: %r" % out[:200])
    # 413, chunked: the size is only known as it arrives; still a 413, not a dropped connection.
    chunk = b"x" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(MAX_BODY // len(chunk) + 2)) + b"0\r\n\r\n"
    out = srv.raw(b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body)
    check(out.startswith(b"HTTP/1.1 413") and b"max-body" in out, "413 chunked: %r" % out[:200])
    # 413, chunked, far past the limit (5x): answered as the limit is crossed, while the client
    # is still sending; a client that reads as it sends (as curl does) gets it and stops.
    st, body, sent, total = chunked_reading_client(srv.port, 5 * MAX_BODY)
    check(st == 413 and "max-body" in error_of(body) and sent < total,
          "413 chunked at 5x the limit: status %s %r after %d of %d bytes sent" % (st, body[:200], sent, total))
    if shutil.which("curl"):
        r = subprocess.run(["curl", "-sS", "-T", "-", "-X", "POST", "-w", "\n%{http_code}",
                            "http://127.0.0.1:%d/v1/analyze" % srv.port], input=b"\0" * (5 * MAX_BODY),
                           capture_output=True, timeout=60 * Server.slow)
        body, _, code = r.stdout.rpartition(b"\n")
        check(r.returncode == 0 and code == b"413" and "max-body" in error_of(body),
              "curl -T - (chunked) at 5x the limit: exit %d, %r %r" % (r.returncode, r.stdout[-200:], r.stderr[-200:]))
    else:
        print("curl not installed: its 413 check skipped")
    # A chunked body under the limit is an ordinary request.
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(img), img)
    out = srv.raw(b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body)
    check(out.startswith(b"HTTP/1.1 200") and b'"faces":[{' in out, "chunked image: %r" % out[:200])


def chunked_reading_client(port, total, chunk=65536):
    """POSTs `total` bytes as 64 KiB chunks while reading what comes back, and stops sending
    once a whole answer is in (as curl does). Returns (status, body, bytes sent by then, bytes
    of the whole chunked body)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)  # little in flight: sent ~ what the server got
    s.sendall(b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    s.setblocking(False)
    out, pending, sent, deadline = b"", b"", 0, time.monotonic() + 60 * Server.slow
    pieces = [b"%x\r\n%s\r\n" % (chunk, b"x" * chunk)] * (total // chunk) + [b"0\r\n\r\n"]
    total = sum(map(len, pieces))
    try:
        while time.monotonic() < deadline:
            head_end = out.find(b"\r\n\r\n")
            m = re.search(rb"Content-Length: (\d+)", out[:head_end], re.I) if head_end >= 0 else None
            if m and len(out) >= head_end + 4 + int(m.group(1)):
                return int(out.split(b" ", 2)[1]), out[head_end + 4:], sent, total
            r, w, _ = select.select([s], [s] if pieces or pending else [], [], 5)
            if r:
                d = s.recv(65536)
                if not d:
                    break
                out += d
            elif w:
                if not pending:
                    pending = pieces.pop(0)
                    sent += len(pending)
                pending = pending[s.send(pending):]
    except OSError as e:
        return 0, repr(e).encode() + out[:200], sent, total
    finally:
        s.close()
    return 0, out[:200], sent, total


def test_bad_clients(srv, ferc, check):
    """A body cut off mid-way, and clients that stall in the headers or the body: the server
    closes them after --timeout and goes on serving."""
    img = read(IMAGES[0])
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(img) + img[:5000])
    s.close()
    for what, data in [("in the body", b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(img)
                        + img[:1000]), ("in the headers", b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Le")]:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT_S + 20)
        t0 = time.monotonic()
        s.sendall(data)
        try:
            got = s.recv(4096)
            while got and not got.endswith(b"\r\n\r\n") and b"}" not in got:
                got += s.recv(4096)
        except OSError as e:
            got = repr(e).encode()
        dt = time.monotonic() - t0
        s.close()
        check(dt < TIMEOUT_S + 10 and (got == b"" or b"HTTP/1.1 408" in got),
              "client stalled %s: closed after %.1f s (timeout %d s), got %r" % (what, dt, TIMEOUT_S, got[:100]))
    st, _, body = srv.request("POST", "/v1/analyze", img)
    check(st == 200 and b'"faces":[{' in body, "an image after the bad clients: %d %r" % (st, body[:200]))


def metric(text, name):
    m = re.search(r"^" + re.escape(name) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def test_burst(ferc, check):
    """One worker, a queue of 2, 24 clients at once: each gets 200 or 503 (with Retry-After),
    nothing else, and the metrics count them all."""
    srv = Server(ferc, "--workers", "1", "--queue", "2", "--timeout", str(TIMEOUT_S), *VARIANTS[0][1])
    try:
        img = read(IMAGES[0])
        results = []

        def one():
            try:
                st, hd, body = srv.request("POST", "/v1/analyze", img)
                results.append((st, hd.get("Retry-After"), body))
            except OSError as e:
                results.append((0, None, repr(e).encode()))

        threads = [threading.Thread(target=one) for _ in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(st for st, _, _ in results)
        ok200 = codes.count(200)
        check(set(codes) <= {200, 503} and ok200 >= 1 and codes.count(503) >= 1, "burst statuses: %s" % codes)
        check(all(ra == "1" for st, ra, _ in results if st == 503), "503 without Retry-After")
        check(all("queue" in error_of(b) for st, _, b in results if st == 503), "503 message")
        _, _, m = srv.request("GET", "/metrics")
        m = m.decode()
        check(metric(m, 'ferc_requests_total{code="200"}') == ok200 and
              metric(m, 'ferc_requests_total{code="503"}') == codes.count(503) and
              metric(m, "ferc_faces_total") == ok200 and metric(m, "ferc_request_duration_seconds_count") == 24,
              "metrics after the burst (%d x 200): %s" % (ok200, m))
        # Shutdown with an image in flight: it is still answered, and the exit is clean.
        results.clear()
        t = threading.Thread(target=one)
        t.start()
        time.sleep(0.3 * Server.slow)
        rc = srv.stop(signal.SIGINT)
        t.join()
        check(rc == 0 and results and results[0][0] == 200, "SIGINT with an image in flight: rc %s, %s" % (rc, results))
        check(any("stopped" in line for line in srv.log), "no 'stopped' line: %s" % srv.log)
        srv.check_valgrind(check, "the burst server after SIGINT")
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferc", default=os.path.join(os.environ.get("FERC_BUILD", "build"), "ferc"))
    ap.add_argument("--valgrind", action="store_true", help="run the servers under valgrind (make valgrind-serve)")
    a = ap.parse_args()
    if a.valgrind:
        global IMAGES, VARIANTS
        IMAGES, VARIANTS = VALGRIND_IMAGES, VALGRIND_VARIANTS
        os.environ["FERC_ISA"] = "avx2"
        Server.valgrind, Server.slow = True, 10
    ferc = os.path.abspath(os.path.join(ROOT, a.ferc) if not os.path.isabs(a.ferc) else a.ferc)
    check = Check()
    srv = Server(ferc, "--workers", "2", "--queue", "16", "--max-body", str(MAX_BODY), "--timeout", str(TIMEOUT_S),
                 "--max-pixels", str(MAX_PIXELS), *VARIANTS[0][1])
    try:
        for name, fn in [("answers", test_answers), ("annotate", test_annotate), ("errors", test_errors),
                         ("bad clients", test_bad_clients)]:
            t0 = time.monotonic()
            before = check.failed
            fn(srv, ferc, check)
            print("%s %s (%.1f s)" % ("ok  " if check.failed == before else "FAIL", name, time.monotonic() - t0),
                  flush=True)
        st, _, body = srv.request("GET", "/healthz")
        check(st == 200 and json.loads(body)["status"] == "ok", "healthz after everything: %d %r" % (st, body))
        st, hd, page = srv.request("GET", "/")
        check(st == 200 and hd.get("Content-Type", "").startswith("text/html") and page == read("tools/cli/serve_page.html"),
              "GET / is tools/cli/serve_page.html")
        _, _, m = srv.request("GET", "/metrics")
        m = m.decode()
        # Aborted: the body cut off and the client stalled in the body (one that never
        # finishes its headers is not yet a request).
        n413 = 4 if shutil.which("curl") else 3
        check(metric(m, "ferc_requests_aborted_total") == 2 and metric(m, 'ferc_requests_total{code="413"}') == n413 and
              metric(m, 'ferc_models_loaded{classifier="cnn",precision="fp32"}') == 1 and
              metric(m, 'ferc_models_loaded{classifier="cnn",precision="int8"}') == 1 and
              metric(m, "ferc_queue_depth") == 0,
              "metrics after the errors: " + m)
        rc = srv.stop()
        check(rc == 0, "SIGTERM: exit status %s" % rc)
        srv.check_valgrind(check, "the server after SIGTERM")
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()
        if check.failed:  # what the server said (sanitizer reports land here)
            print("server stderr:\n" + "".join(srv.log[-40:]))
    t0 = time.monotonic()
    before = check.failed
    test_burst(ferc, check)
    print("%s burst and shutdown (%.1f s)" % ("ok  " if check.failed == before else "FAIL", time.monotonic() - t0))
    print("test_serve: %d checks passed, %d failed" % (check.passed, check.failed))
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
