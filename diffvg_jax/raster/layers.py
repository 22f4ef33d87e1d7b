"""Scene -> coverage layers: the scene walk, the compositing tree, and each layer's edges.

1. :func:`walk_scene` flattens the scene tree (static structure) into coverage *layers*
   (one per fill and per stroke) and a compositing tree (groups / shapes with opacity, and
   groups with a clip or a mask, become sub-layers); clip shapes and mask regions are
   layers too, with no colour: their coverage multiplies their group's sub-layer per pixel;
2. :func:`collect_layers` turns each layer's geometry into closed polygon edges in pixels
   (fills flatten their cubics, strokes flatten the centre line and build the outline with
   ``geometry.stroke_outline``), batched over shapes of the same static structure, and
   evaluates non-solid paints at the pixel centres with a paint function the caller passes
   (the renderer's, which draws pattern tiles: see :mod:`.patterns`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.geometry import (apply_transform, flatten_subpath, float_dtype, polyline_edges, safe_inverse,
                                 shape_subpaths, stroke_outline)
from diffvg_jax.scene import ALIASED_RENDERINGS, Group, Polygon, Scene, Solid

ROUND_POINTS = 16  # points per round join / cap arc: sagitta 0.004 x half width


@dataclass
class Node:
    """A compositing list, bottom first: ints are layer indices, SubLayer entries sub-layers."""
    entries: List[Union[int, "SubLayer"]] = field(default_factory=list)


@dataclass
class ClipNode:
    """Clip coverage: (union of ``layers`` and ``groups``) x ``clip``. The union of
    coverages c_i is 1 - prod(1 - c_i), as resvg composes a clip mask."""
    layers: List[int] = field(default_factory=list)              # clip shapes' fill layers
    groups: List["ClipNode"] = field(default_factory=list)      # Groups inside the clip
    clip: Optional["ClipNode"] = None                           # intersected with the union


@dataclass
class MaskNode:
    """Mask value: luminance (or alpha) of ``node`` composited, x region x inner mask."""
    node: "Node"
    alpha: bool                         # mask_type 'alpha'
    region: Optional[int] = None        # layer index of the region rectangle
    mask: Optional["MaskNode"] = None


@dataclass
class SubLayer:
    """A sub-layer: ``node`` composited over transparent black, then multiplied by the
    opacity (scalar) and per pixel by the clip coverage and the mask value, and drawn onto
    what is below it in its list with the blend mode ``blend`` (see :mod:`.blend`)."""
    node: "Node"
    opacity: Optional[jax.Array] = None   # float () in [0, 1]
    clip: Optional[ClipNode] = None
    mask: Optional[MaskNode] = None
    blend: str = "normal"                 # one of scene.BLEND_MODES


@dataclass
class _Item:
    """One shape in document order: its parent transform and the indices of its layers."""
    shape: object
    parent: jax.Array                 # float (3, 3) user-of-parent -> canvas pixels
    layer_ids: dict                   # 'fill' / 'stroke' -> global layer index
    opacity_in_alpha: bool            # the shape's opacity scales its single layer
    clip: bool = False                # a clip layer: fill geometry only, no paint


def _new_layer(counter) -> int:
    counter[0] += 1
    return counter[0] - 1


def _walk_clip(clip, parent, items, counter) -> ClipNode:
    """Clip layers of a ClipPath used in the space ``parent`` (3, 3) user -> canvas."""
    m = parent @ jnp.asarray(clip.transform, float_dtype())
    out = _walk_clip_children(clip.children, m, items, counter)
    if clip.clip is not None:
        out.clip = _walk_clip(clip.clip, parent, items, counter)  # same space as `clip`
    return out


def _walk_clip_children(children, m, items, counter) -> ClipNode:
    out = ClipNode()
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


def region_polygon(region):
    """Polygon of a mask region (x, y, width, height) float32 (4,); negative sizes clamp to 0."""
    x, y = region[0], region[1]
    x1 = x + jnp.maximum(region[2], 0.0)
    y1 = y + jnp.maximum(region[3], 0.0)
    return Polygon(points=jnp.stack([jnp.stack([x, y]), jnp.stack([x1, y]), jnp.stack([x1, y1]),
                                     jnp.stack([x, y1])]))


def _walk_mask(mask, parent, items, counter) -> MaskNode:
    """Layers of a Mask used in the space ``parent``: its content as a compositing tree, its
    region as one clip layer."""
    node = Node()
    walk_scene(mask.children, parent @ jnp.asarray(mask.transform, float_dtype()), node, items, counter)
    out = MaskNode(node, mask.mask_type == "alpha")
    if mask.region is not None:
        out.region = _new_layer(counter)
        region = region_polygon(jnp.asarray(mask.region, float_dtype()))
        items.append(_Item(region, parent, {"fill": out.region}, False, clip=True))
    if mask.mask is not None:
        out.mask = _walk_mask(mask.mask, parent, items, counter)
    return out


def has_blend(children) -> bool:
    """True when a Group among ``children`` (shapes and Groups, recursively) has a blend
    mode other than 'normal'."""
    return any(isinstance(c, Group) and (c.blend_mode != "normal" or has_blend(c.children)) for c in children)


def is_isolated(group) -> bool:
    """Whether a Group composites as its own sub-layer (SVG: an isolated group, or a
    clip / mask / opacity layer). 'isolate' matters only around a blend mode inside."""
    if group.opacity is not None or group.clip is not None or group.mask is not None:
        return True
    return group.blend_mode != "normal" or (group.isolation == "isolate" and has_blend(group.children))


def _walk_group(child, parent, node, items, counter):
    m = parent @ jnp.asarray(child.transform, float_dtype())
    if not is_isolated(child):
        walk_scene(child.children, m, node, items, counter)
        return
    sub = SubLayer(Node(), blend=child.blend_mode)
    walk_scene(child.children, m, sub.node, items, counter)
    if child.opacity is not None:
        sub.opacity = jnp.asarray(child.opacity, float_dtype())
    if child.clip is not None:
        sub.clip = _walk_clip(child.clip, m, items, counter)
    if child.mask is not None:
        sub.mask = _walk_mask(child.mask, m, items, counter)
    node.entries.append(sub)


def walk_scene(children, parent, node, items, counter):
    """Flatten the scene tree into items (shapes) and the compositing tree of layers.

    ``children``: shapes and Groups drawn in the space ``parent`` float (3, 3) (their user
    space -> canvas pixels); their layers are appended to ``node`` (a :class:`Node`), their
    shapes to ``items``; ``counter`` is a one-element list holding the next layer index.
    """
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
            target = Node()
            node.entries.append(SubLayer(target, jnp.asarray(child.opacity, float_dtype())))
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
    subpaths = shape_subpaths(shape)
    out = {"to_user": safe_inverse(to_canvas)}
    empty = jnp.zeros((0, 2, 2), float_dtype())
    if shape.fill is not None or clip:
        edges = []
        for sub in subpaths:
            verts, _, _ = flatten_subpath(sub, to_canvas, capacity, lift=True)
            edges.append(polyline_edges(apply_transform(to_canvas, verts)))
        out["fill"] = jnp.concatenate(edges, axis=0) if edges else empty
    if shape.stroke is not None and not clip:
        edges = []
        width = jnp.asarray(shape.stroke_width, float_dtype())
        for sub in subpaths:
            # Stroke centre lines get twice the capacity: they cannot use the fills' lifted
            # midpoints, and chord errors move both sides of the outline.
            verts, widths, mask = flatten_subpath(sub, to_canvas, 2 * capacity)
            w = widths if widths is not None else jnp.broadcast_to(width, verts.shape[:1])
            outline = stroke_outline(verts, 0.5 * jnp.maximum(w, 0.0), closed=sub.closed, joint_mask=mask,
                                     join=shape.line_join, cap=shape.line_cap, miter_limit=shape.miter_limit,
                                     round_points=ROUND_POINTS)
            edges.append(apply_transform(to_canvas, outline))
        out["stroke"] = jnp.concatenate(edges, axis=0) if edges else empty
    return out


def _signature(item: _Item):
    leaves, treedef = jax.tree_util.tree_flatten(item.shape)
    return (item.clip, treedef, tuple((tuple(jnp.shape(x)), jnp.result_type(x)) for x in leaves))


@dataclass
class Layers:
    """Everything the kernel and the compositor need, per layer in document order.

    Attributes:
      edges: float (E, 2, 2) directed edges of all layers, pixels (canvas units).
      edge_layer: numpy int32 (E,) static: the layer of each edge.
      evenodd: numpy bool (L,) static: the fill rule of each layer (True: even-odd).
      colour: float (L, 4) straight RGBA of solid paints (1s for other paints and 0s for clip
        layers).
      alpha: float (L,) opacity multipliers in [0, 1].
      images: dict layer index -> float (H, W, 4) straight RGBA of a non-solid paint at the
        pixel centres.
      aliased: numpy bool (L,) static: layers drawn aliased (``shape_rendering``
        'crispEdges' / 'optimizeSpeed'); None: none is.
    """
    edges: jax.Array
    edge_layer: np.ndarray
    evenodd: np.ndarray
    colour: jax.Array
    alpha: jax.Array
    images: dict
    aliased: Optional[np.ndarray] = None



PaintFn = Callable[[object, jax.Array], jax.Array]   # (paint, xy float (..., 2) user) -> float (..., 4)


def pixel_centres(height: int, width: int):
    """float (H, W, 2) canvas coordinates (x, y) of the pixel centres, pixels."""
    ys, xs = jnp.meshgrid(jnp.arange(height, dtype=float_dtype()) + 0.5,
                          jnp.arange(width, dtype=float_dtype()) + 0.5, indexing="ij")
    return jnp.stack([xs, ys], axis=-1)


def walk_root(scene: Scene):
    """(compositing tree Node, shape items in document order, number of layers) of a scene."""
    items: List[_Item] = []
    root = Node()
    counter = [0]
    walk_scene(scene.children, jnp.eye(3, dtype=float_dtype()), root, items, counter)
    return root, items, counter[0]


def count_layers(scene: Scene) -> int:
    """The number of coverage layers (fills, strokes, clip shapes, mask regions) of a scene."""
    return walk_root(scene)[2]


def is_flat(node: Node, layers: Optional["Layers"] = None) -> bool:
    """True when the compositing tree is one list of layers (no group or shape opacity
    layers, no blend modes) and, given ``layers``, none is aliased: the tiled path
    composites exactly such lists."""
    if layers is not None and layers.aliased is not None:
        return False
    return all(isinstance(e, int) for e in node.entries)


class _Parts:
    """Per-batch pieces of the Layers, gathered in batch order."""

    def __init__(self):
        self.edges, self.edge_ids, self.colours, self.alphas, self.order = [], [], [], [], []
        self.fill_rules, self.images, self.aliased = {}, {}, set()


def _add_batch(parts: _Parts, members, capacity, centres, paint_at: Optional[PaintFn]):
    """Geometry (vmapped over the batch) and paints of shapes of one static structure."""
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
        parts.edges.append(e.reshape(-1, 2, 2))
        parts.edge_ids.append(np.repeat(ids, e.shape[1]))
        parts.order.append(ids)
        for i in ids:
            parts.fill_rules[int(i)] = first.shape.fill_rule if kind == "fill" else "nonzero"
            if first.shape.shape_rendering in ALIASED_RENDERINGS:
                parts.aliased.add(int(i))
        if first.clip:  # coverage only: no colour, no paint image
            parts.colours.append(jnp.zeros((len(members), 4), float_dtype()))
            parts.alphas.append(jnp.ones((len(members),), float_dtype()))
            continue
        alpha = stacked.fill_opacity if kind == "fill" else stacked.stroke_opacity
        if first.opacity_in_alpha:
            alpha = alpha * stacked.opacity
        parts.alphas.append(alpha)
        paint = stacked.fill if kind == "fill" else stacked.stroke
        if isinstance(paint, Solid):
            parts.colours.append(paint.color)
            continue
        parts.colours.append(jnp.ones((len(members), 4), float_dtype()))
        if paint_at is not None:
            user = jax.vmap(lambda tu: apply_transform(tu, centres))(geo["to_user"])
            imgs = jax.vmap(paint_at)(paint, user)
            for b, i in enumerate(ids):
                parts.images[int(i)] = imgs[b]


def collect_layers(scene: Scene, capacity: int, height=None, width=None, paint_at: Optional[PaintFn] = None):
    """Walk, batch shapes by structure, and build the layers.

    Args:
      scene: the Scene (concrete or traced).
      capacity: static line pieces per Bezier segment (``curve_pieces``).
      height, width: canvas size in pixels; needed only with ``paint_at``.
      paint_at: the paint function ``(paint, xy) -> straight RGBA`` evaluated at the pixel
        centres for non-solid paints (the renderer passes one that draws pattern tiles);
        None skips paint images (for counting pieces and edges).

    Returns:
      (the compositing tree's root Node, :class:`Layers`).
    """
    root, items, num_layers = walk_root(scene)
    groups = {}
    for item in items:
        groups.setdefault(_signature(item), []).append(item)
    parts = _Parts()
    centres = pixel_centres(height, width) if paint_at is not None else None
    for members in groups.values():
        _add_batch(parts, members, capacity, centres, paint_at)
    dt = float_dtype()
    if num_layers:
        perm = np.argsort(np.concatenate(parts.order))
        colour = jnp.concatenate(parts.colours)[perm]
        alpha = jnp.concatenate(parts.alphas)[perm]
        edges = jnp.concatenate(parts.edges)
        edge_layer = np.concatenate(parts.edge_ids).astype(np.int32)
    else:
        colour, alpha = jnp.zeros((0, 4), dt), jnp.zeros((0,), dt)
        edges, edge_layer = jnp.zeros((0, 2, 2), dt), np.zeros((0,), np.int32)
    evenodd = np.array([parts.fill_rules[i] == "evenodd" for i in range(num_layers)], bool)
    aliased = np.array([i in parts.aliased for i in range(num_layers)], bool) if parts.aliased else None
    return root, Layers(edges, edge_layer, evenodd, colour, alpha, parts.images, aliased)


def collect_edge_count(scene: Scene, capacity: int) -> int:
    """Static number of edges the scene produces (from shapes only, no tracing of values)."""
    shapes = jax.eval_shape(lambda s: collect_layers(s, capacity)[1].edges, scene)
    return int(shapes.shape[0])
