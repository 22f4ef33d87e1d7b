"""Affine transforms: the compute dtype, applying a (3, 3) matrix, and its guarded inverse.

Matrices are float (3, 3) with last row [0, 0, 1], mapping column vectors (x, y, 1); points
are float (..., 2) in whatever user space the matrix maps from. The one inverse of the
package lives here: ``safe_inverse`` (as a matrix) and ``inverse_apply`` (applied to points),
both guarded so that a singular matrix gives finite values and finite gradients.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.kernels.numerics import components, safe_div

# |det| of the linear part below which an affine matrix counts as singular.
DET_EPS = 1e-12


def float_dtype():
    """The float dtype the renderer computes in: float32, or float64 when ``jax_enable_x64``
    is on (float64 is for finite-difference tests, not for speed)."""
    return jax.dtypes.canonicalize_dtype(np.float64)


def apply_transform(m, points):
    """float (..., 2) points mapped by the float (3, 3) affine matrix ``m`` (from its source
    space to its target space, same units as the matrix). ``m`` may also be a stack of
    matrices float (..., 3, 3) whose leading axes broadcast against the points' (one matrix
    per row, say)."""
    # Written out rather than a matmul: a contraction over 2 is slow on XLA:CPU, most of all
    # vmapped over stroke outlines and in its transpose (clipdraw-224's gradient: 5 ms).
    x, y = components(points)
    return jnp.stack([m[..., 0, 0] * x + m[..., 0, 1] * y + m[..., 0, 2],
                      m[..., 1, 0] * x + m[..., 1, 1] * y + m[..., 1, 2]], axis=-1)


def invertible(m):
    """bool (): the linear part of the float (3, 3) affine ``m`` has |det| > DET_EPS."""
    return jnp.abs(m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]) > DET_EPS


def _inverse_scale(m):
    """(1 / det, invertible) of the float (3, 3) affine ``m``; 1 / det is 0 when singular."""
    det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    ok = jnp.abs(det) > DET_EPS
    return safe_div(1.0, det, ok, 0.0), ok


def safe_inverse(m):
    """float (3, 3) inverse of the float (3, 3) affine ``m``; a singular one gives a finite
    (zero) linear part so that paints of collapsed shapes stay finite instead of NaN."""
    a, b, c, d = m[0, 0], m[0, 1], m[1, 0], m[1, 1]
    inv_det, _ = _inverse_scale(m)
    lin = jnp.stack([jnp.stack([d, -b]), jnp.stack([-c, a])]) * inv_det
    t = -lin @ m[:2, 2]
    top = jnp.concatenate([lin, t[:, None]], axis=1)
    return jnp.concatenate([top, jnp.array([[0.0, 0.0, 1.0]], m.dtype)], axis=0)


def inverse_apply(m, points):
    """Points mapped back through the float (3, 3) affine ``m`` (target -> source space).

    Args:
      m: float (3, 3); cast to the points' dtype.
      points: float (..., 2) in ``m``'s target space.

    Returns:
      (float (..., 2) points in ``m``'s source space, bool () ``invertible(m)``). The
      translation is subtracted first (accurate far from the origin); a singular ``m`` gives
      zeros with finite gradients, for the caller to replace.
    """
    m = m.astype(points.dtype)
    a, b, c, d = m[0, 0], m[0, 1], m[1, 0], m[1, 1]
    inv_det, ok = _inverse_scale(m)
    px = points[..., 0] - m[0, 2]
    py = points[..., 1] - m[1, 2]
    return jnp.stack([(d * px - b * py) * inv_det, (-c * px + a * py) * inv_det], axis=-1), ok
