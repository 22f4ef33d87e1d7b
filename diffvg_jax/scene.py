"""The scene model: shapes, paints and groups as JAX pytrees.

Every class here is a frozen dataclass registered with ``jax.tree_util``. Float arrays are
pytree leaves (differentiable: ``jax.grad`` of a loss over a scene returns a scene of
gradients); topology and enumerated options (segment degrees, join names, ids) are static
metadata, so two scenes can be batched with ``jax.vmap`` when their static parts agree.

Units: coordinates are SVG user units, which the renderer treats as pixels once the
shape's ``transform`` (and its groups' transforms) are applied; colours are straight
(un-premultiplied) RGBA in [0, 1]; opacities are in [0, 1].

Construction converts Python numbers, lists and NumPy arrays to float32 ``jnp`` arrays and
checks static options (``line_join``, ``fill_rule``, ...). Array shapes are checked by
:func:`diffvg_jax.render` (and by :func:`diffvg_jax.raster.validate_scene`), because the constructors also run under
``jax`` transformations with batched or placeholder leaves.
"""
from __future__ import annotations

# long-file: the one pytree model: about fifteen small frozen dataclasses whose docstrings
# document every field (dtype, shape, units); the bottom layer that everything imports.
import dataclasses
import operator
from dataclasses import dataclass, field
from typing import Optional, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

FILL_RULES = ("nonzero", "evenodd")
LINE_JOINS = ("miter", "round", "bevel")
LINE_CAPS = ("butt", "round", "square")
SPREADS = ("pad", "reflect", "repeat")
PAINT_ORDERS = ("fill", "stroke")  # which is painted first
# shape-rendering: 'crispEdges' and 'optimizeSpeed' draw aliased (as resvg), the others anti-aliased
SHAPE_RENDERINGS = ("auto", "optimizeSpeed", "crispEdges", "geometricPrecision")
ALIASED_RENDERINGS = ("optimizeSpeed", "crispEdges")
# W3C Compositing and Blending Level 1: separable modes, then non-separable ones
BLEND_MODES = ("normal", "multiply", "screen", "overlay", "darken", "lighten", "color-dodge", "color-burn",
               "hard-light", "soft-light", "difference", "exclusion", "hue", "saturation", "color", "luminosity")
ISOLATIONS = ("auto", "isolate")


def _static(default=dataclasses.MISSING, **kw):
    return field(default=default, metadata={"static": True}, **kw)


def _as_float_array(value):
    """float32 array from numbers / lists / NumPy; anything else (tracers, None, sentinels) passes."""
    if value is None:
        return None
    if isinstance(value, (int, float, list, tuple, np.ndarray, np.generic)):
        return jnp.asarray(np.asarray(value, dtype=np.float32))
    if isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer):
        if jnp.issubdtype(value.dtype, jnp.integer) or value.dtype == jnp.bool_:
            return value.astype(jnp.float32)
    return value


def _convert_fields(obj, names):
    for name in names:
        object.__setattr__(obj, name, _as_float_array(getattr(obj, name)))


def _check_choice(obj, name, choices):
    value = getattr(obj, name)
    if value not in choices:
        raise ValueError(f"{type(obj).__name__}.{name}: unknown value {value!r}; expected one of {choices}")


_NODE_TYPES = set()   # the classes registered by _pytree


_ARRAY_TYPES = set()  # concrete jax.Array classes seen by _ready (jax's ArrayImpl), tested by type


def _ready(value) -> bool:
    """True when ``__post_init__`` would leave ``value`` as it is: None (an absent paint),
    a node of this module (a paint, already built), a float JAX array or a tracer
    (``_as_float_array`` converts only numbers, lists, NumPy and integer arrays).

    Unflattening calls this on every leaf of a scene (thousands per ``jax.grad`` result),
    so a concrete array, the common case, is recognised by its type alone: an
    ``isinstance`` against the abstract ``jax.Array`` costs ten times more."""
    kind = type(value)
    if kind in _ARRAY_TYPES:
        return value.dtype.kind not in "iub"
    if value is None or kind in _NODE_TYPES or isinstance(value, jax.core.Tracer):
        return True
    if isinstance(value, jax.Array):
        _ARRAY_TYPES.add(kind)
        return value.dtype.kind not in "iub"
    return False


def _getter(names):
    """obj -> tuple of its attributes ``names`` (operator.attrgetter, always a tuple)."""
    if not names:
        return lambda obj: ()
    get = operator.attrgetter(*names)
    return get if len(names) > 1 else (lambda obj: (get(obj),))


def _pytree(cls):
    """Register a frozen dataclass as a pytree: fields with metadata static=True are meta.

    Unflattening skips ``__post_init__`` when every data child is ready as it is (a float
    array, a tracer, None or an already built node, see ``_ready``): the meta fields were
    checked when the node was built, and the checks would only repeat (on a scene of a few
    hundred shapes they cost ~25 ms per ``jax.grad`` call, the time of the whole backward
    pass). Other children (numbers, lists, NumPy or integer arrays, tuples of children) go
    through the constructor as before.
    """
    fields = dataclasses.fields(cls)
    meta = tuple(f.name for f in fields if f.metadata.get("static"))
    data = tuple(f.name for f in fields if not f.metadata.get("static"))
    keys = tuple(jax.tree_util.GetAttrKey(name) for name in data)
    get_data, get_meta = _getter(data), _getter(meta)
    names = meta + data

    def flatten_with_keys(obj):
        return tuple(zip(keys, get_data(obj))), get_meta(obj)

    def unflatten(meta_values, leaves):
        if not all(map(_ready, leaves)):
            return cls(**dict(zip(meta, meta_values)), **dict(zip(data, leaves)))
        # Frozen: fill the instance dict directly (one update, not a setattr per field).
        obj = object.__new__(cls)
        obj.__dict__.update(zip(names, (*meta_values, *leaves)))
        return obj

    def flatten(obj):
        return get_data(obj), get_meta(obj)

    jax.tree_util.register_pytree_with_keys(cls, flatten_with_keys, unflatten, flatten)
    _NODE_TYPES.add(cls)
    return cls


IDENTITY = np.eye(3, dtype=np.float32)


def identity_transform() -> Array:
    """float32 (3, 3) identity affine matrix (last row [0, 0, 1])."""
    return jnp.asarray(IDENTITY)


def _default_transform(obj):
    """A ``transform`` left as None becomes the identity."""
    if obj.transform is None:
        object.__setattr__(obj, "transform", identity_transform())


# ---------------------------------------------------------------------------------------
# Paints
# ---------------------------------------------------------------------------------------


@_pytree
@dataclass(frozen=True, kw_only=True)
class Solid:
    """A flat colour. ``color``: float32 (4,) straight RGBA in [0, 1]."""

    color: Array

    def __post_init__(self):
        _convert_fields(self, ["color"])


@_pytree
@dataclass(frozen=True, kw_only=True)
class LinearGradient:
    """Linear gradient between ``start`` and ``end``.

    Attributes:
      start, end: float32 (2,) in the painted shape's user space (before the shape's
        transform), after ``transform`` (the SVG gradientTransform) is applied.
      offsets: float32 (K,) stop offsets in [0, 1], non-decreasing (K >= 1).
      colors: float32 (K, 4) straight RGBA stop colours (stop-opacity folded into alpha).
      transform: float32 (3, 3) gradient-to-user-space affine matrix.
      spread: 'pad' | 'reflect' | 'repeat' (static).
    """

    start: Array
    end: Array
    offsets: Array
    colors: Array
    transform: Array = None
    spread: str = _static("pad")

    def __post_init__(self):
        _default_transform(self)
        _convert_fields(self, ["start", "end", "offsets", "colors", "transform"])
        _check_choice(self, "spread", SPREADS)


@_pytree
@dataclass(frozen=True, kw_only=True)
class RadialGradient:
    """Two-circle radial gradient (SVG 2 / canvas semantics with a focal circle).

    The gradient runs from the focal circle (``focal``, ``focal_radius``), offset 0, to the
    end circle (``center``, ``radius``), offset 1.

    Attributes:
      center: float32 (2,); radius: float32 () > 0, in gradient space.
      focal: float32 (2,), defaults to ``center``; focal_radius: float32 (), default 0.
      offsets, colors, transform, spread: as in :class:`LinearGradient`.
    """

    center: Array
    radius: Array
    offsets: Array
    colors: Array
    focal: Array = None
    focal_radius: Array = None
    transform: Array = None
    spread: str = _static("pad")

    def __post_init__(self):
        _default_transform(self)
        if self.focal is None:
            object.__setattr__(self, "focal", self.center)
        if self.focal_radius is None:
            object.__setattr__(self, "focal_radius", 0.0)
        _convert_fields(self, ["center", "radius", "focal", "focal_radius", "offsets", "colors", "transform"])
        _check_choice(self, "spread", SPREADS)


@_pytree
@dataclass(frozen=True, kw_only=True)
class Pattern:
    """A tiled paint (SVG ``<pattern>``): ``children`` drawn in a tile, repeated over the plane.

    The tile is the rectangle [0, w] x [0, h] of tile space; content outside it is clipped.
    The renderer draws the content into a raster of ``resolution`` pixels, premultiplied
    (:mod:`diffvg_jax.raster.patterns`), and samples it with wrap-around (Mitchell bicubic,
    ``paint.sample_tile``, as tiny-skia; a texel read at its centre is returned exactly), so
    gradients flow to the content's parameters and to ``size`` and ``transform``.

    Attributes:
      children: tuple of shapes and Groups, in tile space (user units of the tile).
      size: float32 (2,) tile (width, height) in tile units. A size <= 0 paints nothing.
      transform: float32 (3, 3) tile-space -> user-space affine matrix of the painted shape
        (SVG patternTransform, the tile's x / y and objectBoundingBox scaling folded in).
        A singular transform paints nothing.
      resolution: static (width, height) of the tile raster in pixels, or None: chosen by
        ``render`` when the scene is concrete, as resvg does (one texel per canvas pixel, the
        tile's pixel size rounded, which also rounds its period; a translated tile is
        snapped to the pixel grid), else ``diffvg_jax.raster.patterns.DEFAULT_RESOLUTION``
        (inside your own jit / grad / vmap: set it).
    """

    children: Tuple = ()
    size: Array = None
    transform: Array = None
    resolution: Optional[Tuple[int, int]] = _static(None)

    def __post_init__(self):
        _default_transform(self)
        _convert_fields(self, ["size", "transform"])
        _check_children(self, SHAPE_TYPES + (Group,), "a shape or Group")
        res = self.resolution
        if res is not None:
            res = (int(res), int(res)) if isinstance(res, (int, np.integer)) else tuple(int(r) for r in res)
            if len(res) != 2 or min(res) < 1:
                raise ValueError(f"Pattern.resolution must be None or two positive ints, got {self.resolution!r}")
            object.__setattr__(self, "resolution", res)


@_pytree
@dataclass(frozen=True, kw_only=True)
class ImagePaint:
    """A raster image paint (SVG ``<image>``), sampled bilinearly (see :mod:`diffvg_jax.paint.image`).

    Image-pixel space: pixel (row i, column j) covers [j, j + 1] x [i, i + 1]; the image is
    the rectangle [0, w] x [0, h]. Outside it the paint is transparent; inside, pixel
    colours are interpolated bilinearly in premultiplied RGBA (clamp-to-edge).

    Attributes:
      pixels: float32 (h, w, 4) straight RGBA in [0, 1] (a leaf: differentiable).
      transform: float32 (3, 3) image-pixel space -> user-space affine matrix of the painted
        shape. A singular transform paints nothing.
    """

    pixels: Array
    transform: Array = None

    def __post_init__(self):
        _default_transform(self)
        _convert_fields(self, ["pixels", "transform"])


Paint = Union[Solid, LinearGradient, RadialGradient, Pattern, ImagePaint]


def rgba(r, g, b, a=1.0) -> Solid:
    """Convenience: a :class:`Solid` paint from four floats in [0, 1]."""
    return Solid(color=[r, g, b, a])


# ---------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Styled:
    """Styling shared by every shape (all keyword-only).

    Attributes:
      fill: Paint or None (no fill).
      stroke: Paint or None (no stroke).
      stroke_width: float32 () or, for Path / Polyline / Polygon, (N,) one per point
        (variable-width strokes, interpolated along each segment like its geometry).
        User units; the full width, half on each side of the centre line.
      fill_opacity, stroke_opacity: float32 (), multiply the paint's alpha.
      opacity: float32 () or None. None means 1 with no layer; a value composites the
        shape's fill and stroke together as one layer at that opacity (SVG ``opacity``).
      transform: float32 (3, 3) user-to-parent affine matrix (SVG ``transform``).
      fill_rule: 'nonzero' | 'evenodd'. line_join: 'miter' | 'round' | 'bevel'.
      line_cap: 'butt' | 'round' | 'square'. miter_limit: float (SVG stroke-miterlimit).
      paint_order: 'fill' (fill then stroke, SVG's default) or 'stroke' (stroke first).
      shape_rendering: one of ``SHAPE_RENDERINGS`` (SVG ``shape-rendering``): 'crispEdges'
        and 'optimizeSpeed' draw the shape aliased (a pixel is covered when its box-filtered
        coverage is >= 1/2; no gradient through the coverage), 'auto' and
        'geometricPrecision' anti-aliased.
      id: optional name, kept for SVG round trips.
    All of fill_rule .. id are static.
    """

    fill: Optional[Paint] = None
    stroke: Optional[Paint] = None
    stroke_width: Array = 1.0
    fill_opacity: Array = 1.0
    stroke_opacity: Array = 1.0
    opacity: Optional[Array] = None
    transform: Array = None
    fill_rule: str = _static("nonzero")
    line_join: str = _static("miter")
    line_cap: str = _static("butt")
    miter_limit: float = _static(4.0)
    paint_order: str = _static("fill")
    shape_rendering: str = _static("auto")
    id: Optional[str] = _static(None)

    _array_fields = ()

    def __post_init__(self):
        _default_transform(self)
        _convert_fields(self, ["stroke_width", "fill_opacity", "stroke_opacity", "opacity", "transform"]
                        + list(self._array_fields))
        _check_choice(self, "fill_rule", FILL_RULES)
        _check_choice(self, "line_join", LINE_JOINS)
        _check_choice(self, "line_cap", LINE_CAPS)
        _check_choice(self, "paint_order", PAINT_ORDERS)
        _check_choice(self, "shape_rendering", SHAPE_RENDERINGS)
        if not isinstance(self.miter_limit, (int, float)) or not np.isfinite(self.miter_limit) or self.miter_limit < 1:
            raise ValueError(f"{type(self).__name__}.miter_limit must be a finite number >= 1, got {self.miter_limit!r}")
        object.__setattr__(self, "miter_limit", float(self.miter_limit))


@_pytree
@dataclass(frozen=True, kw_only=True)
class Path(_Styled):
    """A path of line, quadratic and cubic Bezier segments, in one or more subpaths.

    Attributes:
      points: float32 (N, 2). Per subpath: its start point, then for each segment its
        control points and end point; a closed subpath omits the final end point (it is
        the start point), as in diffvg.
      degrees: static tuple of ints, one per segment over all subpaths: 1 line,
        2 quadratic, 3 cubic. Default: all cubic, inferred from N.
      subpath_sizes: static tuple, segments per subpath. Default: one subpath.
      closed: static tuple of bools, one per subpath (a single bool is broadcast).
    """

    points: Array = None
    degrees: Tuple[int, ...] = _static(None)
    subpath_sizes: Tuple[int, ...] = _static(None)
    closed: Union[bool, Tuple[bool, ...]] = _static(False)

    _array_fields = ("points",)

    def __post_init__(self):
        super().__post_init__()
        closed = self.closed
        if self.degrees is None:
            n = _static_len(self.points, "Path.points")
            if n is None:
                raise ValueError("Path.degrees is required when points is not a concrete array")
            single_closed = closed if isinstance(closed, bool) else (len(closed) == 1 and closed[0])
            count = n if single_closed else n - 1
            if count <= 0 or count % 3:
                raise ValueError(f"Path.points: {n} points do not form whole cubic segments; pass degrees=")
            object.__setattr__(self, "degrees", (3,) * (count // 3))
        degrees = tuple(int(d) for d in self.degrees)
        if any(d not in (1, 2, 3) for d in degrees):
            raise ValueError(f"Path.degrees: each degree must be 1, 2 or 3, got {self.degrees!r}")
        object.__setattr__(self, "degrees", degrees)
        sizes = self.subpath_sizes if self.subpath_sizes is not None else (len(degrees),)
        sizes = tuple(int(s) for s in sizes)
        if sum(sizes) != len(degrees) or any(s < 0 for s in sizes):
            raise ValueError(f"Path.subpath_sizes {sizes} must be non-negative and sum to len(degrees)={len(degrees)}")
        object.__setattr__(self, "subpath_sizes", sizes)
        if isinstance(closed, (bool, np.bool_)):
            closed = (bool(closed),) * len(sizes)
        closed = tuple(bool(c) for c in closed)
        if len(closed) != len(sizes):
            raise ValueError(f"Path.closed has {len(closed)} entries for {len(sizes)} subpaths")
        object.__setattr__(self, "closed", closed)

    def subpath_layout(self) -> Tuple[Tuple[int, Tuple[int, ...], bool, int], ...]:
        """The static structure, per non-empty subpath: (index of its first point in
        ``points``, its segments' degrees, closed, its number of points)."""
        return subpath_layout(self.degrees, self.subpath_sizes, self.closed)

    def num_points(self) -> int:
        """The number of points the static structure expects."""
        return sum(n for _, _, _, n in self.subpath_layout())


def subpath_layout(degrees, subpath_sizes, closed) -> Tuple[Tuple[int, Tuple[int, ...], bool, int], ...]:
    """:meth:`Path.subpath_layout` from a Path's static fields (tuples): per non-empty
    subpath, (index of its first point, its segments' degrees, closed, its number of points)."""
    out, start, k = [], 0, 0
    for size, closed_k in zip(subpath_sizes, closed):
        degs = degrees[k:k + size]
        k += size
        if size == 0:
            continue
        n = 1 + sum(degs) - (1 if closed_k else 0)
        out.append((start, degs, closed_k, n))
        start += n
    return tuple(out)


def _static_len(x, name):
    shape = getattr(x, "shape", None)
    if shape is None:
        return None
    if len(shape) != 2 or shape[-1] != 2:
        raise ValueError(f"{name} must have shape (N, 2), got {tuple(shape)}")
    return shape[0]


@_pytree
@dataclass(frozen=True, kw_only=True)
class Circle(_Styled):
    """Circle. center: float32 (2,); radius: float32 ()."""

    center: Array = None
    radius: Array = None
    _array_fields = ("center", "radius")


@_pytree
@dataclass(frozen=True, kw_only=True)
class Ellipse(_Styled):
    """Axis-aligned ellipse (rotate it with ``transform``). center (2,); radius (2,) = (rx, ry)."""

    center: Array = None
    radius: Array = None
    _array_fields = ("center", "radius")


@_pytree
@dataclass(frozen=True, kw_only=True)
class Rect(_Styled):
    """Axis-aligned rectangle from ``p_min`` (2,) to ``p_max`` (2,) with elliptical corners
    of radii ``corner_radius`` (2,) = (rx, ry), clamped to half the size as SVG does."""

    p_min: Array = None
    p_max: Array = None
    corner_radius: Array = (0.0, 0.0)
    _array_fields = ("p_min", "p_max", "corner_radius")


@_pytree
@dataclass(frozen=True, kw_only=True)
class Polygon(_Styled):
    """Closed polygon through ``points`` float32 (N, 2)."""

    points: Array = None
    _array_fields = ("points",)


@_pytree
@dataclass(frozen=True, kw_only=True)
class Polyline(_Styled):
    """Open polyline through ``points`` float32 (N, 2)."""

    points: Array = None
    _array_fields = ("points",)


Shape = Union[Path, Circle, Ellipse, Rect, Polygon, Polyline]
SHAPE_TYPES = (Path, Circle, Ellipse, Rect, Polygon, Polyline)


MASK_TYPES = ("luminance", "alpha")


def _check_children(obj, allowed, what):
    object.__setattr__(obj, "children", tuple(obj.children))
    for i, child in enumerate(obj.children):
        if not isinstance(child, allowed):
            raise ValueError(f"{type(obj).__name__}.children[{i}] is a {type(child).__name__}, not {what}")


def _check_optional(obj, name, cls):
    value = getattr(obj, name)
    if value is not None and not isinstance(value, cls):
        raise ValueError(f"{type(obj).__name__}.{name} is a {type(value).__name__}, not a {cls.__name__} or None")


def _init_container(obj, float_fields, **optional):
    """The checks of a ClipPath, Mask or Group: identity transform by default, float fields
    converted, children of the allowed kinds, and each optional field (name=class) typed."""
    _default_transform(obj)
    _convert_fields(obj, float_fields)
    _check_children(obj, SHAPE_TYPES + (Group,), "a shape or Group")
    for name, cls in optional.items():
        _check_optional(obj, name, cls)


@_pytree
@dataclass(frozen=True, kw_only=True)
class ClipPath:
    """A clipping region (SVG ``<clipPath>``): the union of its children's geometry.

    Each child's coverage is its fill region with its ``fill_rule`` as the clip rule; its
    paints, strokes and opacities are ignored (SVG clips with the raw geometry). The union of
    the children is 1 - prod(1 - coverage_i) per pixel, as resvg composes clip masks.

    Attributes:
      children: tuple of shapes and Groups. A Group inside a clip contributes the union of
        its children, transformed by its ``transform`` and intersected with its own
        ``clip``; its ``opacity`` and ``mask`` are ignored.
      transform: float32 (3, 3) clip-content-to-user affine matrix, where "user" is the
        space of the Group that uses this clip (its children's space).
      clip: optional ClipPath intersected with this one (SVG ``clip-path`` on a
        ``<clipPath>``), in the same user space as this ClipPath (not under ``transform``).
    """

    children: Tuple = ()
    transform: Array = None
    clip: Optional["ClipPath"] = None

    def __post_init__(self):
        _init_container(self, ["transform"], clip=ClipPath)


@_pytree
@dataclass(frozen=True, kw_only=True)
class Mask:
    """A mask (SVG ``<mask>``): its children drawn as an image give a per-pixel factor.

    Attributes:
      children: tuple of shapes and Groups, drawn (with paints, opacities, clips and masks)
        over transparent black.
      transform: float32 (3, 3) mask-content-to-user affine matrix ("user": the space of the
        Group that uses this mask).
      region: float32 (4,) (x, y, width, height) in user space, or None. Outside this
        rectangle the mask is 0 (SVG mask region); None: unbounded.
      mask: optional Mask multiplied with this one (SVG ``mask`` on a ``<mask>``), in the
        same user space as this Mask.
      mask_type: static 'luminance' (default): the factor is 0.2125 R + 0.7154 G + 0.0721 B
        of the premultiplied sRGB image (as resvg / tiny-skia compute it); 'alpha': its alpha.
    """

    children: Tuple = ()
    transform: Array = None
    region: Optional[Array] = None
    mask: Optional["Mask"] = None
    mask_type: str = _static("luminance")

    def __post_init__(self):
        _init_container(self, ["transform", "region"], mask=Mask)
        _check_choice(self, "mask_type", MASK_TYPES)


@_pytree
@dataclass(frozen=True, kw_only=True)
class Group:
    """A group of shapes and groups, drawn in order (first is bottom-most).

    Attributes:
      children: tuple of shapes and groups.
      transform: float32 (3, 3) group-to-parent affine matrix.
      opacity: float32 () or None. None: the children are drawn straight into the parent.
        A value: the children are composited as one layer over transparent black, and the
        layer is drawn with this opacity (SVG group opacity).
      clip: optional :class:`ClipPath`, in the group's own space (after ``transform``, like
        its children). The group is composited as one layer, multiplied per pixel by the
        clip's coverage.
      mask: optional :class:`Mask`, in the group's own space; the layer is multiplied per
        pixel by the mask's value. Opacity, clip and mask multiply together.
      blend_mode: static, one of ``BLEND_MODES`` (CSS ``mix-blend-mode``): the group's layer
        is blended onto what is below it inside the nearest isolated ancestor (or the
        canvas): Cs' = (1 - ab) Cs + ab B(Cb, Cs), then source-over (W3C Compositing and
        Blending Level 1).
      isolation: static 'auto' or 'isolate' (CSS ``isolation``). A group with a blend mode
        other than 'normal', an opacity, a clip, a mask or 'isolate' is isolated: blend
        modes inside it see only its own content.
      id: optional static name.
    With clip and mask None and the blend mode 'normal' (the defaults) a group without
    opacity costs nothing: its children are drawn as if they were the parent's.
    """

    children: Tuple = ()
    transform: Array = None
    opacity: Optional[Array] = None
    clip: Optional[ClipPath] = None
    mask: Optional[Mask] = None
    blend_mode: str = _static("normal")
    isolation: str = _static("auto")
    id: Optional[str] = _static(None)

    def __post_init__(self):
        _init_container(self, ["transform", "opacity"], clip=ClipPath, mask=Mask)
        _check_choice(self, "blend_mode", BLEND_MODES)
        _check_choice(self, "isolation", ISOLATIONS)


@_pytree
@dataclass(frozen=True, kw_only=True)
class Scene:
    """A whole drawing.

    Attributes:
      children: tuple of shapes and groups, bottom-most first.
      background: float32 (4,) straight RGBA canvas colour; default transparent.
      width, height: optional static canvas size in pixels (from an SVG file); ``render``
        uses them when its own ``width`` / ``height`` are omitted.
    """

    children: Tuple = ()
    background: Array = (0.0, 0.0, 0.0, 0.0)
    width: Optional[int] = _static(None)
    height: Optional[int] = _static(None)

    def __post_init__(self):
        object.__setattr__(self, "children", tuple(self.children))
        _convert_fields(self, ["background"])
        for i, child in enumerate(self.children):
            if not isinstance(child, SHAPE_TYPES + (Group,)):
                raise ValueError(f"Scene.children[{i}] is a {type(child).__name__}, not a shape or Group")

    def replace(self, **changes) -> "Scene":
        return dataclasses.replace(self, **changes)


def replace(obj, **changes):
    """``dataclasses.replace`` for any scene object (they are frozen)."""
    return dataclasses.replace(obj, **changes)
