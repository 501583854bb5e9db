#!/usr/bin/python3
"""Peak resident memory of ferc serve (docs/reliability.md): the server's VmHWM (the
kernel's peak RSS of the process, /proc/PID/status), read just before it is stopped.

  nice -n 10 /usr/bin/python3 bench/serve_memory.py [--ferc ./ferc] [--seconds 30]
      [--connections 16] [--big-clients 16] [--max-body 33554432]

1. Idle: the default models loaded, the default analyzer made on every worker.
2. Under load: wrk for --seconds at --connections connections POSTing tests/data/astronaut.jpg
   (bench/serve_load.py's request), default options otherwise.
3. Bodies at the limit: a server with --max-body B and --max-connections C (C = --big-clients),
   queue C. C clients each send the photo padded with zeros to B bytes, all but its last
   byte, and wait, so that C bodies of B - 1 bytes are held at once; one client more is
   refused by the connection limit. Then the last bytes: every answer must be 200 (the padded
   JPEG decodes as the photo). Peak RSS with the bodies held and after the answers.
The bound checked for 3: C x B (the bodies) + the peak under load of 2 (the models, every
worker's engines and images). Prints a summary and writes it as JSON to --json.
"""
import argparse
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_load  # noqa: E402  (its Server, wrk and request script)

ROOT = serve_load.ROOT


def peak_kb(pid, field="VmHWM"):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^%s:\s+(\d+) kB" % field, f.read(), re.M).group(1))


def big_bodies(srv, pid, clients, max_body, image):
    """Scenario 3: returns (peak kB with every body held, peak kB after, statuses, refused)."""
    port = int(re.search(r":(\d+)/", srv.url).group(1))
    body = image + b"\0" * (max_body - len(image))
    head = b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(body)
    held, go, statuses = threading.Barrier(clients + 1), threading.Event(), []

    def client():
        with socket.create_connection(("127.0.0.1", port), timeout=300) as s:
            s.sendall(head + body[:-1])
            held.wait()
            go.wait()
            s.sendall(body[-1:])
            out = b""
            while b"\r\n\r\n" not in out:
                d = s.recv(65536)
                if not d:
                    break
                out += d
            statuses.append(int(out.split(b" ", 2)[1]) if out.startswith(b"HTTP/") else 0)

    base = peak_kb(pid, "VmRSS")
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    held.wait()
    # Every byte sent is in the kernel's buffers or the server's: wait until the server has them.
    want = base + clients * (max_body >> 10) * 9 // 10
    for _ in range(100):
        if peak_kb(pid, "VmRSS") >= want:
            break
        time.sleep(0.1)
    time.sleep(1)
    # One connection over --max-connections: closed by the server without an answer.
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        try:
            s.sendall(head)
            refused = s.recv(100) == b""
        except OSError:
            refused = True
    during = peak_kb(pid)
    go.set()
    for t in threads:
        t.join()
    return during, peak_kb(pid), sorted(statuses), refused


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferc", default="./ferc")
    ap.add_argument("--image", default="tests/data/astronaut.jpg")
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--big-clients", type=int, default=16)
    ap.add_argument("--max-body", type=int, default=32 << 20)
    ap.add_argument("--json", default="build/serve_memory.json")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("serve_memory: wrk is not installed (apt-get install wrk; tools/install-deps.sh --tools)")
    ferc = os.path.abspath(os.path.join(ROOT, a.ferc))
    image_path = os.path.join(ROOT, a.image)
    os.environ["FERC_LOAD_IMAGE"] = image_path
    image = open(image_path, "rb").read()
    res = {"image": a.image, "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        post = os.path.join(tmp, "post.lua")
        open(post, "w").write(serve_load.POST_LUA)
        srv = serve_load.Server(ferc)
        try:
            time.sleep(1)
            res["idle_kb"] = peak_kb(srv.p.pid)
            out = serve_load.wrk(srv.url, post, a.seconds, a.connections, min(2, a.connections))
            res["load_kb"] = peak_kb(srv.p.pid)
        finally:
            srv.stop()
        res["load_requests"] = int(re.search(r"(\d+) requests in", out).group(1))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        res["load_non_2xx"] = int(non2xx.group(1)) if non2xx else 0

    c, b = a.big_clients, a.max_body
    srv = serve_load.Server(ferc, "--max-body", str(b), "--max-connections", str(c), "--queue", str(c),
                            "--timeout", "60")
    try:
        res["big_held_kb"], res["big_after_kb"], statuses, res["big_refused"] = big_bodies(srv, srv.p.pid, c, b, image)
    finally:
        srv.stop()
    res.update({"big_clients": c, "max_body": b, "big_statuses": {s: statuses.count(s) for s in set(statuses)},
                "bound_kb": c * b // 1024 + res["load_kb"], "load_after": os.getloadavg()[0]})
    res["under_bound"] = max(res["big_held_kb"], res["big_after_kb"]) <= res["bound_kb"]
    os.makedirs(os.path.dirname(os.path.join(ROOT, a.json)), exist_ok=True)
    with open(os.path.join(ROOT, a.json), "w") as f:
        json.dump(res, f, indent=1)
    mb = lambda kb: kb / 1024  # noqa: E731
    print("ferc serve peak RSS (VmHWM), load average %.1f before, %.1f after:" %
          (res["load_before"], res["load_after"]))
    print("  idle, default models: %.0f MB" % mb(res["idle_kb"]))
    print("  wrk %d s at %d connections on %s: %.0f MB (%d requests, %d non-2xx)" %
          (a.seconds, a.connections, a.image, mb(res["load_kb"]), res["load_requests"], res["load_non_2xx"]))
    print("  %d bodies of %d bytes held at once (--max-body %d, --max-connections %d): %.0f MB; after their answers "
          "(%s): %.0f MB; one connection more %s" %
          (c, b - 1, b, c, mb(res["big_held_kb"]), ", ".join("%d x %d" % (n, s) for s, n in
                                                             sorted(res["big_statuses"].items())),
           mb(res["big_after_kb"]), "refused" if res["big_refused"] else "NOT refused"))
    print("  bound: %d x %d bytes + the peak under load = %.0f MB: %s" %
          (c, b, mb(res["bound_kb"]), "under it" if res["under_bound"] else "OVER IT"))
    ok = res["under_bound"] and res["big_refused"] and res["big_statuses"] == {200: c} and res["load_non_2xx"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
