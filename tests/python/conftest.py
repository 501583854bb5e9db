"""pytest setup for the Python package: the in-tree package (python/ferc) over this build's
libferc.so ($FERC_BUILD/libferc.so, so `make asan` tests its own build), and the command
($FERC_BUILD/ferc) as the reference the package must agree with."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("FERC_BUILD", "build"))
if "FERC_LIBRARY" not in os.environ and os.path.exists(os.path.join(BUILD, "libferc.so")):
    os.environ["FERC_LIBRARY"] = os.path.join(BUILD, "libferc.so")
# $FERC_BUILD/libferc.so has no weights/ beside it: the tree's, as for the command below
os.environ.setdefault("FERC_WEIGHTS", os.path.join(ROOT, "weights"))
sys.path.insert(0, os.path.join(ROOT, "python"))


def command():
    for p in (os.path.join(BUILD, "ferc"), os.path.join(ROOT, "ferc")):
        if os.path.exists(p):
            return p
    pytest.skip("the ferc command is not built (make)")


def run_command(args, check=True):
    """The command's JSON lines for args (run from the tree root), and its exit status."""
    env = dict(os.environ, FERC_WEIGHTS=os.path.join(ROOT, "weights"))  # $FERC_BUILD/ferc has none beside it
    r = subprocess.run([command()] + args, cwd=ROOT, capture_output=True, text=True, env=env)
    if check and r.returncode not in (0, 1):
        raise AssertionError("ferc %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()], r.returncode


def path(*parts):
    return os.path.join(ROOT, *parts)
