"""``render``: scene -> image, with exact box-filtered coverage and analytic gradients.

Pipeline (all inside one jit):
  1. walk the scene tree (static structure) into coverage *layers* (one per fill and per
     stroke) and a compositing tree (groups / shapes with opacity, and groups with a clip
     or a mask, become sub-layers); clip shapes and mask regions are layers too, with no
     colour: their coverage multiplies their group's sub-layer per pixel;
  2. each layer's geometry -> closed polygon edges in pixels: fills flatten their cubics,
     strokes flatten the centre line and build the outline (``stroke.stroke_outline``);
  3. one call of a coverage kernel for all layers (custom VJP), then the fill rule:
     - a flat scene (no opacity, clip or mask groups) goes through ``kernels.tiles``: each 16 x 16 tile
       keeps only the layers present in it (at most ``max_depth``), so the rest of the
       pipeline costs depth x pixels;
     - otherwise ``kernels.winding_integral`` gives every layer over the whole canvas;
  4. paints at pixel centres (``paint.evaluate_paint``) and premultiplied "over"
     compositing, back to front, in closed form (exclusive products of 1 - alpha).

Colour convention: images are float32 (H, W, 4) RGBA. ``render`` returns straight
(un-premultiplied) alpha by default, like diffvg, so ``rgb * a + bg * (1 - a)`` composites
it; ``premultiplied=True`` returns premultiplied RGBA (gradients stay finite where a = 0).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import List, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.kernels import fill_rule_coverage, winding_integral
from diffvg_jax.kernels import pieces_needed as _kernel_pieces_needed
from diffvg_jax.kernels.tiles import TILE, tile_image, tiled_winding, untile
from diffvg_jax.kernels.tiles import depth_needed as _kernel_depth_needed

from diffvg_jax.geometry import curves as geometry
from diffvg_jax.geometry.curves import float_dtype
from diffvg_jax.paint.gradients import evaluate_paint
from diffvg_jax.paint.pattern import resolve_resolutions
from diffvg_jax.scene import Group, Polygon, Scene, Solid
from diffvg_jax.geometry.stroke import stroke_outline
from .validate import validate_scene

DEFAULT_CURVE_PIECES = 16
UNPREMULTIPLY_MIN_ALPHA = 1e-4
ROUND_POINTS = 16  # points per round join / cap arc: sagitta 0.004 x half width


@dataclass
class _Node:
    """A compositing list, bottom first: ints are layer indices, _Sub entries sub-layers."""
    entries: List[Union[int, "_Sub"]] = field(default_factory=list)


@dataclass
class _ClipNode:
    """Clip coverage: (union of ``layers`` and ``groups``) x ``clip``. The union of
    coverages c_i is 1 - prod(1 - c_i), as resvg composes a clip mask."""
    layers: List[int] = field(default_factory=list)              # clip shapes' fill layers
    groups: List["_ClipNode"] = field(default_factory=list)      # Groups inside the clip
    clip: Optional["_ClipNode"] = None                           # intersected with the union


@dataclass
class _MaskNode:
    """Mask value: luminance (or alpha) of ``node`` composited, x region x inner mask."""
    node: "_Node"
    alpha: bool                         # mask_type 'alpha'
    region: Optional[int] = None        # layer index of the region rectangle
    mask: Optional["_MaskNode"] = None


@dataclass
class _Sub:
    """A sub-layer: ``node`` composited over transparent black, then multiplied by the
    opacity (scalar) and per pixel by the clip coverage and the mask value."""
    node: "_Node"
    opacity: Optional[jax.Array] = None
    clip: Optional[_ClipNode] = None
    mask: Optional[_MaskNode] = None


@dataclass
class _Item:
    """One shape in document order: its parent transform and the indices of its layers."""
    shape: object
    parent: jax.Array                 # (3, 3) user-of-parent -> canvas
    layer_ids: dict                   # 'fill' / 'stroke' -> global layer index
    opacity_in_alpha: bool            # the shape's opacity scales its single layer
    clip: bool = False                # a clip layer: fill geometry only, no paint


# Luminance weights of a luminance mask, applied to premultiplied sRGB (resvg / tiny-skia).
LUMINANCE = (0.2125, 0.7154, 0.0721)


def _new_layer(counter) -> int:
    counter[0] += 1
    return counter[0] - 1


def _walk_clip(clip, parent, items, counter) -> _ClipNode:
    """Clip layers of a ClipPath used in the space ``parent`` (3, 3) user -> canvas."""
    m = parent @ jnp.asarray(clip.transform, float_dtype())
    out = _walk_clip_children(clip.children, m, items, counter)
    if clip.clip is not None:
        out.clip = _walk_clip(clip.clip, parent, items, counter)  # same space as `clip`
    return out


def _walk_clip_children(children, m, items, counter) -> _ClipNode:
    out = _ClipNode()
    for child in children:
        if isinstance(child, Group):
            gm = m @ jnp.asarray(child.transform, float_dtype())
            sub = _walk_clip_children(child.children, gm, items, counter)
            if child.clip is not None:
                sub.clip = _walk_clip(child.clip, gm, items, counter)
            out.groups.append(sub)
            continue
        layer = _new_layer(counter)
        out.layers.append(layer)
        items.append(_Item(child, m, {"fill": layer}, False, clip=True))
    return out


def _region_polygon(region):
    """Polygon of a mask region (x, y, width, height) float32 (4,); negative sizes clamp to 0."""
    x, y = region[0], region[1]
    x1 = x + jnp.maximum(region[2], 0.0)
    y1 = y + jnp.maximum(region[3], 0.0)
    return Polygon(points=jnp.stack([jnp.stack([x, y]), jnp.stack([x1, y]), jnp.stack([x1, y1]),
                                     jnp.stack([x, y1])]))


def _walk_mask(mask, parent, items, counter) -> _MaskNode:
    """Layers of a Mask used in the space ``parent``: its content as a compositing tree, its
    region as one clip layer."""
    node = _Node()
    _walk(mask.children, parent @ jnp.asarray(mask.transform, float_dtype()), node, items, counter)
    out = _MaskNode(node, mask.mask_type == "alpha")
    if mask.region is not None:
        out.region = _new_layer(counter)
        region = _region_polygon(jnp.asarray(mask.region, float_dtype()))
        items.append(_Item(region, parent, {"fill": out.region}, False, clip=True))
    if mask.mask is not None:
        out.mask = _walk_mask(mask.mask, parent, items, counter)
    return out


def _walk_group(child, parent, node, items, counter):
    m = parent @ jnp.asarray(child.transform, float_dtype())
    if child.opacity is None and child.clip is None and child.mask is None:
        _walk(child.children, m, node, items, counter)
        return
    sub = _Sub(_Node())
    _walk(child.children, m, sub.node, items, counter)
    if child.opacity is not None:
        sub.opacity = jnp.asarray(child.opacity, float_dtype())
    if child.clip is not None:
        sub.clip = _walk_clip(child.clip, m, items, counter)
    if child.mask is not None:
        sub.mask = _walk_mask(child.mask, m, items, counter)
    node.entries.append(sub)


def _walk(children, parent, node, items, counter):
    """Flatten the scene tree into items (shapes) and the compositing tree of layers."""
    for child in children:
        if isinstance(child, Group):
            _walk_group(child, parent, node, items, counter)
            continue
        kinds = [k for k, paint in (("fill", child.fill), ("stroke", child.stroke)) if paint is not None]
        if child.paint_order == "stroke":
            kinds.reverse()
        target = node
        if child.opacity is not None and len(kinds) > 1:
            # Fill and stroke of a shape with opacity composite as one layer (SVG).
            target = _Node()
            node.entries.append(_Sub(target, jnp.asarray(child.opacity, float_dtype())))
        ids = {}
        for kind in kinds:
            ids[kind] = counter[0]
            target.entries.append(counter[0])
            counter[0] += 1
        items.append(_Item(child, parent, ids, child.opacity is not None and len(kinds) == 1))


def _shape_geometry(shape, parent, capacity, clip=False):
    """Edges in pixels of one shape's fill and stroke, and its canvas -> user transform.

    ``clip``: a clip layer, whose fill geometry counts whatever its paints (and its stroke
    does not). Vectorised with ``jax.vmap`` over shapes of the same static structure.
    """
    to_canvas = parent @ jnp.asarray(shape.transform, float_dtype())
    subpaths = geometry.shape_subpaths(shape)
    out = {"to_user": geometry.safe_inverse(to_canvas)}
    empty = jnp.zeros((0, 2, 2), float_dtype())
    if shape.fill is not None or clip:
        edges = []
        for sub in subpaths:
            verts, _, _ = geometry.flatten_subpath(sub, to_canvas, capacity, lift=True)
            edges.append(geometry.polyline_edges(geometry.apply_transform(to_canvas, verts)))
        out["fill"] = jnp.concatenate(edges, axis=0) if edges else empty
    if shape.stroke is not None and not clip:
        edges = []
        width = jnp.asarray(shape.stroke_width, float_dtype())
        for sub in subpaths:
            # Stroke centre lines get twice the capacity: they cannot use the fills' lifted
            # midpoints, and chord errors move both sides of the outline.
            verts, widths, mask = geometry.flatten_subpath(sub, to_canvas, 2 * capacity)
            w = widths if widths is not None else jnp.broadcast_to(width, verts.shape[:1])
            outline = stroke_outline(verts, 0.5 * jnp.maximum(w, 0.0), closed=sub.closed, joint_mask=mask,
                                     join=shape.line_join, cap=shape.line_cap, miter_limit=shape.miter_limit,
                                     round_points=ROUND_POINTS)
            edges.append(geometry.apply_transform(to_canvas, outline))
        out["stroke"] = jnp.concatenate(edges, axis=0) if edges else empty
    return out


def _signature(item: _Item):
    leaves, treedef = jax.tree_util.tree_flatten(item.shape)
    return (item.clip, treedef, tuple((tuple(jnp.shape(x)), jnp.result_type(x)) for x in leaves))


@dataclass
class _Layers:
    """Everything the kernel and the compositor need, per layer in document order."""
    edges: jax.Array            # (E, 2, 2) pixels, all layers
    edge_layer: np.ndarray      # (E,) int32 static
    evenodd: np.ndarray         # (L,) bool static
    colour: jax.Array           # (L, 4) straight RGBA of solid paints (1s for others)
    alpha: jax.Array            # (L,) opacity multipliers
    images: dict                # layer -> (H, W, 4) straight RGBA of non-solid paints


def _collect(scene: Scene, capacity: int, height=None, width=None, with_paint=True):
    """Walk, batch shapes by structure, and build the layers. Paint images need the canvas
    size; ``with_paint=False`` skips them (for counting pieces)."""
    items: List[_Item] = []
    root = _Node()
    counter = [0]
    _walk(scene.children, jnp.eye(3, dtype=float_dtype()), root, items, counter)
    num_layers = counter[0]
    groups = {}
    for item in items:
        groups.setdefault(_signature(item), []).append(item)
    edge_parts, edge_ids, colours, alphas, order, fill_rules = [], [], [], [], [], {}
    images = {}
    centres = _pixel_centres(height, width) if with_paint else None
    for members in groups.values():
        shapes = [m.shape for m in members]
        stacked = jax.tree_util.tree_map(lambda *xs: jnp.stack([jnp.asarray(x, float_dtype()) for x in xs]), *shapes)
        parents = jnp.stack([m.parent for m in members])
        first = members[0]
        geo = jax.vmap(lambda s, p: _shape_geometry(s, p, capacity, first.clip))(stacked, parents)
        for kind in ("fill", "stroke"):
            if kind not in first.layer_ids:
                continue
            ids = np.array([m.layer_ids[kind] for m in members], np.int32)
            e = geo[kind]
            edge_parts.append(e.reshape(-1, 2, 2))
            edge_ids.append(np.repeat(ids, e.shape[1]))
            for i in ids:
                fill_rules[int(i)] = first.shape.fill_rule if kind == "fill" else "nonzero"
            if first.clip:  # coverage only: no colour, no paint image
                colours.append(jnp.zeros((len(members), 4), float_dtype()))
                alphas.append(jnp.ones((len(members),), float_dtype()))
                order.append(ids)
                continue
            alpha = stacked.fill_opacity if kind == "fill" else stacked.stroke_opacity
            if first.opacity_in_alpha:
                alpha = alpha * stacked.opacity
            paint = stacked.fill if kind == "fill" else stacked.stroke
            if isinstance(paint, Solid):
                colours.append(paint.color)
            else:
                colours.append(jnp.ones((len(members), 4), float_dtype()))
                if with_paint:
                    user = jax.vmap(lambda tu: geometry.apply_transform(tu, centres))(geo["to_user"])
                    imgs = jax.vmap(evaluate_paint)(paint, user)
                    for b, i in enumerate(ids):
                        images[int(i)] = imgs[b]
            alphas.append(alpha)
            order.append(ids)
    if num_layers:
        perm = np.argsort(np.concatenate(order))
        colour = jnp.concatenate(colours)[perm]
        alpha = jnp.concatenate(alphas)[perm]
        edges = jnp.concatenate(edge_parts)
        edge_layer = np.concatenate(edge_ids).astype(np.int32)
    else:
        colour = jnp.zeros((0, 4), float_dtype())
        alpha = jnp.zeros((0,), float_dtype())
        edges = jnp.zeros((0, 2, 2), float_dtype())
        edge_layer = np.zeros((0,), np.int32)
    evenodd = np.array([fill_rules[i] == "evenodd" for i in range(num_layers)], bool)
    return root, _Layers(edges, edge_layer, evenodd, colour, alpha, images)


def _pixel_centres(height, width):
    ys, xs = jnp.meshgrid(jnp.arange(height, dtype=float_dtype()) + 0.5,
                          jnp.arange(width, dtype=float_dtype()) + 0.5, indexing="ij")
    return jnp.stack([xs, ys], axis=-1)  # (H, W, 2)


def _take(x, idx):
    """x[idx] along axis 0, without the copy when idx is all of x in order (the usual case:
    a scene without opacity groups)."""
    if len(idx) == x.shape[0] and np.array_equal(idx, np.arange(len(idx))):
        return x
    return x[idx]


def _transmittance(alpha):
    """prod_{m > e} (1 - alpha_m) for alpha (n, H, W): light that reaches layer e from above.

    A sequential scan over layers: XLA's CPU cumprod along a non-minor axis was ~10x slower
    than one elementwise pass in our measurements; the scan costs about one.
    """
    def step(carry, a):
        return carry * (1.0 - a), carry

    _, trans = jax.lax.scan(step, jnp.ones(alpha.shape[1:], alpha.dtype), alpha, reverse=True)
    return trans


def _composite(node: _Node, layers: _Layers, coverage, height, width):
    """Premultiplied RGBA (H, W, 4) of one compositing list, over transparent black.

    "over" back to front has the closed form  sum_e S_e * prod_{m > e} (1 - alpha_e), so the
    transmittances come from one reverse cumulative product; solid-colour layers (the
    common case) then reduce to one contraction over layers.
    """
    dt = float_dtype()
    if not node.entries:
        return jnp.zeros((height, width, 4), dt)
    solid_pos = [k for k, e in enumerate(node.entries) if isinstance(e, int) and e not in layers.images]
    other_pos = [k for k in range(len(node.entries)) if k not in solid_pos]
    parts, terms = [], []
    if solid_pos:
        idx = np.array([node.entries[k] for k in solid_pos])
        a = _take(coverage, idx) * (layers.colour[idx, 3] * layers.alpha[idx])[:, None, None]
        parts.append(a)
    for k in other_pos:
        entry = node.entries[k]
        if isinstance(entry, int):
            img = layers.images[entry]
            a = coverage[entry] * img[..., 3] * layers.alpha[entry]
            terms.append((k, a[..., None] * jnp.concatenate([img[..., :3], jnp.ones_like(a)[..., None]], -1)))
        else:
            sub_img = _composite_sub(entry, layers, coverage, height, width)
            a = sub_img[..., 3]
            terms.append((k, sub_img))
        parts.append(a[None])
    alpha = jnp.concatenate(parts, axis=0)
    position = solid_pos + other_pos            # entry position of each row of `alpha`
    if position != sorted(position):
        alpha = alpha[np.argsort(position)]
    trans = _transmittance(alpha)
    out = jnp.zeros((height, width, 4), dt)
    if solid_pos:
        pos = np.array(solid_pos)
        col = jnp.concatenate([layers.colour[idx, :3], jnp.ones((len(idx), 1), dt)], axis=1)
        out = out + jnp.einsum("shw,sc->hwc", _take(alpha, pos) * _take(trans, pos), col)
    for k, img in terms:
        out = out + img * trans[k][..., None]
    return out


def _composite_sub(sub: _Sub, layers: _Layers, coverage, height, width):
    """Premultiplied RGBA (H, W, 4) of a sub-layer: its node, times opacity, clip, mask."""
    img = _composite(sub.node, layers, coverage, height, width)
    if sub.opacity is not None:
        img = img * sub.opacity
    factor = None
    if sub.clip is not None:
        factor = _clip_coverage(sub.clip, coverage)
    if sub.mask is not None:
        value = _mask_value(sub.mask, layers, coverage, height, width)
        factor = value if factor is None else factor * value
    return img if factor is None else img * factor[..., None]


def _clip_coverage(clip: _ClipNode, coverage):
    """float (H, W) in [0, 1]: 1 - prod_i(1 - c_i) over the clip's layers and groups, times
    its own clip. An empty clip is 0 everywhere (SVG: an empty clipPath hides everything)."""
    miss = jnp.ones(coverage.shape[1:], coverage.dtype)
    if clip.layers:
        miss = jnp.prod(1.0 - coverage[np.array(clip.layers)], axis=0)
    for group in clip.groups:
        miss = miss * (1.0 - _clip_coverage(group, coverage))
    out = 1.0 - miss
    if clip.clip is not None:
        out = out * _clip_coverage(clip.clip, coverage)
    return out


def _mask_value(mask: _MaskNode, layers: _Layers, coverage, height, width):
    """float (H, W): the mask content's luminance (or alpha), times region and inner mask."""
    img = _composite(mask.node, layers, coverage, height, width)
    if mask.alpha:
        value = img[..., 3]
    else:
        value = img[..., :3] @ jnp.asarray(LUMINANCE, img.dtype)
    if mask.region is not None:
        value = value * coverage[mask.region]
    if mask.mask is not None:
        value = value * _mask_value(mask.mask, layers, coverage, height, width)
    return value


def _composite_tiled(layers: _Layers, winding, slot_layer, height, width):
    """Premultiplied RGBA (H, W, 4) of a flat list of layers from tiled winding integrals.

    winding float (D, NT, T, T) and slot_layer int32 (D, NT) as ``tiled_winding`` returns
    them: each tile composites only its own slots, bottom first, with the closed form of
    ``_composite``; an empty slot (layer L) has alpha 0.
    """
    dt = float_dtype()
    num_layers = layers.evenodd.shape[0]
    evenodd = jnp.asarray(np.append(layers.evenodd, False))[slot_layer]
    cov = jnp.where(evenodd[..., None, None], fill_rule_coverage(winding, "evenodd"),
                    fill_rule_coverage(winding, "nonzero"))
    colour = jnp.concatenate([layers.colour, jnp.zeros((1, 4), dt)])[slot_layer]         # (D, NT, 4)
    scale = jnp.concatenate([layers.alpha, jnp.zeros((1,), dt)])[slot_layer] * colour[..., 3]
    a = cov * scale[..., None, None]
    if not layers.images:  # solid paints only: one colour per slot
        w = a * _transmittance(a)
        rgba = jnp.concatenate([colour[..., :3], jnp.ones_like(colour[..., :1])], -1)
        # A dot_general: XLA:CPU's reductions over the leading (slot) axis were 2x slower.
        return untile(jnp.einsum("dtyx,dtc->tyxc", w, rgba), height, width)
    # Layers with a gradient paint: multiply in their paint image, tile by tile (solid
    # layers read an all-ones image).
    which = sorted(layers.images)
    index = np.full(num_layers + 1, len(which), np.int32)
    index[which] = np.arange(len(which))
    tiled_images = [tile_image(layers.images[k]) for k in which]
    stack = jnp.stack(tiled_images + [jnp.ones_like(tiled_images[0])])                  # (I + 1, NT, T, T, 4)
    tiles = jnp.arange(slot_layer.shape[1])[None, :]
    img = stack[jnp.asarray(index)[slot_layer], tiles]                                   # (D, NT, T, T, 4)
    a = a * img[..., 3]
    rgb = colour[..., None, None, :3] * img[..., :3]
    w = a * _transmittance(a)
    out = jnp.concatenate([jnp.sum(w[..., None] * rgb, axis=0), jnp.sum(w, axis=0)[..., None]], axis=-1)
    return untile(out, height, width)


def auto_budget(need: int) -> int:
    """Round a piece count up to a power of two (>= 1024) so budgets recompile rarely."""
    return 1 << max(10, int(math.ceil(math.log2(max(need, 1) * 1.05 + 1))))


def default_budget(num_edges: int, height: int, width: int) -> int:
    """Budget used when the scene is traced (inside the caller's jit): one piece per edge
    slot plus a canvas-sized allowance, rounded up to 4096. Flattening slots that a curve
    does not need are zero-length and need no piece, so this usually has room to spare; a
    run-time warning says when it does not (pass ``max_pieces`` for large shapes)."""
    need = num_edges + 8 * (height + width)
    return int(-(-need // 4096) * 4096)


def _warn_budget(need, budget, depth_need, depth):
    need = int(np.max(need))  # batched under vmap
    if need > int(budget):
        warnings.warn(f"diffvg_jax.render: the scene needs {need} boundary pieces but max_pieces={int(budget)}; "
                      "edges past the budget are dropped. Pass a larger max_pieces "
                      "(dv.pieces_needed(scene, width=..., height=...) gives the need).", RuntimeWarning, stacklevel=2)
    depth_need = int(np.max(depth_need))
    if depth_need > int(depth):
        warnings.warn(f"diffvg_jax.render: a {TILE}x{TILE} tile holds {depth_need} layers but max_depth={int(depth)}; "
                      "the topmost layers past it are dropped there. Pass a larger max_depth "
                      "(dv.depth_needed(scene, width=..., height=...) gives the need).", RuntimeWarning, stacklevel=2)


def _is_flat(node: _Node) -> bool:
    """True when the compositing tree is one list of layers (no group or shape opacity
    layers): the tiled path composites exactly such lists."""
    return all(isinstance(e, int) for e in node.entries)


def render_traced(scene: Scene, width, height, premultiplied, max_pieces, capacity, check_budget, max_depth):
    root, layers = _collect(scene, capacity, height, width)
    num_layers = layers.evenodd.shape[0]
    if num_layers and _is_flat(root):
        winding, slot_layer, depth_need, pieces_need = tiled_winding(
            layers.edges, layers.edge_layer, layers.evenodd, num_layers=num_layers, height=height, width=width,
            max_pieces=max_pieces, max_depth=min(max_depth, num_layers))
        out = _composite_tiled(layers, winding, slot_layer, height, width)
        if check_budget:
            jax.debug.callback(_warn_budget, pieces_need, max_pieces, jnp.max(depth_need), min(max_depth, num_layers))
    elif num_layers:
        A = winding_integral(layers.edges, layers.edge_layer, num_layers=num_layers, height=height, width=width,
                             max_pieces=max_pieces)
        if layers.evenodd.all():
            coverage = fill_rule_coverage(A, "evenodd")
        elif not layers.evenodd.any():
            coverage = fill_rule_coverage(A, "nonzero")
        else:
            coverage = jnp.where(layers.evenodd[:, None, None], fill_rule_coverage(A, "evenodd"),
                                 fill_rule_coverage(A, "nonzero"))
        if check_budget:
            need = _kernel_pieces_needed(jax.lax.stop_gradient(layers.edges), height=height, width=width)
            jax.debug.callback(_warn_budget, need, max_pieces, 0, 1)
        out = _composite(root, layers, coverage, height, width)
    else:
        out = jnp.zeros((height, width, 4), float_dtype())
    bg = jnp.asarray(scene.background, float_dtype())
    bg_pre = jnp.concatenate([bg[:3] * bg[3], bg[3:]])
    out = out + bg_pre * (1.0 - out[..., 3:4])
    if premultiplied:
        return out
    # Un-premultiply. Below alpha 1e-4 divide by 1e-4 instead: such pixels are invisible,
    # compositing them over a background changes by < 1e-4, and the gradient of the
    # division stays bounded (it grows as 1 / alpha).
    a = out[..., 3:4]
    rgb = out[..., :3] / jnp.maximum(a, UNPREMULTIPLY_MIN_ALPHA)
    return jnp.concatenate([rgb, a], axis=-1)


_render_jit = jax.jit(render_traced, static_argnums=(1, 2, 3, 4, 5, 6, 7))


def _is_concrete(scene) -> bool:
    return not any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(scene))


def _canvas_size(scene, width, height):
    width = scene.width if width is None else width
    height = scene.height if height is None else height
    for name, v in (("width", width), ("height", height)):
        if v is None:
            raise ValueError(f"render: {name} is required (the scene has no canvas {name})")
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"render: {name} must be a positive int, got {v!r}")
    return int(width), int(height)


def traced_pieces_needed(scene, width, height, capacity):
    _, layers = _collect(scene, capacity, with_paint=False)
    return _kernel_pieces_needed(layers.edges, height=height, width=width)


_need_jit = jax.jit(traced_pieces_needed, static_argnums=(1, 2, 3))


def traced_depth_needed(scene, width, height, capacity, max_pieces):
    _, layers = _collect(scene, capacity, with_paint=False)
    num_layers = layers.evenodd.shape[0]
    if not num_layers:
        return jnp.zeros((), jnp.int32)
    return _kernel_depth_needed(layers.edges, layers.edge_layer, layers.evenodd, num_layers=num_layers,
                                height=height, width=width, max_pieces=max_pieces)


_depth_jit = jax.jit(traced_depth_needed, static_argnums=(1, 2, 3, 4))

# Each compiled CPU program keeps a few hundred memory mappings of machine code (measured:
# ~450 per scene structure on XLA:CPU, ~900 without LLVM optimisation), and Linux allows
# 65530 per process by default. A process that renders many differently structured scenes
# (a folder of SVG files, the conformance suite) ran out and crashed inside XLA, so the
# renderer's own program caches are emptied when they hold more than this many programs,
# or when the process holds more than MAX_MEMORY_MAPS mappings after a compilation.
MAX_CACHED_PROGRAMS = 32
MAX_MEMORY_MAPS = 30000
_programs_at_last_check = [0]


def _memory_maps() -> int:
    """Number of memory mappings of this process (Linux); 0 where /proc is not available."""
    try:
        with open("/proc/self/maps", "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def _bound_program_caches():
    """Empty the renderer's jit caches when they have grown too large (a later call
    recompiles, or reloads from a persistent compilation cache). Checked only after a
    compilation, so a steady loop pays three cache-size lookups per call."""
    jits = (_render_jit, _need_jit, _depth_jit)
    programs = sum(f._cache_size() for f in jits)
    if programs == _programs_at_last_check[0]:
        return
    _programs_at_last_check[0] = programs
    if programs > MAX_CACHED_PROGRAMS or _memory_maps() > MAX_MEMORY_MAPS:
        for f in jits:
            f.clear_cache()
        _programs_at_last_check[0] = 0


# Up to this many layers the tiled path simply keeps every layer in every tile: counting
# the need would cost a compilation of its own for little gain.
SMALL_SCENE_LAYERS = 16


def count_layers(scene) -> int:
    counter = [0]
    _walk(scene.children, jnp.eye(3, dtype=float_dtype()), _Node(), [], counter)
    return counter[0]


def round_depth(need: int, num_layers: int) -> int:
    """A depth budget: the need rounded up to a multiple of 8 (fewer recompilations), at
    most the number of layers."""
    return int(min(max(num_layers, 1), max(8, -(-int(need) // 8) * 8)))


def pieces_needed(scene: Scene, *, width: Optional[int] = None, height: Optional[int] = None,
                  curve_pieces: int = DEFAULT_CURVE_PIECES) -> int:
    """The number of unit boundary pieces ``render`` needs for this (concrete) scene.

    Pass it (or more) as ``max_pieces`` when rendering inside your own ``jax.jit``.
    """
    validate_scene(scene)
    width, height = _canvas_size(scene, width, height)
    return int(_need_jit(scene, width, height, int(curve_pieces)))


def depth_needed(scene: Scene, *, width: Optional[int] = None, height: Optional[int] = None,
                 curve_pieces: int = DEFAULT_CURVE_PIECES, max_pieces: Optional[int] = None) -> int:
    """The most layers (fills and strokes) that any 16 x 16 tile of this (concrete) scene
    holds: pass it (or more) as ``max_depth`` when rendering inside your own ``jax.jit``.

    ``max_pieces`` is the piece budget to count with (default: the exact need).
    """
    validate_scene(scene)
    width, height = _canvas_size(scene, width, height)
    if max_pieces is None:
        max_pieces = auto_budget(int(_need_jit(scene, width, height, int(curve_pieces))))
    return int(_depth_jit(scene, width, height, int(curve_pieces), int(max_pieces)))


def render(scene: Scene, *, width: Optional[int] = None, height: Optional[int] = None,
           premultiplied: bool = False, max_pieces: Optional[int] = None, max_depth: Optional[int] = None,
           curve_pieces: int = DEFAULT_CURVE_PIECES, check_budget: bool = True) -> jax.Array:
    """Rasterise a scene with exact box-filtered anti-aliasing.

    Args:
      scene: a :class:`~diffvg_jax.Scene`. Differentiable w.r.t. every float leaf.
        Batch with ``jax.vmap(lambda s: render(s, width=..., height=...))(stacked)``.
      width, height: canvas size in pixels (static ints); default: the scene's own.
      premultiplied: return premultiplied RGBA instead of straight alpha.
      max_pieces: static budget of unit-length boundary pieces (the kernel's work). None:
        computed exactly when the scene is concrete (rounded up to a power of two), or a
        heuristic when traced; a warning is printed at run time if the budget is exceeded.
      max_depth: static budget of layers per 16 x 16 tile (after-kernel work follows
        depth x pixels). None: counted when the scene is concrete and has many layers,
        else every layer (always enough). A warning is printed at run time if it is
        exceeded. Inside your own jit, pass ``depth_needed(scene, ...)`` with some room.
      curve_pieces: static capacity of line pieces per Bezier segment; each segment uses as
        many as its flatness needs (0.02 px tolerance), at most this many.
      check_budget: when a budget was not counted exactly, warn at run time if it is
        exceeded. The warning is a host callback, which costs about 10 ms per call on CPU
        (XLA runs the program differently); loops that check the need themselves, as
        ``fit`` does, turn it off.

    Returns:
      float32 (height, width, 4) RGBA, straight alpha unless ``premultiplied``. Pixel
      (i, j) is the box-filtered average over [j, j+1] x [i, i+1] in canvas units.
    """
    if not isinstance(scene, Scene):
        raise ValueError(f"render: scene must be a diffvg_jax.Scene, got {type(scene).__name__}")
    validate_scene(scene)
    width, height = _canvas_size(scene, width, height)
    if not isinstance(curve_pieces, (int, np.integer)) or curve_pieces < 1:
        raise ValueError(f"render: curve_pieces must be a positive int, got {curve_pieces!r}")
    for name, v in (("max_pieces", max_pieces), ("max_depth", max_depth)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
            raise ValueError(f"render: {name} must be a positive int, got {v!r}")
    _bound_program_caches()
    concrete = _is_concrete(scene)
    if concrete:  # pattern tile rasters sized from the canvas scale (static sizes)
        scene = resolve_resolutions(scene)
    exact = concrete and max_pieces is None
    if max_pieces is None:
        if concrete:
            max_pieces = auto_budget(int(_need_jit(scene, width, height, int(curve_pieces))))
        else:
            num_edges = collect_edge_count(scene, int(curve_pieces))
            max_pieces = default_budget(num_edges, height, width)
    if max_depth is None:
        num_layers = count_layers(scene)
        max_depth = max(num_layers, 1)
        if concrete and num_layers > SMALL_SCENE_LAYERS:
            need = int(_depth_jit(scene, width, height, int(curve_pieces), int(max_pieces)))
            max_depth = round_depth(need, num_layers)
    else:
        exact = False
    return _render_jit(scene, width, height, bool(premultiplied), int(max_pieces), int(curve_pieces),
                       bool(check_budget) and not exact, int(max_depth))


def collect_edge_count(scene, capacity) -> int:
    """Static number of edges the scene produces (from shapes only, no tracing of values)."""
    shapes = jax.eval_shape(lambda s: _collect(s, capacity, with_paint=False)[1].edges, scene)
    return int(shapes.shape[0])
