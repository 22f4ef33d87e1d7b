"""Blend modes (CSS ``mix-blend-mode``): W3C Compositing and Blending Level 1, section 10.

:func:`blend_over` draws a source layer onto a backdrop with a blend mode B, as the spec
composites: the source colour is first mixed with the blended colour by the backdrop's alpha,
Cs' = (1 - ab) Cs + ab B(Cb, Cs), then drawn source-over. In premultiplied terms

    co = cs (1 - ab) + as ab B(Cb, Cs) + cb (1 - as),    ao = as + ab (1 - as),

with Cs = cs / as and Cb = cb / ab. Every division is guarded (straight colours of
alpha < ``ALPHA_EPS`` are taken as 0, the dodge / burn / saturation denominators are
kept away from 0), so gradients stay finite at alpha 0 and at the singular points.

Colours are float (..., 3) straight sRGB in [0, 1]; images float (H, W, 4) premultiplied
RGBA in canvas pixels.
"""
from __future__ import annotations

import jax.numpy as jnp

from diffvg_jax.scene import BLEND_MODES

ALPHA_EPS = 1e-6   # below this alpha a pixel's straight colour is taken as 0
DIV_EPS = 1e-6     # smallest denominator of the dodge / burn / saturation quotients
LUMA = (0.3, 0.59, 0.11)   # the spec's Lum() weights

__all__ = ["ALPHA_EPS", "BLEND_MODES", "blend_colour", "blend_over"]


def _safe_div(num, den, eps=DIV_EPS):
    """num / den where den > eps, else 0 (no gradient through the masked branch)."""
    ok = den > eps
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)


def _multiply(cb, cs):
    return cb * cs


def _screen(cb, cs):
    return cb + cs - cb * cs


def _hard_light(cb, cs):
    return jnp.where(cs <= 0.5, _multiply(cb, 2.0 * cs), _screen(cb, 2.0 * cs - 1.0))


def _colour_dodge(cb, cs):
    """Cb = 0 -> 0, Cs = 1 -> 1 (within DIV_EPS, so that rounding of Cb = cb / ab at the
    singular corner picks the spec's branch), else min(1, Cb / (1 - Cs))."""
    q = jnp.minimum(1.0, cb / jnp.maximum(1.0 - cs, DIV_EPS))
    return jnp.where(cb <= DIV_EPS, 0.0, jnp.where(cs >= 1.0 - DIV_EPS, 1.0, q))


def _colour_burn(cb, cs):
    """Cb = 1 -> 1, Cs = 0 -> 0 (within DIV_EPS), else 1 - min(1, (1 - Cb) / Cs)."""
    q = 1.0 - jnp.minimum(1.0, (1.0 - cb) / jnp.maximum(cs, DIV_EPS))
    return jnp.where(cb >= 1.0 - DIV_EPS, 1.0, jnp.where(cs <= DIV_EPS, 0.0, q))


def _soft_light(cb, cs):
    d = jnp.where(cb <= 0.25, ((16.0 * cb - 12.0) * cb + 4.0) * cb, jnp.sqrt(jnp.maximum(cb, 0.25)))
    return jnp.where(cs <= 0.5, cb - (1.0 - 2.0 * cs) * cb * (1.0 - cb), cb + (2.0 * cs - 1.0) * (d - cb))


_SEPARABLE = {
    "normal": lambda cb, cs: cs,
    "multiply": _multiply,
    "screen": _screen,
    "overlay": lambda cb, cs: _hard_light(cs, cb),
    "darken": jnp.minimum,
    "lighten": jnp.maximum,
    "color-dodge": _colour_dodge,
    "color-burn": _colour_burn,
    "hard-light": _hard_light,
    "soft-light": _soft_light,
    "difference": lambda cb, cs: jnp.abs(cb - cs),
    "exclusion": lambda cb, cs: cb + cs - 2.0 * cb * cs,
}


def _lum(c):
    """float (..., 1): the spec's Lum(C)."""
    return c @ jnp.asarray(LUMA, c.dtype)[:, None]


def _clip_colour(c):
    """The spec's ClipColor: bring C into [0, 1] keeping its luminosity."""
    lum = _lum(c)
    lo = jnp.min(c, axis=-1, keepdims=True)
    hi = jnp.max(c, axis=-1, keepdims=True)
    c = jnp.where(lo < 0.0, lum + _safe_div((c - lum) * lum, lum - lo), c)
    return jnp.where(hi > 1.0, lum + _safe_div((c - lum) * (1.0 - lum), hi - lum), c)


def _set_lum(c, lum):
    return _clip_colour(c + (lum - _lum(c)))


def _sat(c):
    return jnp.max(c, axis=-1, keepdims=True) - jnp.min(c, axis=-1, keepdims=True)


def _set_sat(c, s):
    """The spec's SetSat: max -> s, min -> 0, mid scaled between (all 0 when max = min)."""
    lo = jnp.min(c, axis=-1, keepdims=True)
    return _safe_div((c - lo) * s, _sat(c))


_NON_SEPARABLE = {
    "hue": lambda cb, cs: _set_lum(_set_sat(cs, _sat(cb)), _lum(cb)),
    "saturation": lambda cb, cs: _set_lum(_set_sat(cb, _sat(cs)), _lum(cb)),
    "color": lambda cb, cs: _set_lum(cs, _lum(cb)),
    "luminosity": lambda cb, cs: _set_lum(cb, _lum(cs)),
}


def blend_colour(mode: str, cb, cs):
    """B(Cb, Cs): float (..., 3) straight colours of backdrop and source -> float (..., 3)."""
    if mode in _SEPARABLE:
        return _SEPARABLE[mode](cb, cs)
    if mode in _NON_SEPARABLE:
        return _NON_SEPARABLE[mode](cb, cs)
    raise ValueError(f"unknown blend mode {mode!r}; expected one of {BLEND_MODES}")


def _straight(img):
    """float (..., 3) straight colour of premultiplied RGBA (0 where alpha < ALPHA_EPS), in [0, 1]."""
    a = img[..., 3:4]
    ok = a > ALPHA_EPS
    return jnp.clip(jnp.where(ok, img[..., :3] / jnp.where(ok, a, 1.0), 0.0), 0.0, 1.0)


def blend_over(mode: str, backdrop, source):
    """float (H, W, 4) premultiplied RGBA: ``source`` drawn onto ``backdrop`` (both premultiplied
    RGBA (H, W, 4)) with blend mode ``mode`` (one of ``BLEND_MODES``); 'normal' is source-over."""
    a_s, a_b = source[..., 3:4], backdrop[..., 3:4]
    if mode == "normal":
        return source + backdrop * (1.0 - a_s)
    mixed = blend_colour(mode, _straight(backdrop), _straight(source))
    rgb = source[..., :3] * (1.0 - a_b) + a_s * a_b * mixed + backdrop[..., :3] * (1.0 - a_s)
    return jnp.concatenate([rgb, a_s + a_b * (1.0 - a_s)], axis=-1)
