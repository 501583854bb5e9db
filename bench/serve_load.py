#!/usr/bin/python3
"""Load on ferc serve, loopback only and bounded in time (docs/serve.md).

  nice -n 10 /usr/bin/python3 bench/serve_load.py [--ferc ./ferc] [--image tests/data/astronaut.jpg]
      [--seconds 30] [--connections 16] [--workers N]

1. The command's batch throughput on the same photo (`ferc --threads N` on --batch copies of
   its path: one analyzer per thread, as the server's workers), before and after the load.
2. wrk for --seconds at --connections connections POSTing the photo to /v1/analyze: images/s,
   p50 and p99 latency, errors (non-2xx and socket errors; wrk's timeout is raised to 120 s so
   that a long queue wait counts as latency, not as an error).
3. A burst over the queue: 1 worker, queue 4, wrk at 64 connections for 5 s; every answer's
   status is counted (only 200 and 503 may appear).
Prints a summary and writes it as JSON to --json.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

POST_LUA = """
local f = assert(io.open(os.getenv("FERC_LOAD_IMAGE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "image/jpeg"
"""
# Every answer's status: counted in each wrk thread (a global, so that done(), which runs in
# the main script, can fetch it with thread:get).
BURST_LUA = POST_LUA + """
counts = {}
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for s, n in pairs(c) do io.write(string.format("status %d %d\\n", s, n)) end
  end
end
"""


def batch_rate(ferc, image, threads, n):
    t0 = time.monotonic()
    r = subprocess.run([ferc, "--threads", str(threads)] + [image] * n, cwd=ROOT, capture_output=True, check=True)
    dt = time.monotonic() - t0
    assert r.stdout.count(b"\n") == n
    return n / dt


class Server:
    def __init__(self, ferc, *args):
        self.p = subprocess.Popen([ferc, "serve", "--port", "0", *args], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        line = self.p.stderr.readline()
        m = re.search(r"127\.0\.0\.1:(\d+)/", line)
        if not m:
            raise SystemExit("ferc serve did not start: " + line)
        self.url = "http://127.0.0.1:%s/v1/analyze" % m.group(1)

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=120)


def wrk(url, script, seconds, connections, threads):
    r = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--timeout", "120s",
                        "--latency", "-s", script, url], capture_output=True, text=True, check=True)
    return r.stdout


def seconds_of(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)", v)
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(2)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferc", default="./ferc")
    ap.add_argument("--image", default="tests/data/astronaut.jpg")
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--json", default="build/serve_load.json")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("serve_load: wrk is not installed (apt-get install wrk; tools/install-deps.sh --tools)")
    ferc = os.path.abspath(os.path.join(ROOT, a.ferc))
    image = os.path.join(ROOT, a.image)
    os.environ["FERC_LOAD_IMAGE"] = image
    res = {"image": a.image, "workers": a.workers, "connections": a.connections, "seconds": a.seconds,
           "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        post, burst = os.path.join(tmp, "post.lua"), os.path.join(tmp, "burst.lua")
        open(post, "w").write(POST_LUA)
        open(burst, "w").write(BURST_LUA)

        before = batch_rate(ferc, image, a.workers, a.batch)
        srv = Server(ferc, "--workers", str(a.workers), "--queue", str(max(32, 2 * a.connections)))
        try:
            out = wrk(srv.url, post, a.seconds, a.connections, min(2, a.connections))
        finally:
            srv.stop()
        after = batch_rate(ferc, image, a.workers, a.batch)
        lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
        reqs = int(re.search(r"(\d+) requests in", out).group(1))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        res.update({
            "requests": reqs, "images_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_s": seconds_of(lat["50"]), "p99_s": seconds_of(lat["99"]),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(map(int, sock.groups())) if sock else 0,
            "command_images_per_s": [before, after]})
        res["ratio"] = res["images_per_s"] / (sum(res["command_images_per_s"]) / 2)

        srv = Server(ferc, "--workers", "1", "--queue", "4")
        try:
            out = wrk(srv.url, burst, 5, 64, 1)
        finally:
            srv.stop()
        res["burst"] = {int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", out, re.M)}
        res["load_after"] = os.getloadavg()[0]
    os.makedirs(os.path.dirname(os.path.join(ROOT, a.json)), exist_ok=True)
    with open(os.path.join(ROOT, a.json), "w") as f:
        json.dump(res, f, indent=1)
    print("wrk %d s at %d connections, %d workers, %s (load average %.1f before, %.1f after):" %
          (a.seconds, a.connections, a.workers, a.image, res["load_before"], res["load_after"]))
    print("  %d requests, %d non-2xx, %d socket errors" % (res["requests"], res["non_2xx"], res["socket_errors"]))
    print("  %.2f images/s = %.0f%% of the command's batch throughput (%.2f before, %.2f after)" %
          (res["images_per_s"], 100 * res["ratio"], *res["command_images_per_s"]))
    print("  latency p50 %.2f s, p99 %.2f s" % (res["p50_s"], res["p99_s"]))
    print("burst, 1 worker, queue 4, 64 connections for 5 s: " +
          ", ".join("%d x %d" % (n, s) for s, n in sorted(res["burst"].items())))
    ok = res["non_2xx"] == 0 and res["socket_errors"] == 0 and set(res["burst"]) <= {200, 503}
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
