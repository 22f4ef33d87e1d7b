"""diffvg-interpolate end to end on two tiny SVG files (16 px, 3 paths, 3 steps), and its
one-line refusals of bad input."""
import contextlib
import io
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from diffvg_jax.apps.interpolate.cli import main
from diffvg_jax.svg import load_svg

DISC = '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><circle cx="16" cy="16" r="10" fill="#e02020"/></svg>'
SQUARE = '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect x="6" y="6" width="20" height="20" fill="#2040e0"/></svg>'
S = 16


def _main(argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("interp")
    (d / "a.svg").write_text(DISC)
    (d / "b.svg").write_text(SQUARE)
    return d


def test_writes_strip_svgs_and_gif(inputs):
    out, gif = inputs / "out" / "strip.png", inputs / "anim.gif"
    code, err = _main([str(inputs / "a.svg"), str(inputs / "b.svg"), "--out", str(out), "--gif", str(gif),
                       "--size", str(S), "--paths", "3", "--steps", "3", "--frames", "4", "--gif-frames", "3",
                       "--targets", "--snapshots", str(inputs / "snaps"), "--every", "2", "--quiet"])
    assert code == 0, err
    assert err == ""  # --quiet
    with Image.open(out) as im:
        assert im.size == (6 * S + 5 * 2, S) and im.mode == "RGB"
    with Image.open(gif) as im:
        assert im.size == (S, S) and im.n_frames == 4  # a, middle, b, middle
    for end in ("strip_a.svg", "strip_b.svg"):
        scene = load_svg(out.parent / end)
        assert len(scene.children) == 3
    assert sorted(p.name for p in (inputs / "snaps").iterdir()) == ["a_00002.png", "a_00002.svg", "b_00002.png",
                                                                    "b_00002.svg"]


def test_says_the_fit_psnr_of_both_ends(inputs):
    out = inputs / "again.png"
    code, err = _main([str(inputs / "a.svg"), str(inputs / "b.svg"), "--out", str(out), "--size", str(S),
                       "--paths", "3", "--steps", "3", "--frames", "2"])
    assert code == 0, err
    assert re.search(r"fit PSNR \d+\.\d\d dB \(a\), \d+\.\d\d dB \(b\)", err), err
    with Image.open(out) as im:
        assert im.size == (2 * S + 2, S)


@pytest.mark.parametrize("extra, message", [
    (["--out", "x.jpg"], "--out: the strip must be a .png file"),
    (["--out", "x.png", "--gif", "x.mp4"], "--gif: the animation must be a .gif file"),
    (["--out", "x.png", "--frames", "1"], "--frames must be at least 2"),
    (["--out", "x.png", "--paths", "0"], "--paths must be at least 1"),
    (["--out", "x.png", "--size", "5000"], "--size 5000 is too large"),
    (["--out", "x.png", "--steps", "many"], "--steps must be a whole number"),
])
def test_bad_options_exit_2(inputs, tmp_path, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    code, err = _main([str(inputs / "a.svg"), str(inputs / "b.svg")] + extra)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if "error" in line]) == 1


def test_bad_inputs_exit_2(inputs, tmp_path):
    (tmp_path / "junk.svg").write_text("<svg this is not xml")
    (tmp_path / "empty.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>')
    (tmp_path / "invisible.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
                                            '<rect width="8" height="8" fill="none"/></svg>')
    (tmp_path / "junk.png").write_bytes(b"not a png")
    out = str(tmp_path / "s.png")
    for bad, message in ((tmp_path / "missing.svg", "no such file"), (tmp_path, "is a folder"),
                         (tmp_path / "junk.svg", "cannot read as SVG"), (tmp_path / "empty.svg", "has no shapes"),
                         (tmp_path / "invisible.svg", "draws nothing"),
                         (tmp_path / "junk.png", "not an image file")):
        code, err = _main([str(inputs / "a.svg"), str(bad), "--out", out, "--size", "8"])
        assert code == 2, (bad, err)
        assert err.count("\n") == 1 and message in err and err.startswith("diffvg-interpolate: error:"), err


def test_runs_as_a_module():
    run = subprocess.run([sys.executable, "-m", "diffvg_jax.apps.interpolate", "--help"], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0 and "diffvg-interpolate" in run.stdout and "--gif" in run.stdout
