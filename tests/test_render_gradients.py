"""jax.grad of a smooth image loss vs central finite differences, in float64 (jax x64), for
every kind of float leaf a scene has.

One scene holds every parameter kind (so the forward and the gradient each compile once);
the loss is a fixed random weighting of the straight-alpha image over an opaque background.
For every scalar leaf element, FD = (L(x + h) - L(x - h)) / 2h with h = 1e-5; the relative
error |grad - FD| / max(|FD|, 1e-4 * max |FD|) must have median <= 1e-3 per parameter kind.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax as dv

W = H = 24
STEP = 1e-5
MEDIAN_TOL = 1e-3


def _rot(a, tx, ty, sx=1.0, sy=1.0):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c * sx, -s * sy, tx], [s * sx, c * sy, ty], [0.0, 0.0, 1.0]])


def build_scene(f):
    """The test scene; ``f`` converts NumPy values to leaves (float64 jnp arrays under x64)."""
    solid = lambda *c: dv.Solid(color=f(c))
    lin = dv.LinearGradient(start=f([3.0, 2.0]), end=f([19.0, 15.0]), offsets=f([0.1, 0.45, 0.9]),
                            colors=f([[1.0, 0.2, 0.1, 1.0], [0.2, 0.9, 0.3, 0.7], [0.1, 0.2, 1.0, 0.9]]),
                            transform=f(_rot(0.2, 1.0, -0.5, 1.1, 0.9)), spread="reflect")
    rad = dv.RadialGradient(center=f([12.0, 12.0]), radius=f(7.0), focal=f([10.5, 13.0]), focal_radius=f(1.0),
                            offsets=f([0.0, 0.6, 1.0]),
                            colors=f([[0.9, 0.9, 0.1, 1.0], [0.1, 0.5, 0.9, 0.8], [0.6, 0.1, 0.4, 1.0]]),
                            transform=f(_rot(-0.3, 1.5, 0.5)), spread="pad")
    path = dv.Path(points=f([[3.2, 4.1], [10.3, 0.7], [15.2, 9.4], [20.6, 5.3], [18.1, 15.2], [9.7, 13.6]]),
                   degrees=(3, 2), closed=False, fill=solid(0.8, 0.3, 0.2, 0.9), stroke=solid(0.1, 0.1, 0.6, 1.0),
                   stroke_width=f(1.3), fill_opacity=f(0.8), stroke_opacity=f(0.9), opacity=f(0.85),
                   transform=f(_rot(0.1, 0.5, 1.0)), line_join="round")
    circle = dv.Circle(center=f([8.3, 15.6]), radius=f(5.2), fill=lin)
    ellipse = dv.Ellipse(center=f([15.4, 12.2]), radius=f([6.1, 3.7]), fill=rad, transform=f(_rot(0.4, 3.0, -4.0)))
    rect = dv.Rect(p_min=f([2.3, 14.2]), p_max=f([11.6, 21.7]), corner_radius=f([2.1, 1.7]),
                   fill=solid(0.3, 0.7, 0.6, 0.8), stroke=solid(0.9, 0.5, 0.1, 0.9), stroke_width=f(1.1))
    polygon = dv.Polygon(points=f([[13.2, 14.3], [21.5, 16.2], [19.1, 22.4], [12.6, 20.7]]),
                         fill=solid(0.5, 0.2, 0.8, 0.7))
    polyline = dv.Polyline(points=f([[2.7, 9.6], [9.2, 20.8], [16.3, 19.1], [21.4, 3.3]]),
                           stroke=solid(0.2, 0.8, 0.2, 1.0), stroke_width=f([1.2, 2.1, 1.6, 0.9]),
                           line_join="miter", line_cap="round")
    group = dv.Group(children=(polygon, polyline), transform=f(_rot(-0.05, 0.7, -0.4)), opacity=f(0.75))
    return dv.Scene(children=(path, circle, ellipse, rect, group), background=f([0.9, 0.85, 0.8, 1.0]))


def _loss(scene, weights):
    return jnp.sum(dv.render(scene, width=W, height=H) * weights)


def _kind(path):
    """A readable parameter kind from a leaf's key path, e.g. 'Rect.corner_radius'."""
    return jax.tree_util.keystr(path)


@functools.lru_cache(maxsize=None)
def gradient_report():
    """{leaf key path: (analytic gradient, FD)} for all scalar parameters, float64."""
    with jax.enable_x64(True):
        f = lambda v: jnp.asarray(np.asarray(v, np.float64))
        scene = build_scene(f)
        weights = jnp.asarray(np.random.default_rng(0).normal(size=(H, W, 4)))
        loss = jax.jit(_loss)
        grads = jax.jit(jax.grad(_loss))(scene, weights)
        flat, treedef = jax.tree_util.tree_flatten_with_path(scene)
        gflat = jax.tree_util.tree_leaves(grads)
        leaves = [np.asarray(v) for _, v in flat]
        out = {}
        for k, ((path, _), g) in enumerate(zip(flat, gflat)):
            g = np.asarray(g)
            fds = np.zeros_like(leaves[k])
            for idx in np.ndindex(leaves[k].shape):
                if leaves[k].shape == (3, 3) and idx[0] == 2:
                    fds[idx] = g[idx]  # projective row of an affine matrix: not a parameter
                    continue
                vals = []
                for sign in (1.0, -1.0):
                    pert = leaves[k].copy()
                    pert[idx] += sign * STEP
                    new = [jnp.asarray(v) for v in leaves]
                    new[k] = jnp.asarray(pert)
                    vals.append(float(loss(jax.tree_util.tree_unflatten(treedef, new), weights)))
                fds[idx] = (vals[0] - vals[1]) / (2 * STEP)
            out[_kind(path)] = (g, fds)
        return out


def _kinds():
    with jax.enable_x64(True):
        scene = build_scene(lambda v: jnp.asarray(np.asarray(v, np.float64)))
    return [_kind(p) for p, _ in jax.tree_util.tree_flatten_with_path(scene)[0]]


def relative_errors(g, fd, scale):
    return np.abs(g - fd) / np.maximum(np.abs(fd), 1e-4 * scale)


@pytest.mark.parametrize("kind", _kinds())
def test_gradient_matches_finite_differences(kind):
    report = gradient_report()
    scale = max(np.abs(fd).max() for _, fd in report.values())
    g, fd = report[kind]
    assert np.all(np.isfinite(g)), kind
    mask = np.ones(fd.shape, bool)
    if fd.shape == (3, 3):
        mask[2] = False
    assert np.abs(fd[mask]).max() > 1e-6 * scale, f"{kind}: the loss does not depend on it (test is vacuous)"
    med = np.median(relative_errors(g[mask], fd[mask], scale))
    assert med <= MEDIAN_TOL, f"{kind}: median relative error {med:.2e}; grad {g[mask]} fd {fd[mask]}"
