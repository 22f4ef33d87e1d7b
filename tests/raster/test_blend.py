"""Blend modes and isolation (Group.blend_mode, Group.isolation) in the renderer.

References, independent of diffvg_jax.raster.blend: the formulas of W3C Compositing and
Blending Level 1 (sections 5.8, 10.1 and 10.2) written literally, per pixel, in NumPy
float64 (with the spec's if / else branches and its SetSat sorting), on pixel-aligned
rectangles (coverage exactly 0 or 1); float64 central finite differences for gradients.
Canvases are small and scene structures few: every structure costs a compilation.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax as dv
from diffvg_jax.raster.blend import blend_over
from diffvg_jax.scene import BLEND_MODES

from support.fd_report import finite_difference_report, median_relative_error, report_in_subprocess, save_report

# ------------------------------------------------------------------ the spec, literally


def _lum(c):
    return 0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2]


def _clip_color(c):
    lum, n, x = _lum(c), min(c), max(c)
    if n < 0:
        c = [lum + (v - lum) * lum / (lum - n) for v in c]
    if x > 1:
        c = [lum + (v - lum) * (1 - lum) / (x - lum) for v in c]
    return c


def _set_lum(c, lum):
    d = lum - _lum(c)
    return _clip_color([v + d for v in c])


def _sat(c):
    return max(c) - min(c)


def _set_sat(c, s):
    order = sorted(range(3), key=lambda i: c[i])
    lo, mid, hi = order
    out = [0.0, 0.0, 0.0]
    if c[hi] > c[lo]:
        out[mid] = (c[mid] - c[lo]) * s / (c[hi] - c[lo])
        out[hi] = s
    return out


def _separable(mode, cb, cs):
    if mode == "normal":
        return cs
    if mode == "multiply":
        return cb * cs
    if mode == "screen":
        return cb + cs - cb * cs
    if mode == "overlay":
        return _separable("hard-light", cs, cb)
    if mode == "darken":
        return min(cb, cs)
    if mode == "lighten":
        return max(cb, cs)
    if mode == "color-dodge":
        return 0.0 if cb == 0 else 1.0 if cs == 1 else min(1.0, cb / (1 - cs))
    if mode == "color-burn":
        return 1.0 if cb == 1 else 0.0 if cs == 0 else 1 - min(1.0, (1 - cb) / cs)
    if mode == "hard-light":
        return cb * 2 * cs if cs <= 0.5 else _separable("screen", cb, 2 * cs - 1)
    if mode == "soft-light":
        if cs <= 0.5:
            return cb - (1 - 2 * cs) * cb * (1 - cb)
        d = ((16 * cb - 12) * cb + 4) * cb if cb <= 0.25 else np.sqrt(cb)
        return cb + (2 * cs - 1) * (d - cb)
    if mode == "difference":
        return abs(cb - cs)
    assert mode == "exclusion"
    return cb + cs - 2 * cb * cs


def spec_blend(mode, cb, cs):
    """B(Cb, Cs) of straight colours (3 floats each)."""
    if mode == "hue":
        return _set_lum(_set_sat(cs, _sat(cb)), _lum(cb))
    if mode == "saturation":
        return _set_lum(_set_sat(cb, _sat(cs)), _lum(cb))
    if mode == "color":
        return _set_lum(cs, _lum(cb))
    if mode == "luminosity":
        return _set_lum(cb, _lum(cs))
    return [_separable(mode, b, s) for b, s in zip(cb, cs)]


def spec_composite(mode, backdrop, source):
    """Premultiplied RGBA (4,) of source onto backdrop (both premultiplied (4,)), section 5.8:
    Cs' = (1 - ab) Cs + ab B(Cb, Cs), then source-over."""
    ab, a_s = backdrop[3], source[3]
    cb = [v / ab for v in backdrop[:3]] if ab > 0 else [0.0] * 3
    cs = [v / a_s for v in source[:3]] if a_s > 0 else [0.0] * 3
    mixed = spec_blend(mode, cb, cs)
    cs2 = [(1 - ab) * s + ab * m for s, m in zip(cs, mixed)]
    rgb = [a_s * c + (1 - a_s) * b for c, b in zip(cs2, backdrop[:3])]
    return np.array(rgb + [a_s + ab * (1 - a_s)])


def spec_over(backdrop, source):
    return np.asarray(source) + np.asarray(backdrop) * (1 - source[3])


def premul(c):
    c = np.asarray(c, np.float64)
    return np.concatenate([c[:3] * c[3], c[3:]])


# ------------------------------------------------------------------ blend_over, unit


def _samples():
    rng = np.random.default_rng(0)
    straight = rng.uniform(0, 1, size=(2, 300, 4))
    special = np.array([0.0, 1.0, 0.5, 0.25])                   # branch points of the formulas
    straight[:, :64, :3] = special[rng.integers(0, 4, size=(2, 64, 3))]
    straight[:, :16, 3] = 1.0
    straight[0, 16:24, 3] = 0.0                                  # transparent backdrop
    straight[1, 24:32, 3] = 0.0                                  # transparent source
    pre = np.concatenate([straight[..., :3] * straight[..., 3:], straight[..., 3:]], -1)
    return pre[0], pre[1]


@pytest.mark.parametrize("mode", BLEND_MODES)
def test_blend_over_matches_the_spec(mode):
    backdrop, source = _samples()
    got = np.asarray(blend_over(mode, jnp.asarray(backdrop, jnp.float32), jnp.asarray(source, jnp.float32)))
    want = np.stack([spec_composite(mode, b, s) for b, s in zip(backdrop, source)])
    np.testing.assert_allclose(got, want, atol=2e-5)


# ------------------------------------------------------------------ renderer, 16 modes in one scene

BACK = (0.2, 0.6, 0.3, 0.9)
SRC = (0.9, 0.5, 0.1, 0.7)


def _cells():
    """(mode, cell origin) for the 16 modes on a 4 x 4 grid of 8 x 8 cells."""
    return [(m, (8 * (k % 4), 8 * (k // 4))) for k, m in enumerate(BLEND_MODES)]


def grid_scene():
    kids = []
    for mode, (x, y) in _cells():
        back = dv.Rect(p_min=[x + 1, y + 1], p_max=[x + 6, y + 5], fill=dv.rgba(*BACK))
        src = dv.Rect(p_min=[x + 3, y + 3], p_max=[x + 8, y + 8], fill=dv.rgba(*SRC[:3]), fill_opacity=SRC[3])
        kids.append(dv.Group(children=(back, dv.Group(children=(src,), blend_mode=mode)), isolation="isolate"))
    return dv.Scene(children=tuple(kids))


def grid_reference():
    out = np.zeros((32, 32, 4))
    for mode, (x, y) in _cells():
        for i in range(y, y + 8):
            for j in range(x, x + 8):
                b = premul(BACK) if (x + 1 <= j < x + 6 and y + 1 <= i < y + 5) else np.zeros(4)
                s = premul(SRC) if (x + 3 <= j and y + 3 <= i) else np.zeros(4)
                out[i, j] = spec_composite(mode, b, s)
    return out


def test_every_mode_renders_as_the_spec():
    got = np.asarray(dv.render(grid_scene(), width=32, height=32, premultiplied=True))
    want = grid_reference()
    np.testing.assert_allclose(got, want, atol=1e-4)   # coverage of an aligned pixel: 1 within ~4e-5
    overlap = [want[y + 4, x + 4] for _, (x, y) in _cells()]
    for a in range(len(overlap)):      # the colours tell every mode apart
        for b in range(a):
            assert np.abs(overlap[a] - overlap[b]).max() > 5e-3, (BLEND_MODES[a], BLEND_MODES[b])


def _two_rects(outer, inner_mode="multiply"):
    """Canvas-wide red rect, then ``outer`` (kwargs of a Group) holding a green rect and a
    blended blue rect that overlaps both the green one and bare canvas red."""
    red = dv.Rect(p_min=[0, 0], p_max=[16, 16], fill=dv.rgba(1.0, 0.2, 0.1, 1.0))
    green = dv.Rect(p_min=[2, 2], p_max=[8, 14], fill=dv.rgba(0.1, 0.8, 0.3, 1.0))
    blue = dv.Rect(p_min=[5, 4], p_max=[13, 12], fill=dv.rgba(0.2, 0.3, 0.9, 0.8))
    group = dv.Group(children=(green, dv.Group(children=(blue,), blend_mode=inner_mode)), **outer)
    return dv.Scene(children=(red, group))


def _pixel(scene, i, j):
    return np.asarray(dv.render(scene, width=16, height=16, premultiplied=True))[i, j]


def test_isolation_hides_the_canvas_from_blend_modes():
    red, green, blue = premul((1.0, 0.2, 0.1, 1.0)), premul((0.1, 0.8, 0.3, 1.0)), premul((0.2, 0.3, 0.9, 0.8))
    zero = np.zeros(4)
    # auto (not isolated): the blue rect multiplies whatever is below, canvas included
    img = np.asarray(dv.render(_two_rects({}), width=16, height=16, premultiplied=True))
    np.testing.assert_allclose(img[6, 6], spec_composite("multiply", spec_over(red, green), blue), atol=1e-5)
    np.testing.assert_allclose(img[6, 10], spec_composite("multiply", red, blue), atol=1e-5)
    # isolate, opacity 1 and a 'normal' blend on the outer group: the backdrop is the group's own content
    for outer in ({"isolation": "isolate"}, {"opacity": 1.0}, {"blend_mode": "normal", "isolation": "isolate"}):
        img = np.asarray(dv.render(_two_rects(outer), width=16, height=16, premultiplied=True))
        inside = spec_composite("multiply", green, blue)
        np.testing.assert_allclose(img[6, 6], spec_over(red, inside), atol=1e-5)
        np.testing.assert_allclose(img[6, 10], spec_over(red, spec_composite("multiply", zero, blue)), atol=1e-5)


def test_normal_scenes_keep_the_encoded_pipeline():
    circle = dv.Circle(center=[5.0, 5.0], radius=3.0, fill=dv.rgba(1, 0, 0, 1))
    plain = dv.Scene(children=(dv.Group(children=(circle,), isolation="isolate"), dv.Group(children=(circle,))))
    assert dv.encode(plain, width=8, height=8).compositing is None     # flat: the tiled pipeline
    a = np.asarray(dv.render(plain, width=8, height=8))
    b = np.asarray(dv.render(dv.Scene(children=(circle, circle)), width=8, height=8))
    assert np.array_equal(a, b)
    blended = dv.Scene(children=(circle, dv.Group(children=(circle,), blend_mode="screen")))
    assert dv.encode(blended, width=8, height=8).compositing.has_blend   # the layered pipeline, with blending
    with pytest.raises(ValueError, match="blend_mode"):
        dv.Group(children=(circle,), blend_mode="xor")
    with pytest.raises(ValueError, match="isolation"):
        dv.Group(children=(circle,), isolation="yes")


# ------------------------------------------------------------------ gradients

GRAD_MODES = ("multiply", "color-dodge", "color-burn", "soft-light", "hue", "luminosity", "saturation")


def gradient_scene(f=lambda v: v):
    """A disc backdrop and one blended shape per mode in GRAD_MODES, each over the others."""
    kids = [dv.Circle(center=f([8.3, 7.6]), radius=f(5.7), fill=dv.Solid(color=f([0.35, 0.55, 0.25, 0.85])))]
    rng = np.random.default_rng(3)
    for k, mode in enumerate(GRAD_MODES):
        x, y = 1.3 + 1.7 * k, 2.2 + 1.1 * (k % 3)
        col = rng.uniform(0.15, 0.85, size=3).tolist() + [0.75]
        rect = dv.Rect(p_min=f([x, y]), p_max=f([x + 5.4, y + 7.3]), fill=dv.Solid(color=f(col)))
        kids.append(dv.Group(children=(rect,), blend_mode=mode, opacity=f(0.8) if k % 2 else None))
    return dv.Scene(children=tuple(kids))


def save_gradient_report(path):
    with jax.enable_x64(True):
        f = lambda v: jnp.asarray(np.asarray(v, np.float64))
        scene = gradient_scene(f)
        weights = jnp.asarray(np.random.default_rng(1).normal(size=(16, 16, 4)))
        keys = {".children[0].center", ".children[0].radius", ".children[0].fill.color"}
        for k in range(1, len(GRAD_MODES) + 1):
            keys |= {f".children[{k}].children[0].p_min", f".children[{k}].children[0].fill.color"}
            if k % 2 == 0:
                keys.add(f".children[{k}].opacity")
        report = finite_difference_report(scene, lambda s: jnp.sum(dv.render(s, width=16, height=16) * weights),
                                          step=1e-5, keys=keys)
    save_report(report, path)


@functools.lru_cache(maxsize=None)
def gradient_report():
    return report_in_subprocess("test_blend", "save_gradient_report")


def test_blend_gradients_match_finite_differences():
    report = gradient_report()
    scale = max(np.abs(fd).max() for _, fd in report.values())
    assert len(report) == 3 + 2 * len(GRAD_MODES) + len(GRAD_MODES) // 2
    for kind, (g, fd) in report.items():
        assert np.all(np.isfinite(g)), kind
        assert np.abs(fd).max() > 1e-6 * scale, f"{kind}: the loss does not depend on it (test is vacuous)"
        med = median_relative_error(g, fd, 1e-3 * scale)
        assert med <= 2e-3, f"{kind}: median relative error {med:.2e}; grad {g} fd {fd}"


def test_gradients_are_finite_at_alpha_zero_and_singular_points():
    """Dodge with Cs = 1 and Cb = 0, burn with Cs = 0 and Cb = 1, hue / saturation of greys
    (Sat = 0), luminosity of black, over transparent canvas and transparent sources."""
    cases = [("color-dodge", (0.0, 0.0, 1.0, 1.0), (1.0, 0.5, 1.0, 1.0)),
             ("color-burn", (1.0, 1.0, 0.0, 1.0), (0.0, 0.5, 0.0, 1.0)),
             ("hue", (0.5, 0.5, 0.5, 1.0), (0.3, 0.3, 0.3, 1.0)),
             ("saturation", (0.0, 0.0, 0.0, 1.0), (0.7, 0.7, 0.7, 0.0)),
             ("luminosity", (0.0, 0.0, 0.0, 0.0), (1.0, 1.0, 1.0, 1.0)),
             ("soft-light", (0.0, 0.0, 1.0, 1.0), (1.0, 0.5, 0.0, 1.0))]
    kids = []
    for k, (mode, cb, cs) in enumerate(cases):
        x = 2.5 * k
        kids.append(dv.Rect(p_min=[x, 0.0], p_max=[x + 2.0, 6.0], fill=dv.rgba(*cb)))
        src = dv.Rect(p_min=[x + 0.5, 3.0], p_max=[x + 2.5, 9.0], fill=dv.rgba(*cs))
        kids.append(dv.Group(children=(src,), blend_mode=mode))
    scene = dv.Scene(children=tuple(kids))
    loss = lambda s: jnp.sum(dv.render(s, width=16, height=16) * jnp.arange(1.0, 5.0))
    assert np.isfinite(float(loss(scene)))
    for g in jax.tree_util.tree_leaves(jax.grad(loss)(scene)):
        assert np.all(np.isfinite(np.asarray(g)))
