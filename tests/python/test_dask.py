"""ferc.dask on a LocalCluster of 2 worker processes: photos and a video (in 1 and 3
chunks) give exactly the command's JSON."""
import os

import numpy as np
import pytest

import ferc
from conftest import ROOT, path, run_command

distributed = pytest.importorskip("distributed", reason="Dask tests need python3-distributed (apt-get install python3-distributed)")
if os.environ.get("FERC_ASAN"):
    pytest.skip("Dask worker processes are not run under ASan", allow_module_level=True)
import ferc.dask  # noqa: E402

from test_analyzer import FACES, PHOTOS, assert_same, g6  # noqa: E402


@pytest.fixture(scope="module")
def client():
    # the workers import ferc from this tree, over this build's library (FERC_LIBRARY)
    os.environ["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + os.environ.get("PYTHONPATH", "")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       worker_dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_files_equal_the_command(client):
    assert len(client.scheduler_info()["workers"]) == 2
    inputs = PHOTOS + FACES[:3]
    want, rc = run_command(inputs)
    got = ferc.dask.analyze_files([path(p) for p in inputs], client, batch=2)
    assert rc == 0 and len(got) == len(want) == len(inputs)
    for faces, w in zip(got, want):
        assert_same(faces, w["faces"], w["file"])
    # other options reach the workers
    want, _ = run_command(["--no-detect", "--tta"] + FACES)
    got = ferc.dask.analyze_files([path(p) for p in FACES], client, detector="none", tta=True)
    assert len(got) == len(want) == len(FACES)
    for faces, w in zip(got, want):
        assert_same(faces, w["faces"], w["file"])


def test_file_errors(client, tmp_path):
    paths = [path(PHOTOS[0]), str(tmp_path / "missing.jpg"), path("tests/cli/bad/png_huge_chunk.png")]
    with pytest.raises(ferc.Error, match="missing.jpg"):
        ferc.dask.analyze_files(paths, client)
    got = ferc.dask.analyze_files(paths, client, errors="return", batch=1)
    assert len(got[0]) == 1 and isinstance(got[1], ferc.Error) and isinstance(got[2], ferc.Error)
    assert "png_huge_chunk.png" in got[2].message and got[2].status == "bad format"
    with pytest.raises(ferc.Error):
        ferc.dask.analyze_files(paths, client, detector="yolo")


def write_clip(p):
    """12 frames of the group photo moving right, frames 5-7 black: with --max-missed 2 the
    tracks end in the gap and new ids start after it."""
    g = ferc.imread(path("tests/data/faces_group.png"), gray=True)
    with open(p, "wb") as out:
        out.write(b"YUV4MPEG2 W%d H%d F25:1 Ip A1:1 Cmono\n" % (g.shape[1], g.shape[0]))
        for k in range(12):
            f = np.zeros_like(g) if 5 <= k < 8 else np.roll(g, 6 * k, axis=1)
            out.write(b"FRAME\n" + f.tobytes())


def assert_video_same(got, want):
    assert len(got) == len(want) == 12
    ids = set()
    for g, w in zip(got, want):
        assert g["frame"] == w["frame"] and "%.3f" % g["time"] == "%.3f" % w["time"]
        assert len(g["faces"]) == len(w["faces"]), g["frame"]
        for a, b in zip(g["faces"], w["faces"]):
            assert a["track"] == b["track"] and a["emotion"] == b["emotion"]
            ids.add(a["track"])
            assert [g6(v) for v in a["box"]] == [g6(v) for v in b["box"]] and g6(a["score"]) == g6(b["score"])
            for key in ("probabilities", "raw"):
                for k in ferc.EMOTIONS:
                    assert g6(a[key][k]) == g6(b[key][k]) and abs(a[key][k] - b[key][k]) <= 1e-6
    return ids


@pytest.mark.parametrize("chunk", [12, 5])
def test_video_equals_the_command(client, tmp_path, chunk):
    clip = str(tmp_path / "clip.y4m")
    write_clip(clip)
    want, rc = run_command(["video", "--format", "json", "--max-missed", "2", "--window", "3", clip])
    assert rc == 0
    got = ferc.dask.analyze_video(clip, client, chunk_frames=chunk, max_missed=2, window=3)
    ids = assert_video_same(got, want)
    assert len(ids) >= 5 and max(ids) > 4  # tracks continue across chunk borders, new ones after the gap


def test_video_errors(client, tmp_path):
    clip = str(tmp_path / "clip.y4m")
    write_clip(clip)
    with open(clip, "rb") as f:
        data = f.read()
    cut = str(tmp_path / "cut.y4m")
    with open(cut, "wb") as f:
        f.write(data[:len(data) * 9 // 12 + 1000])  # frame 10 truncated
    with pytest.raises(ferc.Error, match="frame 10"):
        ferc.dask.analyze_video(cut, client, chunk_frames=4)
    with pytest.raises(ferc.Error, match="missing.y4m"):
        ferc.dask.analyze_video(str(tmp_path / "missing.y4m"), client)
    with pytest.raises(ferc.Error):
        ferc.dask.analyze_video(path("tests/data/astronaut.jpg"), client)
    with pytest.raises(ferc.Error):
        ferc.dask.analyze_video(clip, client, chunk_frames=0)
