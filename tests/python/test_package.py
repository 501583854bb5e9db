import os
import subprocess

import pytest

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


def test_pip_install_in_a_venv(tmp_path):
    """`pip install ./python` offline into a venv; the installed package finds the tree's
    libferc.so and weights with no environment variables."""
    import shutil
    if not os.path.exists(os.path.join(ROOT, "libferc.so")):
        pytest.skip("no libferc.so in the tree (make)")
    if subprocess.run(["/usr/bin/python3", "-c", "import importlib.util as u; assert all(map(u.find_spec, ('venv', 'pip', 'setuptools')))"]).returncode:
        pytest.skip("venv, pip or setuptools missing (apt-get install python3-venv python3-pip python3-setuptools)")
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FERC_", "PYTHON"))}
    r = subprocess.run([str(venv / "bin/pip"), "install", "-q", "--no-build-isolation", "--no-index",
                        os.path.join(ROOT, "python")], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    shutil.rmtree(os.path.join(ROOT, "python", "build"), ignore_errors=True)
    code = ("import ferc; f = ferc.Analyzer().analyze(%r); "
            "print(ferc.__file__, ferc.LIBRARY, ferc.__version__, f[0].emotion)" % os.path.join(ROOT, "tests/data/astronaut.jpg"))
    r = subprocess.run([str(venv / "bin/python"), "-c", code], capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    file, lib, version, emotion = r.stdout.split()
    assert file.startswith(str(venv)) and lib == os.path.join(ROOT, "libferc.so")
    assert version == ferc.__version__ and emotion == "happy"
