"""Clip paths and masks in the renderer (Group.clip, Group.mask).

References, independent of the renderer's geometry code:
  * tests/oracle.py: exact-per-scanline coverage of each shape, and of the true
    intersection (inclusion-exclusion with the oracle's exact union of two contours);
  * the exact area of a rectangle intersected with a disc (a 1-D integral, float64);
  * hand-computed luminance / alpha mask values on pixel-aligned rectangles;
  * float64 central finite differences for the gradients of clip and mask geometry.
Canvases are small and scene structures few: every structure costs a compilation.
"""
import functools
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax as dv

from diffvg_jax.raster.layers import is_flat, walk_root   # noqa: E402

from support import oracle
from support.fd_report import (finite_difference_report, median_relative_error, parameter_mask, report_in_subprocess,
                       save_report)

W = H = 24
WHITE = dv.rgba(1, 1, 1, 1)
# Horizontal edges on multiples of 1/64: the oracle's 64 scanlines per pixel are exact there.
RECT = dict(p_min=[3.3, 4.25], p_max=[20.7, 17.875])


def clipped_rect(center=(12.4, 11.1), radius=7.3):
    """A white rectangle clipped by a disc: structure A of this file."""
    clip = dv.ClipPath(children=(dv.Circle(center=list(center), radius=radius),))
    return dv.Scene(children=(dv.Group(children=(dv.Rect(fill=WHITE, **RECT),), clip=clip),))


def _alpha(scene):
    return np.asarray(dv.render(scene, width=W, height=H, premultiplied=True))[..., 3]


def _rect_disc_area(x0, y0, x1, y1, cx, cy, r, n=2_000_001):
    """Exact area of [x0, x1] x [y0, y1] intersected with a disc: integral over x of the
    clipped chord length (trapezoid rule on 2e6 intervals: error ~1e-9)."""
    xs = np.linspace(max(x0, cx - r), min(x1, cx + r), n)
    half = np.sqrt(np.maximum(r * r - (xs - cx) ** 2, 0.0))
    chord = np.clip(np.minimum(y1, cy + half) - np.maximum(y0, cy - half), 0.0, None)
    return float(np.sum(0.5 * (chord[1:] + chord[:-1]) * np.diff(xs)))


def _oracle_union(a, b):
    """Exact coverage of the union of two simple shapes' fills (oracle, nonzero of both
    contours made positive) and the two coverages alone."""
    ca = oracle.fill_coverage(a, W, H).coverage
    cb = oracle.fill_coverage(b, W, H).coverage
    contours = [oracle.positive(c) for c in oracle.fill_contours(a) + oracle.fill_contours(b)]
    union = oracle.integrate(contours, W, H, 64, "nonzero").coverage
    return ca, cb, union


def test_clipped_coverage_matches_oracle_and_exact_intersection():
    got = _alpha(clipped_rect())
    rect, disc = dv.Rect(fill=WHITE, **RECT), dv.Circle(center=[12.4, 11.1], radius=7.3, fill=WHITE)
    c_rect, c_disc, union = _oracle_union(rect, disc)
    # the model: the clip multiplies the exact coverage of the content per pixel (resvg);
    # 5e-3: the renderer's own flattening error on the disc (the oracle suite allows 0.03)
    np.testing.assert_allclose(got, c_rect * c_disc, atol=5e-3)
    assert np.abs(got - c_rect * c_disc).mean() < 3e-4
    # where one boundary alone crosses the pixel, that product is the exact intersection
    intersection = c_rect + c_disc - union
    single = (c_rect >= 1 - 1e-9) | (c_disc >= 1 - 1e-9) | (c_rect <= 1e-9) | (c_disc <= 1e-9)
    assert single.sum() > 0.9 * W * H
    np.testing.assert_allclose(got[single], intersection[single], atol=5e-3)
    # The total is the exact area of the intersection up to the pixels that both boundaries
    # cross, where a product of coverages a * b can differ from the intersection (which lies
    # in [max(0, a + b - 1), min(a, b)]) by at most 1/4. Measured here: 0.68 px^2 on 29 such
    # pixels (the disc runs along the rectangle's top and bottom edges).
    exact = _rect_disc_area(3.3, 4.25, 20.7, 17.875, 12.4, 11.1, 7.3)
    assert abs(intersection.sum() - exact) < 0.01   # the oracle reference itself
    assert abs(got.sum() - (c_rect * c_disc).sum()) < 0.02
    assert abs(got.sum() - exact) <= 0.25 * np.sum(~single), (got.sum(), exact, np.sum(~single))


def union_scene(f=lambda v: v):
    """Structure B: a rect clipped by (disc U cubic blob), transformed, intersected with an
    inner clip rectangle, and masked; ``f`` converts values to leaves (float64 for the FD
    test). Axis-aligned horizontal edges lie on the oracle's scanline grid (1/64)."""
    blob = dv.Path(points=f([[9.0, 14.0], [13.0, 5.0], [22.0, 9.0], [20.0, 16.0], [14.5, 23.0]]),
                   degrees=(3, 2), closed=True, fill_rule="evenodd")
    inner = dv.ClipPath(children=(dv.Rect(p_min=f([2.6, 4.796875]), p_max=f([19.3, 16.203125])),))
    clip = dv.ClipPath(children=(dv.Circle(center=f([8.4, 9.2]), radius=f(5.6)), blob),
                       transform=f([[1.05, 0.1, -0.6], [-0.08, 0.97, 0.4], [0.0, 0.0, 1.0]]), clip=inner)
    mask = dv.Mask(children=(dv.Circle(center=f([13.1, 12.2]), radius=f(9.3), fill=dv.Solid(color=f([0.9, 0.5, 0.2, 0.8]))),),
                   region=f([1.7, 1.9, 15.7, 21.0]))
    content = dv.Rect(p_min=f([5.3, 1.796875]), p_max=f([21.4, 22.296875]), fill=dv.Solid(color=f([0.2, 0.4, 0.9, 1.0])))
    group = dv.Group(children=(content,), clip=clip, mask=mask, opacity=f(0.9))
    return dv.Scene(children=(group,), background=f([1.0, 1.0, 1.0, 1.0]))


def _clip_model(scene):
    """Oracle coverage of structure B's clip: rect x (1 - (1 - disc)(1 - blob)) x inner."""
    clip = scene.children[0].clip
    t = np.asarray(clip.transform, np.float64)
    cov = lambda s, m=None: oracle.fill_coverage(dv.replace(s, fill=WHITE), W, H, transform=m).coverage
    disc, blob = (cov(s, t) for s in clip.children)
    inner = cov(clip.clip.children[0])
    return (1 - (1 - disc) * (1 - blob)) * inner


def test_union_and_nested_clip_match_oracle():
    scene = union_scene()
    group = scene.children[0]
    content = dv.replace(group.children[0], fill=WHITE)
    plain = dv.Scene(children=(dv.Group(children=(content,), clip=group.clip),))
    got = _alpha(plain)
    want = oracle.fill_coverage(content, W, H).coverage * _clip_model(scene)
    assert np.abs(got - want).max() < 5e-3      # the renderer's flattening error, as above
    assert np.abs(got - want).mean() < 3e-4
    assert 0.2 * W * H > np.sum(np.abs(want - np.round(want)) > 0.01) > 20  # many partial pixels tested


def test_mask_values_luminance_alpha_nested():
    """Pixel-aligned rectangles: interior pixels have hand-computable values."""
    lum_mask = dv.Mask(children=(dv.Rect(p_min=[0.0, 0.0], p_max=[16.0, 8.0], fill=dv.rgba(0.2, 0.6, 0.4, 0.5)),
                                 dv.Rect(p_min=[0.0, 8.0], p_max=[16.0, 16.0], fill=WHITE, fill_opacity=0.25)),
                       region=[0.0, 2.0, 16.0, 12.0])
    inner = dv.Mask(children=(dv.Rect(p_min=[0.0, 0.0], p_max=[16.0, 8.0], fill=WHITE),))
    alpha_mask = dv.Mask(children=(dv.Rect(p_min=[0.0, 0.0], p_max=[16.0, 16.0], fill=dv.rgba(0.1, 0.1, 0.1, 0.6)),),
                         mask=inner, mask_type="alpha")
    left = dv.Group(children=(dv.Rect(p_min=[0.0, 0.0], p_max=[8.0, 16.0], fill=dv.rgba(1, 0, 0, 1)),), mask=lum_mask)
    right = dv.Group(children=(dv.Rect(p_min=[8.0, 0.0], p_max=[16.0, 16.0], fill=dv.rgba(0, 1, 0, 0.8)),),
                     mask=alpha_mask)
    img = np.asarray(dv.render(dv.Scene(children=(left, right)), width=16, height=16, premultiplied=True))
    lum1 = (0.2125 * 0.2 + 0.7154 * 0.6 + 0.0721 * 0.4) * 0.5   # premultiplied sRGB luminance
    lum2 = (0.2125 + 0.7154 + 0.0721) * 0.25
    want = np.zeros((16, 16, 4))
    rows = np.arange(16)
    v_left = np.where((rows >= 2) & (rows < 8), lum1, np.where((rows >= 8) & (rows < 14), lum2, 0.0))
    want[:, :8, 0] = want[:, :8, 3] = v_left[:, None]
    v_right = np.where(rows < 8, 0.6, 0.0)
    want[:, 8:, 1] = want[:, 8:, 3] = 0.8 * v_right[:, None]
    np.testing.assert_allclose(img, want, atol=2e-4)


def test_jit_matches_eager_and_vmap_matches_loop():
    scenes = [clipped_rect((12.4, 11.1), 7.3), clipped_rect((10.2, 13.6), 5.9)]
    eager = [_alpha(s) for s in scenes]
    jitted = jax.jit(lambda s: dv.render(s, width=W, height=H, premultiplied=True))
    np.testing.assert_allclose(np.asarray(jitted(scenes[0]))[..., 3], eager[0], atol=1e-6)
    stacked = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *scenes)
    batch = np.asarray(jax.vmap(lambda s: dv.render(s, width=W, height=H, premultiplied=True))(stacked))
    for b, e in zip(batch, eager):
        np.testing.assert_allclose(b[..., 3], e, atol=1e-6)
    assert np.abs(eager[0] - eager[1]).max() > 0.1


def _finite_grads(scene):
    loss = lambda s: jnp.sum(dv.render(s, width=W, height=H) * jnp.arange(4.0))
    grads = jax.grad(loss)(scene)
    return all(np.all(np.isfinite(np.asarray(g))) for g in jax.tree_util.tree_leaves(grads)), grads


def test_degenerate_clips_give_finite_gradients():
    ok, grads = _finite_grads(clipped_rect(radius=0.0))   # zero-area clip disc
    assert ok
    img = _alpha(clipped_rect(radius=0.0))
    assert np.abs(img).max() < 1e-6
    tri = dv.Polygon(points=[[3.0, 3.0], [9.0, 9.0], [15.0, 15.0]])   # collinear: zero area
    content = lambda: (dv.Rect(p_min=[2.0, 2.0], p_max=[20.0, 20.0], fill=dv.rgba(1, 0, 0, 1)),)
    scene = dv.Scene(children=(
        dv.Group(children=content(), clip=dv.ClipPath()),                                  # empty clip
        dv.Group(children=content(), clip=dv.ClipPath(children=(tri,))),
        dv.Group(children=content(), mask=dv.Mask(children=content(), region=[4.0, 4.0, 0.0, 7.0])),  # empty region
    ), background=[0.0, 0.0, 1.0, 1.0])
    ok, grads = _finite_grads(scene)
    assert ok
    img = np.asarray(dv.render(scene, width=W, height=H))
    np.testing.assert_allclose(img, np.broadcast_to([0.0, 0.0, 1.0, 1.0], img.shape), atol=1e-6)


def test_clip_free_scenes_keep_the_tiled_path():
    """Groups without opacity, clip or mask add no sub-layer: the scene stays one flat list
    of layers (the tiled kernel path); a clip or a mask makes a sub-layer (dense path)."""
    circle = dv.Circle(center=[5.0, 5.0], radius=3.0, fill=WHITE)

    def flat(*children):
        root, _, _ = walk_root(dv.Scene(children=children))
        return is_flat(root)

    assert flat(dv.Group(children=(circle,)), circle)
    assert not flat(dv.Group(children=(circle,), clip=dv.ClipPath(children=(circle,))))
    assert not flat(dv.Group(children=(circle,), mask=dv.Mask(children=(circle,))))


def test_bad_clip_and_mask_values_name_the_element():
    circle = dv.Circle(center=[5.0, 5.0], radius=3.0, fill=WHITE)
    with pytest.raises(ValueError, match=r"Group\.clip is a Circle"):
        dv.Group(children=(circle,), clip=circle)
    with pytest.raises(ValueError, match=r"ClipPath\.children\[0\] is a Solid"):
        dv.ClipPath(children=(WHITE,))
    with pytest.raises(ValueError, match="mask_type"):
        dv.Mask(children=(circle,), mask_type="luma")
    bad = dv.Scene(children=(dv.Group(id="g", children=(circle,),
                                      clip=dv.ClipPath(children=(dv.replace(circle, radius=np.ones(2)),))),))
    with pytest.raises(ValueError, match=r"scene.children\[0\] \(Group 'g'\).clip.children\[0\] \(Circle\).radius"):
        dv.render(bad, width=8, height=8)
    bad = dv.Scene(children=(dv.Group(children=(circle,), mask=dv.Mask(children=(circle,), region=[1.0, 2.0])),))
    with pytest.raises(ValueError, match=r"\.mask \(Mask\)\.region must have shape \(4,\)"):
        dv.render(bad, width=8, height=8)


# ---------------------------------------------------------------------------------------
# gradients against float64 finite differences (in a fresh interpreter: x64)
# ---------------------------------------------------------------------------------------

STEP = 1e-5
MEDIAN_TOL = 1e-3


def save_gradient_report(path):
    with jax.enable_x64(True):
        f = lambda v: jnp.asarray(np.asarray(v, np.float64))
        scene = jax.tree_util.tree_map(f, union_scene(f))
        weights = jnp.asarray(np.random.default_rng(1).normal(size=(H, W, 4)))
        report = finite_difference_report(scene, lambda s: jnp.sum(dv.render(s, width=W, height=H) * weights),
                                          step=STEP)
    save_report(report, path)


@functools.lru_cache(maxsize=None)
def gradient_report():
    return report_in_subprocess("test_render_clip", "save_gradient_report")


CLIP_AND_MASK_KINDS = [
    ".children[0].clip.children[0].center", ".children[0].clip.children[0].radius",
    ".children[0].clip.children[1].points", ".children[0].clip.transform",
    ".children[0].clip.clip.children[0].p_min", ".children[0].clip.clip.children[0].p_max",
    ".children[0].clip.clip.transform",
    ".children[0].mask.region", ".children[0].mask.children[0].center", ".children[0].mask.children[0].radius",
    ".children[0].mask.children[0].fill.color", ".children[0].mask.transform", ".children[0].children[0].p_min",
    ".children[0].children[0].transform", ".children[0].transform", ".children[0].opacity",
]


@pytest.mark.parametrize("kind", CLIP_AND_MASK_KINDS)
def test_clip_and_mask_gradients_match_finite_differences(kind):
    report = gradient_report()
    scale = max(np.abs(fd).max() for _, fd in report.values())
    g, fd = report[kind]
    assert np.all(np.isfinite(g))
    assert np.abs(fd[parameter_mask(fd)]).max() > 1e-6 * scale, f"{kind}: the loss does not depend on it (test is vacuous)"
    med = median_relative_error(g, fd, 1e-4 * scale)
    assert med <= MEDIAN_TOL, f"{kind}: median relative error {med:.2e}; grad {g} fd {fd}"


def test_every_float_leaf_of_the_gradient_scene_is_checked_or_listed():
    """All leaves finite; the list above covers every clip / mask parameter kind."""
    report = gradient_report()
    for kind, (g, _) in report.items():
        assert np.all(np.isfinite(g)), kind
    for kind in CLIP_AND_MASK_KINDS:
        assert kind in report
