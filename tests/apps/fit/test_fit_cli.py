"""diffvg-fit end to end, in process, on a tiny image; plus the Python API and bad input.

Compilation dominates on CPU, so every fit here uses one configuration (20 px canvas,
6 stroke paths, seed 3): fit's jitted step is cached on that configuration and compiles
once for the whole module; re-rendering the written SVGs and the --init refinement share
a second one.
"""
import contextlib
import io
import re

import jax
import numpy as np
import pytest
from PIL import Image

import diffvg_jax.apps.common.cli as cli
from diffvg_jax.apps.common.artifacts import SnapshotWriter, load_image
from diffvg_jax.apps.fit import fit
from diffvg_jax.apps.fit.cli import display_size, main
from diffvg_jax.svg import load_svg

SIZE, PATHS, ITERS, SEED = 20, 6, 16, 3
COMMON = ["--mode", "stroke", "--svg-size", "0", "--paths", str(PATHS), "--iters", str(ITERS), "--size", str(SIZE), "--seed", str(SEED)]


def _make_image(path):
    """A 40x28 RGB picture with a few flat regions (resized to 20x14 by --size 20)."""
    yy, xx = np.mgrid[0:28, 0:40]
    img = np.zeros((28, 40, 3), np.float32)
    img[...] = [0.95, 0.9, 0.8]
    img[(xx - 12) ** 2 + (yy - 14) ** 2 < 64] = [0.8, 0.1, 0.1]
    img[(yy > 18) & (xx > 20)] = [0.1, 0.2, 0.7]
    img[4:8, 24:38] = [0.1, 0.6, 0.2]
    Image.fromarray((img * 255).astype(np.uint8)).save(path)


def _main(argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


def _loss_of_svg(svg_path, target):
    """Mean squared error of the SVG's render (over white) against ``target``.

    Rendered through fit(init=..., iterations=0), whose jitted step is cached on the
    scene structure: all SVGs here share one, so this compiles once (and the --init test
    reuses it). The loss itself is computed here, in NumPy, from the returned image.
    """
    scene = load_svg(svg_path)
    _, history = fit(target, init=scene, iterations=0, background="white")
    rgb = history["image"]
    return float(np.mean((rgb.astype(np.float64) - target) ** 2)), rgb


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("fit")
    _make_image(d / "in.png")
    code_a, err_a = _main([str(d / "in.png"), "--out", str(d / "a.svg"), "--snapshots", str(d / "snaps"),
                           "--every", "8", "--video", str(d / "a.gif")] + COMMON)
    code_b, _ = _main([str(d / "in.png"), "--out", str(d / "b.svg"), "--quiet"] + COMMON)
    return dict(dir=d, code_a=code_a, err_a=err_a, code_b=code_b,
                target=load_image(d / "in.png", size=SIZE))


def test_cli_svg_reproduces_reported_loss(runs):
    d = runs["dir"]
    assert runs["code_a"] == 0, runs["err_a"]
    reported = float(re.search(r"loss ([0-9.]+) \(l2\)", runs["err_a"]).group(1))
    target = runs["target"]
    assert target.shape == (14, 20, 3)
    loss, rgb = _loss_of_svg(d / "a.svg", target)
    assert loss == pytest.approx(reported, rel=2e-3, abs=2e-6)
    # the PNG written beside the SVG is that render
    png = np.asarray(Image.open(d / "a.png").convert("RGB")) / 255.0
    np.testing.assert_allclose(png, rgb, atol=1.5 / 255)
    # and the optimisation helped: the first snapshot (the random start) is much worse
    start, _ = _loss_of_svg(d / "snaps" / "step_00000.svg", target)
    assert loss < 0.6 * start
    scene = load_svg(d / "a.svg")
    assert len(scene.children) == PATHS
    for p in scene.children:
        assert 1.0 - 1e-4 <= float(p.stroke_width) <= 2.0 + 1e-4
        assert p.fill is None and np.all((np.asarray(p.stroke.color) >= 0) & (np.asarray(p.stroke.color) <= 1))


def test_progress_and_summary_show_the_same_figures(runs):
    """The progress display's last line and the summary: the same rate (compile time
    excluded), compile time, loss and PSNR; plain lines (stderr is not a terminal here)."""
    err = runs["err_a"]
    assert "\r" not in err and err.splitlines()[1] == "fitting: compiling..."
    last = next(line for line in err.splitlines() if line.startswith("fitting: done,"))
    summary = next(line for line in err.splitlines() if line.startswith("diffvg-fit: done,"))
    for pattern in (r"psnr [0-9.]+ dB", r"[0-9.?]+ it/s, compile time excluded", r"loss [0-9.]+ \(l2\)",
                    r"[0-9.]+ s compiling", r"in [0-9.]+ s"):
        assert re.search(pattern, last).group(0) == re.search(pattern, summary).group(0), pattern


def test_cli_same_seed_same_svg(runs):
    d = runs["dir"]
    assert runs["code_b"] == 0
    assert (d / "a.svg").read_bytes() == (d / "b.svg").read_bytes()


def test_cli_snapshots_and_animation(runs):
    d = runs["dir"]
    names = sorted(p.name for p in (d / "snaps").iterdir())
    assert names == [f"step_{s:05d}.{e}" for s in (0, 8, 16) for e in ("png", "svg")]
    with Image.open(d / "a.gif") as im:
        assert im.n_frames == 3 and im.size == (SIZE, 14)
    # the last snapshot is the final drawing
    assert (d / "snaps" / "step_00016.svg").read_bytes() == (d / "a.svg").read_bytes()


def test_cli_init_refines_and_keeps_structure(runs):
    d = runs["dir"]
    code, err = _main([str(d / "in.png"), "--out", str(d / "r.svg"), "--init", str(d / "a.svg"),
                       "--iters", "8", "--svg-size", "0", "--quiet"])
    assert code == 0, err
    before, after = load_svg(d / "a.svg"), load_svg(d / "r.svg")
    assert jax.tree.structure(before) == jax.tree.structure(after)
    loss_before, _ = _loss_of_svg(d / "a.svg", runs["target"])
    loss_after, _ = _loss_of_svg(d / "r.svg", runs["target"])
    assert loss_after < loss_before


def test_fit_api_matches_cli_and_history(runs):
    scene, history = fit(runs["target"], num_paths=PATHS, mode="stroke", iterations=ITERS, seed=SEED)
    cli = load_svg(runs["dir"] / "a.svg")
    for a, b in zip(jax.tree.leaves(scene.children), jax.tree.leaves(cli.children)):
        np.testing.assert_allclose(a, b, atol=1e-4)
    assert history["loss"].shape == (ITERS,) and history["iterations"] == ITERS
    assert history["final_loss"] < history["loss"][0]
    psnr = -10 * np.log10(history["final_loss"])
    assert history["final_psnr"] == pytest.approx(psnr, abs=1e-3)
    assert not history["interrupted"] and history["it_per_s"] > 0


def test_ctrl_c_saves_the_drawing_so_far(runs, monkeypatch):
    d = runs["dir"]

    def interrupt(self, step, scene, image=None):
        if step == 5:
            raise KeyboardInterrupt
    monkeypatch.setattr(SnapshotWriter, "__call__", interrupt)
    code, err = _main([str(d / "in.png"), "--out", str(d / "c.svg"), "--snapshots", str(d / "c_snaps")] + COMMON)
    assert code == 130 and "interrupted after 5 iterations" in err and "Traceback" not in err
    reported = float(re.search(r"loss ([0-9.]+) \(l2\)", err).group(1))
    loss, _ = _loss_of_svg(d / "c.svg", runs["target"])
    assert loss == pytest.approx(reported, rel=2e-3, abs=2e-6)


@pytest.mark.parametrize("args, message", [
    (["missing.png", "--out", "o.svg"], "missing.png: no such file"),
    (["notimage.png", "--out", "o.svg"], "not an image"),
    (["in.png", "--out", "o.svg", "--paths", "0"], "--paths must be at least 1"),
    (["in.png", "--out", "o.svg", "--iters", "0"], "--iters must be at least 1"),
    (["in.png", "--out", "o.svg", "--iters", "ten"], "--iters must be a whole number"),
    (["in.png", "--out", "o.png"], "must be an .svg file"),
    (["in.png", "--out", "o.svg", "--size", "100000"], "too large"),
    (["in.png", "--out", "o.svg", "--init", "notimage.png"], "--init: cannot read"),
    (["in.png", "--out", "o.svg", "--init", "nosuch.svg"], "--init: nosuch.svg: no such file"),
    (["in.png", "--out", "o.svg", "--background", "pink"], "--background"),
    (["in.png", "--out", "o.svg", "--video", "v.avi"], ".gif or .mp4"),
    (["in.png", "--out", "o.svg", "--lr-points", "nan"], "--lr-points"),
    (["in.png", "--out", "o.svg", "--mode", "dots"], "invalid choice"),
    (["in.png"], "required: --out"),
    (["in.png", "--out", "notimage.png/o.svg"], "is not a folder"),
    (["in.png", "--out", "/proc/o.svg"], "--out: cannot write into '/proc'"),
    (["in.png", "--out", "o.svg", "--snapshots", "notimage.png/snaps"], "--snapshots: "),
])
def test_bad_input_exits_2_with_a_message(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    _make_image(tmp_path / "in.png")
    (tmp_path / "notimage.png").write_text("<html>not a picture</html>")
    code, err = _main(args)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o.svg").exists()


def test_a_write_that_fails_after_fitting_is_one_line_with_status_2(tmp_path, monkeypatch):
    """A write error the early check could not foresee (here: the folder disappears) still
    ends in one line and exit status 2, not a traceback."""
    def failing_save(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "o.svg"))

    monkeypatch.chdir(tmp_path)
    _make_image(tmp_path / "in.png")
    monkeypatch.setattr(cli, "save_svg", failing_save)
    code, err = _main(["in.png", "--out", "o.svg", "--iters", "1", "--paths", "1", "--size", "16"])
    assert code == 2
    assert "cannot write" in err and "Permission denied" in err and "Traceback" not in err


def test_the_svg_is_shown_at_svg_size_with_the_canvas_as_viewbox(tmp_path, monkeypatch):
    """A 16 x 11 fit is written for display at 400 x 275 (long side --svg-size), and viewers
    scale the canvas: the viewBox is the canvas."""
    monkeypatch.chdir(tmp_path)
    _make_image(tmp_path / "in.png")
    code, err = _main(["in.png", "--out", "o.svg", "--iters", "1", "--paths", "1", "--size", "16",
                       "--svg-size", "400", "--quiet"])
    assert code == 0, err
    head = (tmp_path / "o.svg").read_text().split(">", 2)[1]
    assert 'width="400"' in head and 'height="275"' in head and 'viewBox="0 0 16 11"' in head
    assert display_size(16, 11, 0) is None and display_size(1000, 500, 384) == (1000, 500)
