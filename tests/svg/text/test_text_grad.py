"""Gradients reach the glyph control points: the text is an ordinary Path after loading,
so jax.grad of a loss of the rendered image w.r.t. its points matches central finite
differences (float32, 0.05 px steps, a 24 x 24 canvas, one glyph with lines and
quadratic curves)."""
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax as dv
from diffvg_jax.svg import SVGWarning
from diffvg_jax.svg.text import ENV_VAR


def test_gradient_wrt_glyph_points_matches_finite_differences(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24">'
           '<text x="3.3" y="19.3" font-size="22" fill="#336699">e</text></svg>')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SVGWarning)
        scene = dv.load_svg(svg)
    group = scene.children[0]
    (path,) = group.children
    assert isinstance(path, dv.Path) and 2 in path.degrees     # quadratic TrueType curves kept
    weights = jnp.asarray(np.random.default_rng(0).uniform(0.2, 1.0, (24, 24, 4)), jnp.float32)

    def loss(points):
        p = dv.replace(path, points=points)
        s = dv.replace(scene, children=(dv.replace(group, children=(p,)),))
        return jnp.sum(dv.render(s, width=24, height=24) * weights)

    pts = jnp.asarray(path.points)
    grad = np.asarray(jax.jit(jax.grad(loss))(pts))
    f = jax.jit(loss)
    # the coordinates that move the most ink; a curve extreme right on a pixel boundary makes
    # the loss kink there (finite differences do not converge), so the median error is checked
    big = np.argsort(-np.abs(grad).ravel())[:12]
    h, errors = 0.05, []
    for flat in big:
        e = np.zeros(pts.size, np.float32)
        e[flat] = h
        e = e.reshape(pts.shape)
        fd = (float(f(pts + e)) - float(f(pts - e))) / (2 * h)
        errors.append(abs(grad.ravel()[flat] - fd) / max(abs(fd), 1e-3 * np.abs(grad).max()))
    assert np.median(errors) < 0.05, np.round(errors, 3)
    assert np.mean(np.array(errors) < 0.15) >= 0.75, np.round(errors, 3)
