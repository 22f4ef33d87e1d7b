"""Fit a vector drawing to a raster image by gradient descent through the renderer.

The parameters *are* the scene: a :class:`diffvg_jax.Scene` pytree whose float leaves
(control points, stroke widths, colours, ...) are optimised with Adam, one learning rate
per parameter group through ``optax.multi_transform``. One jitted step renders, compares
with the target, differentiates, updates and clamps. Everything else (progress, snapshots,
densification) happens in plain Python around it::

    scene, history = dv.fit(target_rgb, num_paths=256, mode="stroke", iterations=500, seed=0)

Parameter groups (see :func:`parameter_labels`):
  ``points``  path / polygon points, circle and ellipse centres and radii, rect corners,
              gradient geometry: learning rate ``lr_points`` (pixels per step, roughly)
  ``width``   stroke widths: ``lr_width``; clamped to [min_width, max_width]
  ``color``   paint colours and gradient stop colours: ``lr_color``; clamped to [0, 1]
  ``opacity`` fill/stroke/shape/group opacities: ``lr_color``, only when refining an SVG
              (generated paths carry their opacity in the colour's alpha)
  ``frozen``  transforms, gradient offsets, the background: not optimised

Densification (``densify=True``): every ``densify_every`` steps, paths whose colour alpha
or whose area (fills) / length (strokes) has collapsed, or that have left the canvas, are
re-seeded where the current error is largest, with the target's colour there; their Adam
moments are reset. The static structure never changes, so nothing recompiles.
"""
from __future__ import annotations

import dataclasses
import functools
import time
from typing import Callable, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np
import optax

from diffvg_jax import scene as sc
from diffvg_jax.apps.common.init_paths import key_to_rng, random_blobs, random_strokes
from .packing import Packing

__all__ = ["fit", "parameter_labels", "make_optimizer", "make_packed_optimizer", "make_clamp", "make_packed_clamp",
           "clamp_limits", "image_loss", "psnr",
           "find_collapsed", "reseed_paths", "estimate_background", "parse_background", "MODES",
           "LOSSES"]

MODES = ("stroke", "fill")
LOSSES = ("l2", "l1")

_POINT_FIELDS = ("points", "center", "radius", "p_min", "p_max", "corner_radius",
                 "start", "end", "focal", "focal_radius")
_OPACITY_FIELDS = ("fill_opacity", "stroke_opacity", "opacity")
_NONNEGATIVE_FIELDS = ("radius", "corner_radius", "focal_radius")


# ---------------------------------------------------------------------------------------
# Parameter groups, optimiser and clamping
# ---------------------------------------------------------------------------------------


def _field_names(path):
    return [k.name for k in path if isinstance(k, jax.tree_util.GetAttrKey)]


def _leaf_role(path) -> str:
    names = _field_names(path)
    last = names[-1] if names else ""
    if "background" in names or last in ("transform", "offsets"):
        return "frozen"
    if any(n in ("fill", "stroke") for n in names[:-1]):  # inside a paint
        return "color" if last in ("color", "colors") else "points"
    if last in _POINT_FIELDS:
        return "points"
    if last == "stroke_width":
        return "width"
    if last in _OPACITY_FIELDS:
        return "opacity"
    return "frozen"


def parameter_labels(scene: sc.Scene):
    """The scene with every float leaf replaced by its group name (a str): 'points', 'width',
    'color', 'opacity' or 'frozen'. Used as ``optax.multi_transform``'s labels."""
    return jax.tree_util.tree_map_with_path(lambda p, _: _leaf_role(p), scene)


def _group_transforms(lr_points: float, lr_width: float, lr_color: float) -> dict:
    return {
        "points": optax.adam(lr_points),
        "width": optax.adam(lr_width),
        "color": optax.adam(lr_color),
        "opacity": optax.adam(lr_color),
        "frozen": optax.set_to_zero(),
    }


def make_optimizer(labels, *, lr_points: float, lr_width: float, lr_color: float):
    """Adam per parameter group (one ``optax.multi_transform``); frozen leaves get zero updates.

    ``labels`` is the tree from :func:`parameter_labels`. The returned transformation takes
    and returns scene pytrees; internally it works on the list of leaves, because rebuilding
    a Scene from optax's boolean masks would turn them into float arrays. (``fit`` runs the
    same transforms on packed vectors instead, see :mod:`diffvg_jax.packing`.)
    """
    inner = optax.multi_transform(_group_transforms(lr_points, lr_width, lr_color),
                                  list(jax.tree.leaves(labels)))
    return on_leaves(inner)


def make_packed_optimizer(groups: Sequence[str], *, lr_points: float, lr_width: float, lr_color: float):
    """The same per-group Adam for packed parameters: a dict group -> flat vector."""
    transforms = _group_transforms(lr_points, lr_width, lr_color)
    return optax.multi_transform({g: transforms[g] for g in groups}, {g: g for g in groups})


def on_leaves(inner: optax.GradientTransformation) -> optax.GradientTransformation:
    """Wrap a transformation so it sees ``jax.tree.leaves(params)`` (a list) instead of the
    tree; its state is therefore also list-shaped (see :func:`fit`'s Adam-moment reset)."""
    def init(params):
        return inner.init(jax.tree.leaves(params))

    def update(updates, state, params=None):
        leaves, treedef = jax.tree.flatten(updates)
        new, state = inner.update(leaves, state, None if params is None else jax.tree.leaves(params))
        return jax.tree.unflatten(treedef, new), state

    return optax.GradientTransformation(init, update)


def clamp_limits(*, width: int, height: int, min_width: float = 0.0, max_width: float = np.inf,
                 point_margin: Optional[float] = None) -> dict:
    """The bounds :func:`make_clamp`'s function projects onto, as arrays (traced arguments of
    the jitted step, so changing them does not recompile).

    Stroke widths to [min_width, max_width]; points into the canvas grown by
    ``point_margin`` pixels (None: unbounded; keeps runaway points from inflating the
    renderer's work).
    """
    m = np.inf if point_margin is None else float(point_margin)
    return {"width": jnp.array([min_width, max_width], jnp.float32),
            "lo": jnp.array([-m, -m], jnp.float32),
            "hi": jnp.array([width + m, height + m], jnp.float32)}


def _clamp_kind(path, role) -> str:
    """How :func:`make_clamp` bounds a leaf: 'unit' ([0, 1]), 'width', 'nonneg', 'xy'
    (points, per coordinate) or 'free'."""
    last = _field_names(path)[-1]
    if role in ("color", "opacity"):
        return "unit"
    if role == "width":
        return "width"
    if role == "points":
        if last in _NONNEGATIVE_FIELDS:
            return "nonneg"
        if last == "points":
            return "xy"
    return "free"


def make_clamp(labels):
    """A jit-able ``clamp(scene, limits) -> scene`` projecting parameters into their valid
    ranges: colours and opacities to [0, 1]; radii to >= 0; widths and points to ``limits``
    from :func:`clamp_limits`. Frozen leaves are left alone."""
    def clamp_leaf(path, role, x, limits):
        kind = _clamp_kind(path, role)
        if kind == "unit":
            return jnp.clip(x, 0.0, 1.0)
        if kind == "width":
            return jnp.clip(x, limits["width"][0], limits["width"][1])
        if kind == "nonneg":
            return jnp.maximum(x, 0.0)
        if kind == "xy":
            return jnp.clip(x, limits["lo"], limits["hi"])
        return x

    def clamp(scene, limits):
        return jax.tree_util.tree_map_with_path(lambda p, r, x: clamp_leaf(p, r, x, limits), labels, scene)

    return clamp


_KIND_CODES = {"free": 0, "unit": 1, "width": 2, "nonneg": 3, "xy": 4}


def make_packed_clamp(labels, packing: Packing):
    """:func:`make_clamp` for packed parameters: ``clamp(packed, limits) -> packed``. Each
    element's rule (and, for points, its coordinate) is a static array, so a group is
    clamped with a few elementwise ops instead of one op per leaf."""
    paths = [p for p, _ in jax.tree_util.tree_flatten_with_path(labels)[0]]
    kinds = [_KIND_CODES[_clamp_kind(p, r)] for p, r in zip(paths, packing.leaf_labels)]
    kind = packing.element_info(lambda i, shape: kinds[i])
    # x / y of each point: the last axis of a 'points' leaf (0 elsewhere, unused).
    axis = packing.element_info(lambda i, shape: np.arange(shape[-1]) % 2 if kinds[i] == 4 and shape else 0)

    def clamp(packed, limits):
        out = {}
        for g, x in packed.items():
            k = kind[g]
            lo = jnp.where(axis[g] == 0, limits["lo"][0], limits["lo"][1])
            hi = jnp.where(axis[g] == 0, limits["hi"][0], limits["hi"][1])
            x = jnp.where(k == 1, jnp.clip(x, 0.0, 1.0), x)
            x = jnp.where(k == 2, jnp.clip(x, limits["width"][0], limits["width"][1]), x)
            x = jnp.where(k == 3, jnp.maximum(x, 0.0), x)
            out[g] = jnp.where(k == 4, jnp.clip(x, lo, hi), x)
        return out

    return clamp


# ---------------------------------------------------------------------------------------
# Losses and metrics
# ---------------------------------------------------------------------------------------


def image_loss(rgb, target, kind: str = "l2"):
    """Mean over pixels and channels: squared ('l2') or absolute ('l1') error. float32 ()."""
    diff = rgb - target
    if kind == "l2":
        return jnp.mean(diff * diff)
    if kind == "l1":
        return jnp.mean(jnp.abs(diff))
    raise ValueError(f"loss must be one of {LOSSES}, got {kind!r}")


def psnr(rgb, target):
    """Peak signal-to-noise ratio in dB for images in [0, 1]. float32 ()."""
    mse = jnp.mean((rgb - target) ** 2)
    return -10.0 * jnp.log10(jnp.maximum(mse, 1e-12))


def _composite(img_premultiplied, background_rgb):
    return img_premultiplied[..., :3] + (1.0 - img_premultiplied[..., 3:4]) * background_rgb


# ---------------------------------------------------------------------------------------
# Background
# ---------------------------------------------------------------------------------------

_NAMED_BACKGROUNDS = {"white": (1.0, 1.0, 1.0), "black": (0.0, 0.0, 0.0)}


def estimate_background(target) -> np.ndarray:
    """float32 (3,): the per-channel median of the image's one-pixel border."""
    t = np.asarray(target, np.float32)
    border = np.concatenate([t[0], t[-1], t[:, 0], t[:, -1]], axis=0)
    return np.median(border, axis=0).astype(np.float32)


def parse_background(spec, target=None) -> np.ndarray:
    """'white' | 'black' | 'estimate' (border median of ``target``) | '#rrggbb' | 3 floats
    -> float32 (3,) RGB in [0, 1]. Raises ValueError naming the bad value."""
    if isinstance(spec, str):
        s = spec.strip().lower()
        if s in _NAMED_BACKGROUNDS:
            return np.array(_NAMED_BACKGROUNDS[s], np.float32)
        if s in ("estimate", "estimated", "auto"):
            if target is None:
                raise ValueError("background 'estimate' needs the target image")
            return estimate_background(target)
        if s.startswith("#") and len(s) == 7:
            try:
                return np.array([int(s[i:i + 2], 16) / 255.0 for i in (1, 3, 5)], np.float32)
            except ValueError:
                pass
        raise ValueError(f"background must be white, black, estimate or #rrggbb, got {spec!r}")
    bg = np.asarray(spec, np.float32).reshape(-1)
    if bg.shape not in ((3,), (4,)) or not np.all((bg >= 0) & (bg <= 1)):
        raise ValueError(f"background must be 3 floats in [0, 1], got {spec!r}")
    return bg[:3]


# ---------------------------------------------------------------------------------------
# Densification: find collapsed paths, re-seed them where the error is largest
# ---------------------------------------------------------------------------------------


def _paint_alpha(paint, opacity) -> float:
    if paint is None:
        return 0.0
    if isinstance(paint, sc.Solid):
        a = float(np.asarray(paint.color)[3])
    elif isinstance(paint, (sc.LinearGradient, sc.RadialGradient)):
        a = float(np.max(np.asarray(paint.colors)[:, 3]))
    else:  # a pattern or an image: no single alpha; never call it faint
        a = 1.0
    return a * float(np.asarray(opacity))


def find_collapsed(scene: sc.Scene, *, width: int, height: int, min_alpha: float = 0.05,
                   min_area: float = 1.0, min_length: float = 1.0, min_relative: float = 0.0) -> np.ndarray:
    """bool (num_children,): which top-level children are untransformed :class:`Path` s that
    no longer contribute: alpha below ``min_alpha``; a fill whose control polygon encloses
    less than ``min_area`` px^2 (shoelace area); a stroke-only path whose control polygon is
    shorter than ``min_length`` px; or a control-point bounding box that misses the canvas.
    With ``min_relative`` > 0, also paths whose ink (alpha x area for fills, alpha x
    length x width for strokes, px^2) is below ``min_relative`` times the median ink of
    the eligible paths not otherwise marked: faint or tiny paths that barely contribute.
    Other children are never marked."""
    out = np.zeros(len(scene.children), bool)
    ink = np.full(len(scene.children), np.nan)
    for i, child in enumerate(scene.children):
        if not isinstance(child, sc.Path) or not np.allclose(np.asarray(child.transform), np.eye(3)):
            continue
        pts = np.asarray(child.points, np.float64)
        opacity = 1.0 if child.opacity is None else float(np.asarray(child.opacity))
        fill_a = _paint_alpha(child.fill, child.fill_opacity) * opacity
        stroke_a = _paint_alpha(child.stroke, child.stroke_opacity) * opacity
        if child.stroke is not None:
            stroke_a *= float(np.max(np.asarray(child.stroke_width))) > 0
        lo, hi = pts.min(0), pts.max(0)
        off_canvas = hi[0] < 0 or hi[1] < 0 or lo[0] > width or lo[1] > height
        dead = max(fill_a, stroke_a) < min_alpha or off_canvas
        if child.fill is not None and fill_a >= min_alpha:
            x, y = pts[:, 0], pts[:, 1]
            area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
            fill_dead = area < min_area
        else:
            area, fill_dead = 0.0, True
        if child.stroke is not None and stroke_a >= min_alpha:
            length = np.sum(np.linalg.norm(np.diff(pts, axis=0), axis=1))
            stroke_dead = length < min_length
        else:
            length, stroke_dead = 0.0, True
        out[i] = dead or (fill_dead and stroke_dead)
        stroke_w = float(np.mean(np.asarray(child.stroke_width))) if child.stroke is not None else 0.0
        ink[i] = fill_a * area + stroke_a * length * stroke_w
    alive = np.isfinite(ink) & ~out
    if min_relative > 0 and alive.any():
        out |= alive & (ink < min_relative * np.median(ink[alive]))
    return out


def _box_blur(img, r: int):
    if r <= 0:
        return img
    k = 2 * r + 1
    pad = np.pad(img, [(r, r), (r, r)] + [(0, 0)] * (img.ndim - 2), mode="edge")
    c = np.cumsum(np.cumsum(pad, 0), 1)
    c = np.pad(c, [(1, 0), (1, 0)] + [(0, 0)] * (img.ndim - 2))
    return (c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]) / (k * k)


def reseed_paths(scene: sc.Scene, which, *, rgb, target, rng: np.random.Generator,
                 radius: float = 0.05, stroke_width: float = 1.0, alpha: float = 0.8) -> sc.Scene:
    """Move the children marked in ``which`` to where ``|rgb - target|`` is largest.

    Centres are drawn without replacement with probability proportional to the squared,
    box-blurred per-pixel error; each re-seeded path keeps its static structure (segment
    degrees, closed flags), gets a fresh random shape of size ``radius`` (fraction of the
    canvas) around its centre, the error-weighted mean target colour of the window around
    the centre with alpha ``alpha``, and
    (if stroked) ``stroke_width``.

    Args:
      scene: the current scene (concrete leaves).
      which: bool (num_children,) from :func:`find_collapsed`.
      rgb, target: float (H, W, 3) current render (composited) and target.
      rng: NumPy generator (deterministic re-seeding for a fixed seed).
    Returns: a scene with the same static structure.
    """
    which = np.asarray(which, bool)
    idx = np.flatnonzero(which)
    if idx.size == 0:
        return scene
    target = np.asarray(target, np.float32)
    h, w = target.shape[:2]
    r = max(1, int(round(radius * max(w, h) / 2)))
    raw_err = np.sum(np.abs(np.asarray(rgb, np.float32) - target), -1)
    err = _box_blur(raw_err, r)
    prob = err.ravel() ** 2
    total = prob.sum()
    prob = prob / total if total > 0 else np.full(prob.shape, 1.0 / prob.size)
    replace = np.count_nonzero(prob) < idx.size
    flat = rng.choice(prob.size, size=idx.size, replace=replace, p=prob)
    # The colour that is missing there: the target averaged over the window, weighted by the
    # error (falls back to the plain average where the window has no error).
    weighted = _box_blur(target * raw_err[..., None], r)
    colors = np.where(err[..., None] > 1e-6, weighted / np.maximum(err[..., None], 1e-6), _box_blur(target, r))
    scale = np.array([w, h], np.float64)
    children = list(scene.children)
    for i, f in zip(idx, flat):
        cy, cx = divmod(int(f), w)
        centre = np.array([cx + 0.5, cy + 0.5])
        child = children[i]
        n = int(np.asarray(child.points).shape[0])
        if all(child.closed):
            angles = 2 * np.pi * (np.arange(n) + 0.8 * rng.random(n)) / n
            dist = radius * (0.5 + 0.5 * rng.random(n))[:, None] * scale
            pts = centre + dist * np.stack([np.cos(angles), np.sin(angles)], -1)
        else:
            steps = (rng.random((n - 1, 2)) - 0.5) * radius * scale
            pts = np.concatenate([np.zeros((1, 2)), np.cumsum(steps, 0)])
            pts = centre + pts - pts.mean(0)
        color = np.concatenate([colors[cy, cx], [alpha]]).astype(np.float32)
        changes = {"points": jnp.asarray(pts, jnp.float32)}
        if child.fill is not None:
            changes["fill"] = sc.Solid(color=color)
            changes["fill_opacity"] = jnp.ones_like(jnp.asarray(child.fill_opacity))
        if child.stroke is not None:
            changes["stroke"] = sc.Solid(color=color)
            changes["stroke_opacity"] = jnp.ones_like(jnp.asarray(child.stroke_opacity))
            changes["stroke_width"] = jnp.full_like(jnp.asarray(child.stroke_width), stroke_width)
        if child.opacity is not None:
            changes["opacity"] = jnp.ones_like(jnp.asarray(child.opacity))
        # Only paths with Solid paints are re-seeded (find_collapsed marks any Path; keep
        # gradient, pattern and image paints' structure by leaving such paths alone).
        if any(p is not None and not isinstance(p, sc.Solid) for p in (child.fill, child.stroke)):
            continue
        children[i] = dataclasses.replace(child, **changes)
    return scene.replace(children=tuple(children))


def reset_moments(opt_state, mask):
    """Zero every per-parameter entry of a list-shaped optimiser state (see :func:`on_leaves`)
    where ``mask`` (list of bools, one per parameter leaf) is True; counts stay."""
    n = len(mask)

    def is_params(node):
        return isinstance(node, list) and len(node) == n

    def fix(node):
        if not is_params(node):
            return node
        return [jnp.zeros_like(v) if m and hasattr(v, "shape") else v for v, m in zip(node, mask)]

    return jax.tree.map(fix, opt_state, is_leaf=is_params)


def reset_packed_moments(opt_state, masks):
    """:func:`reset_moments` for packed parameters: ``masks`` is dict group -> bool (size,)
    (``Packing.element_mask``); every per-parameter dict in the state is zeroed there."""
    keys = set(masks)

    def is_params(node):
        # multi_transform's own per-group state dict has the same keys: require arrays
        # (or optax's MaskedNode placeholders) as values.
        return (isinstance(node, dict) and set(node) == keys
                and all(hasattr(v, "shape") or isinstance(v, optax.MaskedNode) for v in node.values()))

    def fix(node):
        if not is_params(node):
            return node
        return {g: jnp.where(masks[g], 0.0, v) if hasattr(v, "shape") and v.shape == masks[g].shape else v
                for g, v in node.items()}

    return jax.tree.map(fix, opt_state, is_leaf=is_params)


def _child_mask(scene: sc.Scene, which):
    """list of bools, one per leaf of ``scene``: True on the leaves of the children marked in
    ``which`` (matches the list-shaped optimiser state of :func:`on_leaves`)."""
    out = []
    for child, marked in zip(scene.children, which):
        out += [bool(marked)] * len(jax.tree.leaves(child))
    out += [False] * len(jax.tree.leaves(scene.background))
    return out


# ---------------------------------------------------------------------------------------
# The fit itself
# ---------------------------------------------------------------------------------------


def _as_target(target, background) -> np.ndarray:
    t = np.asarray(target)
    if t.ndim != 3 or t.shape[-1] not in (3, 4):
        raise ValueError(f"target must be an (H, W, 3) RGB or (H, W, 4) RGBA image, got shape {t.shape}")
    if t.shape[0] < 1 or t.shape[1] < 1:
        raise ValueError(f"target is empty: shape {t.shape}")
    if t.dtype == np.uint8:
        t = t.astype(np.float32) / 255.0
    t = t.astype(np.float32)
    if not np.all(np.isfinite(t)) or t.min() < 0 or t.max() > 1:
        raise ValueError("target values must be finite and in [0, 1] (float) or uint8")
    if t.shape[-1] == 4:
        bg = parse_background(background if not isinstance(background, str) or background != "estimate"
                              else "white")
        t = t[..., :3] * t[..., 3:] + bg * (1 - t[..., 3:])
    return t


def _next_cap(needs: Tuple[int, int, int], room: float = 4.0) -> Tuple[int, int]:
    """Renderer budgets (max_pieces, max_depth) with ``room`` for growth.

    needs: (pieces, depth, layers) as :func:`_needs` returns them. Pieces are rounded up to
    a power of two, depth to a multiple of 8 (at most the number of layers). The budgets
    are static arguments of the jitted step: exceeding one means a recompilation (minutes
    for hundreds of paths on CPU), while a larger one only costs work in proportion.
    Strokes lengthen and spread quickly early in a fit, hence the generous default."""
    from diffvg_jax.raster.renderer import round_depth
    pieces, depth, layers = needs
    depth_room = 2.0 if room >= 4 else (1.5 if room > 1 else 1.0)
    return (int(2 ** int(np.ceil(np.log2(max(1024, room * pieces))))),
            round_depth(int(np.ceil(depth_room * depth)), layers))


_CAPS_COMPILED = {}  # id(step) -> budgets it has been compiled for


def _covers(cap, needs) -> bool:
    return cap[0] >= needs[0] and cap[1] >= min(needs[1], needs[2])


def _reuse_cap(step, wanted, needs):
    """A budget the cached step was already compiled for, if one covers ``needs`` without
    being wasteful (at most 4x ``wanted`` pieces, 2x its depth); else ``wanted``. Saves a
    recompilation when, e.g., a drawing is refined right after it was made."""
    known = _CAPS_COMPILED.setdefault(id(step), set())
    fits = sorted(c for c in known if _covers(c, needs) and c[0] <= 4 * wanted[0] and c[1] <= 2 * wanted[1])
    cap = fits[0] if fits else wanted
    known.add(cap)
    return cap


@functools.lru_cache(maxsize=8)
def _packed_counters(packing: Packing, width: int, height: int):
    """Jitted (pieces(packed), depth(packed, max_pieces)) of the scene a packing unpacks to:
    counting on the packed vectors avoids moving thousands of leaves each time."""
    from diffvg_jax.raster.renderer import DEFAULT_CURVE_PIECES, traced_depth_needed, traced_pieces_needed
    pieces = jax.jit(lambda p: traced_pieces_needed(packing.unpack(p), width, height, DEFAULT_CURVE_PIECES))
    depth = jax.jit(lambda p, max_pieces: traced_depth_needed(packing.unpack(p), width, height, DEFAULT_CURVE_PIECES,
                                                       max_pieces), static_argnums=1)
    return pieces, depth


def _packed_needs(packing: Packing, packed, width, height, num_layers) -> Tuple[int, int, int]:
    """(pieces, depth, layers) the renderer needs for the packed scene. Small scenes keep
    every layer in every tile, so their depth is not counted (one compilation less)."""
    from diffvg_jax.raster.renderer import SMALL_SCENE_LAYERS, auto_budget
    pieces_fn, depth_fn = _packed_counters(packing, width, height)
    pieces = int(pieces_fn(packed))
    if num_layers <= SMALL_SCENE_LAYERS:
        return pieces, num_layers, num_layers
    return pieces, int(depth_fn(packed, auto_budget(pieces))), num_layers


# The jitted step is cached on everything static (the labelled scene structure, canvas size,
# loss, learning rates, renderer): a second fit with the same configuration, e.g. the same
# seed again, another image of the same size, or refining the drawing just made, reuses the
# compiled code.
@functools.lru_cache(maxsize=8)
def _cached_optimizer(groups, lr_points, lr_width, lr_color):
    return make_packed_optimizer(groups, lr_points=lr_points, lr_width=lr_width, lr_color=lr_color)


@functools.lru_cache(maxsize=8)
def _cached_packing(labels, shapes):
    """One Packing per scene structure (labels and leaf shapes), so the step cache hits."""
    return Packing(labels, jax.tree.unflatten(jax.tree.structure(labels), [np.zeros(s) for s in shapes]))


@functools.lru_cache(maxsize=8)
def _compiled(labels, packing, optimizer, width, height, loss, render_fn):
    """The jitted update step(packed, opt_state, target, bg, limits, opacity_grad_scale,
    budget) -> (packed, opt_state, loss, psnr, rgb), where loss / psnr / rgb (float32
    (H, W, 3), composited over bg) describe the *incoming* parameters. ``packed`` is the
    scene's dict of per-group vectors (``packing.pack``); target float32 (H, W, 3); bg
    float32 (3,); limits from :func:`clamp_limits`; opacity_grad_scale float32 () (0
    freezes the opacity group: Adam's update is exactly 0 for a zero gradient); budget, a
    static (max_pieces, max_depth) for the renderer or None.

    Everything that differs between generating and refining is a traced argument, so a
    refinement of a drawing with the same structure reuses the compiled step.
    """
    clamp = make_packed_clamp(labels, packing)

    def render_rgb(packed, bg, budget):
        # fit checks the needs itself every few steps: no run-time budget check (it costs time)
        kw = {} if budget is None else {"max_pieces": budget[0], "max_depth": budget[1], "check_budget": False}
        img = render_fn(packing.unpack(packed), width=width, height=height, premultiplied=True, **kw)
        return _composite(img, bg)

    @functools.partial(jax.jit, static_argnames=("budget",))
    def step(packed, opt_state, target, bg, limits, opacity_grad_scale, budget=None):
        def objective(p):
            rgb = render_rgb(p, bg, budget)
            return image_loss(rgb, target, loss), rgb
        (value, rgb), grads = jax.value_and_grad(objective, has_aux=True)(packed)
        # A degenerate path can give non-finite gradients; never let them poison the scene.
        grads = {g: jnp.where(jnp.isfinite(v), v, 0.0) * (opacity_grad_scale if g == "opacity" else 1.0)
                 for g, v in grads.items()}
        updates, opt_state = optimizer.update(grads, opt_state, packed)
        new_packed = clamp(optax.apply_updates(packed, updates), limits)
        return new_packed, opt_state, value, psnr(rgb, target), rgb

    return step


def fit(target, *, num_paths: int = 256, mode: str = "stroke", iterations: int = 500, seed: int = 0,
        init: Optional[sc.Scene] = None, loss: str = "l2",
        background: Union[str, Sequence[float]] = "white",
        lr_points: float = 1.0, lr_width: float = 0.1, lr_color: float = 0.01,
        min_width: float = 1.0, max_width: float = 2.0, max_segments: int = 3, num_segments: int = 4,
        init_radius: float = 0.05, init_width: float = 1.0,
        densify: bool = False, densify_every: int = 50, densify_until: float = 0.6,
        densify_relative: float = 0.2,
        callback: Optional[Callable] = None, progress: bool = False, interruptible: bool = False,
        render_fn: Optional[Callable] = None):
    """Fit Bezier paths to ``target`` with Adam through the differentiable renderer.

    Args:
      target: (H, W, 3) RGB image, float in [0, 1] or uint8 ((H, W, 4) RGBA is composited
        over ``background``). Its size is the canvas size in pixels.
      num_paths: number of paths to create (ignored when ``init`` is given).
      mode: 'stroke' (open paths of 1..max_segments cubics: points, width and colour are
        optimised) or 'fill' (closed blobs of num_segments cubics: points and RGBA fill).
      iterations: optimisation steps (>= 0).
      seed: seeds the initial paths and densification (same seed -> same result on the
        same machine).
      init: a scene to refine instead of random paths (e.g. from ``dv.load_svg``); its
        structure (groups, ids, gradients) is kept; opacities are optimised too, widths are
        only kept >= 0, points are not confined to the canvas.
      loss: 'l2' (mean squared error) or 'l1' (mean absolute error).
      background: colour the drawing is composited over: 'white', 'black', 'estimate'
        (median of the target's border), '#rrggbb' or 3 floats in [0, 1].
      lr_points, lr_width, lr_color: Adam learning rates per group (pixels, pixels, [0,1]).
      min_width, max_width: stroke-width clamp in pixels (generated paths).
      max_segments, num_segments: segments per stroke (1..max) / per blob.
      init_radius: size of the random initial paths as a fraction of the canvas.
      init_width: initial stroke width in pixels.
      densify: re-seed collapsed paths every ``densify_every`` steps until
        ``densify_until`` * iterations (see module docstring); ``densify_relative``: also
        re-seed paths with less than this fraction of the median ink (see
        :func:`find_collapsed`; 0 re-seeds only collapsed ones).
      callback: ``callback(step, scene, image)`` after every step and once at the end
        (not after an interruption);
        ``step`` counts the updates the scene has had, ``image`` is its render,
        float32 (H, W, 3) composited over the background. Keep it cheap.
      progress: show a tqdm bar with loss, PSNR and iterations per second.
      interruptible: on KeyboardInterrupt, stop and return the drawing so far (with
        ``history['interrupted'] = True``) instead of raising.
      render_fn: renderer with :func:`diffvg_jax.render`'s signature (default: that one).

    Returns:
      (scene, history). ``scene``: the fitted :class:`Scene` (width/height set; generated
      drawings get the opaque background colour). ``history``: dict with 'loss' and 'psnr'
      (float32 (n,) arrays, the value before each update), 'final_loss' and 'final_psnr'
      (of the returned scene, so a re-render reproduces them), 'iterations' (done),
      'seconds' (loop wall time), 'it_per_s' (excluding the first, compiling step),
      'compile_seconds', 'densified' (list of (step, paths re-seeded)), 'interrupted',
      'background' (float32 (3,)), 'width', 'height', 'loss_kind', 'image' (the returned
      scene's render composited over the background, float32 (H, W, 3)).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if int(iterations) != iterations or iterations < 0:
        raise ValueError(f"iterations must be a non-negative integer, got {iterations!r}")
    if init is None and (int(num_paths) != num_paths or num_paths < 1):
        raise ValueError(f"num_paths must be a positive integer, got {num_paths!r}")
    if not (0 < min_width <= max_width):
        raise ValueError(f"need 0 < min_width <= max_width, got {min_width!r}, {max_width!r}")
    if densify and (int(densify_every) != densify_every or densify_every < 1):
        raise ValueError(f"densify_every must be a positive integer, got {densify_every!r}")
    for name, lr in (("lr_points", lr_points), ("lr_width", lr_width), ("lr_color", lr_color)):
        if not (np.isfinite(lr) and lr >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {lr!r}")
    if render_fn is None:
        from diffvg_jax.raster.renderer import render as render_fn

    target_np = _as_target(target, background)
    height, width = target_np.shape[:2]
    bg = parse_background(background, target_np)
    key = jax.random.key(int(seed))
    init_key, densify_key = jax.random.split(key)

    if init is not None:
        if not isinstance(init, sc.Scene):
            raise ValueError(f"init must be a diffvg_jax.Scene, got {type(init).__name__}")
        scene = init.replace(width=width, height=height)
        refine = True
    else:
        if mode == "stroke":
            scene = random_strokes(init_key, int(num_paths), width, height, max_segments=max_segments,
                                   stroke_width=init_width, radius=init_radius)
        else:
            scene = random_blobs(init_key, int(num_paths), width, height, num_segments=num_segments,
                                 radius=init_radius)
        scene = scene.replace(background=jnp.asarray(np.append(bg, 1.0), jnp.float32))
        refine = False

    labels = parameter_labels(scene)
    packing = _cached_packing(labels, tuple(tuple(np.shape(x)) for x in jax.tree.leaves(scene)))
    optimizer = _cached_optimizer(packing.groups, float(lr_points), float(lr_width), float(lr_color))
    if refine:
        limits = clamp_limits(width=width, height=height)
    else:
        limits = clamp_limits(width=width, height=height, min_width=min_width, max_width=max_width,
                              point_margin=0.25 * max(width, height))
    clamp = make_packed_clamp(labels, packing)
    opacity_scale = jnp.float32(1.0 if refine else 0.0)
    target_j = jnp.asarray(target_np)
    bg_j = jnp.asarray(bg)
    step = _compiled(labels, packing, optimizer, width, height, loss, render_fn)
    packed = clamp(packing.pack(scene), limits)
    opt_state = optimizer.init(packed)

    def host_scene(packed):
        return packing.unpack({g: np.asarray(v) for g, v in packed.items()})

    from diffvg_jax.raster.renderer import count_layers
    num_layers = count_layers(scene)
    needed = _packed_needs(packing, packed, width, height, num_layers)
    cap = _reuse_cap(step, _next_cap(needed), needed)
    rng = key_to_rng(densify_key)
    losses, psnrs, densified = [], [], []
    interrupted = False
    compile_seconds = 0.0
    densify_stop = int(densify_until * iterations)

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=int(iterations), unit="it", dynamic_ncols=True, desc="compiling")
    t0 = time.perf_counter()
    t_first = None
    try:
        for i in range(int(iterations)):
            new_packed, new_state, value, p, rgb = step(packed, opt_state, target_j, bg_j, limits, opacity_scale,
                                                        budget=cap)
            if callback is not None:
                callback(i, host_scene(packed), rgb)
            packed, opt_state = new_packed, new_state
            losses.append(value)
            psnrs.append(p)
            if t_first is None:
                value.block_until_ready()
                t_first = time.perf_counter()
                compile_seconds = t_first - t0
                if bar is not None:
                    bar.set_description("fitting")
            done = i + 1
            if densify and done % densify_every == 0 and done <= densify_stop:
                params = host_scene(packed)
                which = find_collapsed(params, width=width, height=height, min_relative=densify_relative)
                if which.any():
                    params = reseed_paths(params, which, rgb=np.asarray(rgb), target=target_np, rng=rng,
                                          radius=init_radius, stroke_width=min(max(init_width, min_width), max_width))
                    packed = clamp(packing.pack(params), limits)
                    # fresh Adam moments for the re-seeded paths
                    opt_state = reset_packed_moments(opt_state, packing.element_mask(_child_mask(params, which)))
                    densified.append((done, int(which.sum())))
            if done % 10 == 0:
                needed = _packed_needs(packing, packed, width, height, num_layers)
                # grow before the renderer starts dropping edges or layers
                if needed[0] > 0.8 * cap[0] or not _covers(cap, needed):
                    cap = _reuse_cap(step, _next_cap(needed, room=2.0), needed)
            if bar is not None:
                bar.update(1)
                if done % 5 == 0 or done == iterations:
                    bar.set_postfix(loss=f"{float(value):.5f}", psnr=f"{float(p):.2f}")
    except KeyboardInterrupt:
        if not interruptible:
            raise
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    t_end = time.perf_counter()

    needed = _packed_needs(packing, packed, width, height, num_layers)
    if not _covers(cap, needed):
        cap = _reuse_cap(step, _next_cap(needed, room=1.0), needed)
    # The final metrics come from the step function too (its outputs describe the incoming
    # parameters; the update is discarded): no second compilation just for evaluation.
    _, _, final_loss, final_psnr, final_rgb = step(packed, opt_state, target_j, bg_j, limits, opacity_scale,
                                                   budget=cap)
    params = jax.tree.map(jnp.asarray, host_scene(packed))
    n = len(losses)
    if callback is not None and not interrupted:
        callback(n, params, final_rgb)
    history = {
        "loss": np.asarray([float(v) for v in losses], np.float32),
        "psnr": np.asarray([float(v) for v in psnrs], np.float32),
        "final_loss": float(final_loss),
        "final_psnr": float(final_psnr),
        "iterations": n,
        "seconds": t_end - t0,
        "compile_seconds": compile_seconds,
        "it_per_s": (n - 1) / (t_end - t_first) if n > 1 and t_first is not None and t_end > t_first
        else float("nan"),
        "densified": densified,
        "interrupted": interrupted,
        "background": bg,
        "width": width,
        "height": height,
        "loss_kind": loss,
        "image": np.asarray(final_rgb),
    }
    return params, history
