"""dv.render coverage against the independent scanline oracle (tests/oracle.py).

Each shape is rendered alone with an opaque white paint on a transparent background, so the
alpha channel is its coverage. Pass rule per image: mean |error| <= 0.002 and every pixel
within 0.03, except pixels the oracle flags as ``unsure`` (winding numbers spanning 2 or
more inside the pixel: self-intersections and overlapping stroke pieces, where mapping
the exact winding integral through the fill rule is inexact by design, shared/DESIGN.md section 2).
"""
import functools

import numpy as np
import pytest

import diffvg_jax as dv

from support import oracle

W = H = 32
MEAN_TOL = 0.002
MAX_TOL = 0.03
WHITE = dv.rgba(1, 1, 1, 1)

ROT_SCALE = np.array([[1.1, -0.45, 15.0], [0.35, 0.7, 4.0], [0, 0, 1]])      # rotation + shear + scale
MIRROR = np.array([[-1.0, 0.0, 32.0], [0.0, 1.0, 0.5], [0, 0, 1]])           # orientation reversing


def _fill(shape_cls, **kw):
    return shape_cls(fill=WHITE, **kw)


def _stroke(shape_cls, **kw):
    kw.setdefault("stroke_width", 3.0)
    return shape_cls(stroke=WHITE, **kw)


ZIGZAG = np.array([[3.5, 5.2], [27.3, 7.1], [9.4, 25.6], [26.2, 27.8], [29.1, 14.3]])
STAR = np.array([[16 + 13 * np.cos(a), 16 + 13 * np.sin(a)] for a in np.linspace(0, 4 * np.pi, 6)[:-1] - 0.3])

# Path of three subpaths: cubic+quad+line (closed), an inner reversed square, an open quad+cubic.
MIXED = dict(points=np.array([[3.0, 4.0], [14.0, -2.0], [28.0, 9.0], [27.0, 16.0], [30.0, 27.0], [16.0, 29.5],
                              [10.0, 12.0], [17.0, 12.0], [17.0, 19.0], [10.0, 19.0],
                              [4.0, 22.0], [7.0, 31.0], [13.0, 26.0], [20.0, 20.0], [26.0, 30.0], [30.0, 22.0]]),
             degrees=(3, 2, 1, 1, 1, 1, 1, 2, 3), subpath_sizes=(3, 4, 2), closed=(True, True, False))
CUBIC = np.array([[3.0, 22.0], [9.0, 5.0], [21.0, 30.0], [29.0, 10.0]])
TWO_CUBICS = np.array([[4.0, 26.0], [4.0, 10.0], [12.0, 4.0], [17.0, 8.0], [22.0, 12.0], [30.0, 6.0], [28.0, 28.0]])
QUADS = np.array([[3.0, 6.0], [16.0, 28.0], [28.0, 6.0], [22.0, 2.0], [12.0, 14.0]])


def _cases():
    c = {}
    # fills -------------------------------------------------------------------------------
    for rule in ("nonzero", "evenodd"):
        c[f"path-mixed-{rule}"] = (_fill(dv.Path, fill_rule=rule, **MIXED), "fill")
        c[f"polygon-star-{rule}"] = (_fill(dv.Polygon, points=STAR, fill_rule=rule), "fill")
    c["path-cubic-open-fill"] = (_fill(dv.Path, points=CUBIC), "fill")
    c["path-quads-closed"] = (_fill(dv.Path, points=QUADS[:4], degrees=(2, 2), closed=True), "fill")
    c["path-transformed"] = (_fill(dv.Path, transform=ROT_SCALE, points=TWO_CUBICS * 0.5 - 6.0), "fill")
    c["circle"] = (_fill(dv.Circle, center=[16.3, 15.2], radius=11.7), "fill")
    c["circle-mirrored"] = (_fill(dv.Circle, center=[12.3, 15.2], radius=7.4, transform=MIRROR), "fill")
    c["ellipse-transformed"] = (_fill(dv.Ellipse, center=[4.0, 8.0], radius=[11.0, 6.0], transform=ROT_SCALE), "fill")
    c["rect-rounded"] = (_fill(dv.Rect, p_min=[4.3, 5.2], p_max=[27.6, 24.9], corner_radius=[6.0, 3.5]), "fill")
    c["rect-radius-clamped"] = (_fill(dv.Rect, p_min=[6.3, 3.2], p_max=[25.6, 13.9], corner_radius=[4.0, 30.0]), "fill")
    c["rect-square-transformed"] = (_fill(dv.Rect, p_min=[-5.0, 2.0], p_max=[8.0, 14.0], transform=ROT_SCALE), "fill")
    c["polyline-fill"] = (_fill(dv.Polyline, points=ZIGZAG[:4]), "fill")
    # strokes -----------------------------------------------------------------------------
    # every join and every cap (3 pairs keep the compiled scene small)
    for join, cap in (("miter", "butt"), ("round", "round"), ("bevel", "square")):
        c[f"polyline-{join}-{cap}"] = (_stroke(dv.Polyline, points=ZIGZAG, line_join=join, line_cap=cap), "stroke")
    c["polyline-miter-limit"] = (_stroke(dv.Polyline, points=ZIGZAG, line_join="miter", miter_limit=1.5), "stroke")
    c["polyline-wide-round"] = (_stroke(dv.Polyline, points=np.array([[7.0, 8.0], [24.0, 9.0], [11.0, 23.0]]), stroke_width=8.0, line_join="round",
                                        line_cap="round"), "stroke")
    c["polygon-stroke-miter"] = (_stroke(dv.Polygon, points=np.array([[5.0, 6.5], [26.0, 5.0], [27.0, 25.0], [8.0, 22.0]]), line_join="miter"), "stroke")
    c["path-cubic-stroke"] = (_stroke(dv.Path, points=CUBIC, stroke_width=2.5, line_cap="round"), "stroke")
    c["path-two-cubics-stroke-bevel"] = (_stroke(dv.Path, points=TWO_CUBICS, line_join="bevel", line_cap="square"), "stroke")
    c["path-quads-stroke"] = (_stroke(dv.Path, points=QUADS, degrees=(2, 2), stroke_width=2.0), "stroke")
    c["path-transformed-stroke"] = (_stroke(dv.Path, points=TWO_CUBICS * 0.5 - 6.0, transform=ROT_SCALE,
                                            line_join="miter", line_cap="round"), "stroke")
    c["circle-stroke"] = (_stroke(dv.Circle, center=[16.0, 16.5], radius=9.0, stroke_width=4.0), "stroke")
    c["ellipse-stroke-transformed"] = (_stroke(dv.Ellipse, center=[4.0, 8.0], radius=[11.0, 6.0], stroke_width=2.0,
                                               transform=ROT_SCALE), "stroke")
    c["rect-stroke-square"] = (_stroke(dv.Rect, p_min=[5.5, 6.2], p_max=[26.3, 24.8], line_join="miter"), "stroke")
    c["rect-stroke-rounded"] = (_stroke(dv.Rect, p_min=[5.5, 6.2], p_max=[26.3, 24.8], corner_radius=[5.0, 4.0]),
                                "stroke")
    return c


CASES = _cases()

# Renderer limitations measured when this suite was written; strict so a fix shows up.
KNOWN_FAILURES = {
    "path-transformed-stroke": "the inner offset folds where the bend's radius of curvature is below the half width "
                               "(swallowtail): the outline's winding-2 slivers touch the boundary; max error 0.42",
}

# Compilation dominates on CPU (seconds per scene structure), so the cases are rendered as
# tiles of one scene per kind: case k sits in the 32 x 32 tile (k // COLS, k % COLS), moved
# there by a whole-pixel translation (exact for box-filtered coverage), and no shape
# reaches outside its tile (checked against the oracle below).
COLS = 4


def tile_names(kind):
    return sorted(n for n, (_, k) in CASES.items() if k == kind)


def tile_scene(names):
    kids = []
    for k, name in enumerate(names):
        i, j = divmod(k, COLS)
        kids.append(dv.Group(children=(CASES[name][0],),
                             transform=np.array([[1.0, 0.0, W * j], [0.0, 1.0, H * i], [0.0, 0.0, 1.0]])))
    rows = -(-len(names) // COLS)
    return dv.Scene(children=tuple(kids)), W * COLS, H * rows


@functools.lru_cache(maxsize=None)
def rendered_tiles(kind):
    """{case name: rendered alpha (H, W) float64} for all cases of a kind, one render."""
    names = tile_names(kind)
    scene, width, height = tile_scene(names)
    alpha = np.asarray(dv.render(scene, width=width, height=height), np.float64)[..., 3]
    return {n: alpha[H * (k // COLS):H * (k // COLS + 1), W * (k % COLS):W * (k % COLS + 1)]
            for k, n in enumerate(names)}


@functools.lru_cache(maxsize=None)
def oracle_coverage(name):
    shape, kind = CASES[name]
    fn = oracle.fill_coverage if kind == "fill" else oracle.stroke_coverage
    ref = fn(shape, W, H, rows_per_pixel=64)
    # the shape must stay inside its tile: nothing on a canvas 4 px larger on every side
    outer = fn(shape, W + 8, H + 8, transform=np.array([[1.0, 0, 4], [0, 1, 4], [0, 0, 1]]), rows_per_pixel=4)
    inner = outer.coverage[4:-4, 4:-4]
    assert outer.coverage.sum() - inner.sum() < 1e-9, f"{name} leaves its tile"
    return ref


def coverage_errors(name):
    """(mean |err|, max |err| over sure pixels, max |err| overall, #unsure) for one case."""
    ref = oracle_coverage(name)
    got = rendered_tiles(CASES[name][1])[name]
    err = np.abs(got - ref.coverage)
    return err.mean(), np.where(ref.unsure, 0.0, err).max(), err.max(), int(ref.unsure.sum())


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[n]))
                                  if n in KNOWN_FAILURES else n for n in sorted(CASES)])
def test_coverage_matches_oracle(name):
    mean, sure_max, _, _ = coverage_errors(name)
    assert mean <= MEAN_TOL and sure_max <= MAX_TOL, f"{name}: mean {mean:.5f}, max {sure_max:.4f}"


def test_unsure_pixels_exist_only_where_expected():
    """The exclusion is not vacuous: it is empty for simple fills, non-empty for a star."""
    assert not oracle_coverage("circle").unsure.any() and not oracle_coverage("rect-rounded").unsure.any()
    assert oracle_coverage("polygon-star-nonzero").unsure.sum() >= 5


# ---------------------------------------------------------------------------------------
# Random scenes, composited
# ---------------------------------------------------------------------------------------


def _random_scene(seed):
    rng = np.random.default_rng(seed)
    kids = []
    for k in range(4):
        color = dv.Solid(color=np.r_[rng.uniform(0, 1, 3), rng.uniform(0.5, 1.0)])
        kind = k % 4
        if kind == 0:
            kids.append(dv.Polygon(points=rng.uniform(2, 30, (5, 2)), fill=color, fill_rule="evenodd"))
        elif kind == 1:
            kids.append(dv.Circle(center=rng.uniform(8, 24, 2), radius=rng.uniform(3, 9), fill=color,
                                  stroke=dv.Solid(color=np.r_[rng.uniform(0, 1, 3), 1.0]), stroke_width=1.5))
        elif kind == 2:
            kids.append(dv.Polyline(points=rng.uniform(3, 29, (4, 2)), stroke=color, stroke_width=2.0,
                                    line_join="round", line_cap="square", opacity=0.7))
        else:
            inner = dv.Rect(p_min=[-6.0, -4.0], p_max=[6.0, 4.0], corner_radius=[2.0, 2.0], fill=color)
            a = rng.uniform(0, np.pi)
            m = np.array([[np.cos(a), -np.sin(a), rng.uniform(10, 22)], [np.sin(a), np.cos(a), rng.uniform(10, 22)], [0, 0, 1]])
            kids.append(dv.Group(children=(inner,), transform=m, opacity=0.8))
    return dv.Scene(children=tuple(kids), background=[0.2, 0.3, 0.4, 0.5])


def _unsure(children, m):
    out = np.zeros((H, W), bool)
    for ch in children:
        if isinstance(ch, dv.Group):
            out |= _unsure(ch.children, m @ np.asarray(ch.transform, np.float64))
            continue
        if ch.fill is not None:
            out |= oracle.fill_coverage(ch, W, H, transform=m, rows_per_pixel=8).unsure
        if ch.stroke is not None:
            out |= oracle.stroke_coverage(ch, W, H, transform=m, rows_per_pixel=8).unsure
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_scene_composite(seed):
    scene = _random_scene(seed)
    ref = oracle.composite(scene, W, H, premultiplied=True, rows_per_pixel=64)
    got = np.asarray(dv.render(scene, width=W, height=H, premultiplied=True), np.float64)
    err = np.abs(got - ref).max(-1)
    unsure = _unsure(scene.children, np.eye(3))
    assert np.abs(got - ref).mean() <= MEAN_TOL
    assert np.where(unsure, 0.0, err).max() <= MAX_TOL, np.where(unsure, 0.0, err).max()
