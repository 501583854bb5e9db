import os
import subprocess

import ferc
from conftest import command, ROOT


def test_version_is_the_c_librarys():
    first = subprocess.run([command(), "version"], capture_output=True, text=True).stdout.splitlines()[0]
    assert first == "ferc " + ferc.__version__


def test_emotions_and_library():
    assert ferc.EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert os.path.exists(ferc.LIBRARY)
    assert ferc.isa() in ("scalar", "avx2", "avx512")


def test_library_lookup_names_the_places_tried(tmp_path):
    env = dict(os.environ, FERC_LIBRARY=str(tmp_path / "nope.so"))
    r = subprocess.run(["/usr/bin/python3", "-c", "import ferc"], cwd=os.path.join(ROOT, "python"), env=env,
                       capture_output=True, text=True)
    assert r.returncode != 0 and "libferc.so not found" in r.stderr and "nope.so" in r.stderr
