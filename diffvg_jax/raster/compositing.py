"""A scene's compositing structure as data: a walk into layers, frames and a stack-machine op list.

The encoded pipeline draws a scene from flat arrays (:mod:`.encoding`). Its shapes become
coverage *layers* (one per fill and per stroke, one per clip shape and mask region); its
sub-layers (group opacity, clip paths, masks, blend modes, a shape's fill and stroke under
one opacity) become a list of integer ops for a small stack machine over premultiplied
RGBA images, evaluated by :func:`.layered.composite_ops` (Vello's blend stack, on whole
images). The ops are data, so one compiled program draws any structure of a size class.

Ops (int32 rows [code, arg, blend]):

  DRAW r          draw *run* r "over" the top image (a run: consecutive layers of one
                  compositing list, composited in closed form before the op list runs)
  PUSH            push a transparent image
  POP             pop the top image, scale it by the op's opacity (a float per op; 1 when
                  it has none) and draw it onto the new top with blend mode ``blend``
                  (an index into the plan's ``blend_modes``; 0 is 'normal', source-over)
  MASK_ALPHA      pop the top image and multiply the new top by its alpha
  MASK_LUMINANCE  pop the top image and multiply the new top by its luminance
  NOP             padding

A clip path is a sub-list drawn in opaque white: the "over" of coverages c_i is
1 - prod(1 - c_i), the union resvg composes a clip with, and MASK_ALPHA applies it; its own
clip path multiplies the union first. A mask is its content composited, times its region's
coverage and its own mask, applied by MASK_LUMINANCE (or MASK_ALPHA for mask-type alpha).
The rules (what is a sub-layer, clip and mask spaces) are those of :mod:`.layers`, which the
per-structure renderer follows; this walk emits them as data.
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional, Tuple

import jax.numpy as jnp
import numpy as np

from diffvg_jax.geometry import float_dtype
from diffvg_jax.scene import ALIASED_RENDERINGS, BLEND_MODES, Group

from .layers import is_isolated, region_polygon

OP_NOP, OP_DRAW, OP_PUSH, OP_POP, OP_MASK_ALPHA, OP_MASK_LUMINANCE = range(6)
OP_CODES = 6
MIN_OPS, MIN_RUNS, MIN_STACK = 16, 8, 4
BLEND_INDEX = {mode: k for k, mode in enumerate(BLEND_MODES)}
assert BLEND_INDEX["normal"] == 0


@dataclasses.dataclass
class SceneItem:
    """A shape in paint order: its frame (index into the walk's frames, -1: the canvas),
    its layers ('fill' / 'stroke' -> layer index), whether its opacity scales its one
    layer, and whether it is a clip shape or mask region (coverage only, opaque white)."""
    shape: object
    group: int
    layers: dict
    opacity_in_alpha: bool
    clip: bool = False


@dataclasses.dataclass
class SceneWalk:
    """A scene walked into encodable parts (host-side, static structure).

    items: SceneItem in layer order; frames: [(parent frame or -1, float (3, 3) matrix)],
    parents first (groups, clip paths, masks); num_layers; aliased: per layer, drawn
    aliased (``shape_rendering``); ops: [(code, arg, blend)] with DRAW's arg a *layer*
    index (runs are formed by :func:`plan_ops`); op_opacity: per op, the float () opacity
    leaf of a POP, or None.
    """
    items: List[SceneItem] = dataclasses.field(default_factory=list)
    frames: List[Tuple[int, object]] = dataclasses.field(default_factory=list)
    num_layers: int = 0
    aliased: List[bool] = dataclasses.field(default_factory=list)
    ops: List[Tuple[int, int, int]] = dataclasses.field(default_factory=list)
    op_opacity: List[Optional[object]] = dataclasses.field(default_factory=list)

    @property
    def flat(self) -> bool:
        """True when every layer composites straight onto the canvas, none aliased (the
        tiled pipeline draws exactly such scenes)."""
        return all(code == OP_DRAW for code, _, _ in self.ops) and not any(self.aliased)

    def _op(self, code, arg=0, blend=0, opacity=None):
        self.ops.append((code, arg, blend))
        self.op_opacity.append(opacity)

    def _frame(self, parent: int, matrix) -> int:
        self.frames.append((parent, matrix))
        return len(self.frames) - 1

    def _draw(self, item_layers: dict, kind: str, aliased: bool):
        layer = self.num_layers
        self.num_layers += 1
        item_layers[kind] = layer
        self.aliased.append(aliased)
        self._op(OP_DRAW, layer)

    # --- content -------------------------------------------------------------------
    def content(self, children, frame: int):
        """Shapes and Groups drawn in ``frame``, onto the top image."""
        for child in children:
            if isinstance(child, Group):
                self._group(child, frame)
                continue
            kinds = [k for k in ("fill", "stroke") if getattr(child, k) is not None]
            if child.paint_order == "stroke":
                kinds.reverse()
            aliased = child.shape_rendering in ALIASED_RENDERINGS
            shared = child.opacity is not None and len(kinds) > 1   # fill and stroke under one opacity
            if shared:
                self._op(OP_PUSH)
            layers = {}
            for kind in kinds:
                self._draw(layers, kind, aliased)
            if shared:
                self._op(OP_POP, opacity=child.opacity)
            self.items.append(SceneItem(child, frame, layers, child.opacity is not None and not shared))

    def _group(self, group: Group, parent: int):
        frame = self._frame(parent, group.transform)
        if not is_isolated(group):
            self.content(group.children, frame)
            return
        self._op(OP_PUSH)
        self.content(group.children, frame)
        if group.clip is not None:
            self.clip(group.clip, frame)
        if group.mask is not None:
            self.mask(group.mask, frame)
        self._op(OP_POP, blend=BLEND_INDEX[group.blend_mode], opacity=group.opacity)

    # --- clip paths and masks ------------------------------------------------------
    def clip(self, clip, parent: int):
        """Multiply the top image by the coverage of ``clip`` used in ``parent``'s space."""
        self._op(OP_PUSH)
        self._clip_union(clip.children, self._frame(parent, clip.transform))
        if clip.clip is not None:               # a clip path's own clip, in the same space
            self.clip(clip.clip, parent)
        self._op(OP_MASK_ALPHA)

    def _clip_union(self, children, frame: int):
        for child in children:
            if isinstance(child, Group):
                sub = self._frame(frame, child.transform)
                self._op(OP_PUSH)
                self._clip_union(child.children, sub)
                if child.clip is not None:
                    self.clip(child.clip, sub)
                self._op(OP_POP)
                continue
            layers = {}
            self._draw(layers, "fill", child.shape_rendering in ALIASED_RENDERINGS)
            self.items.append(SceneItem(child, frame, layers, False, clip=True))

    def mask(self, mask, parent: int):
        """Multiply the top image by the value of ``mask`` used in ``parent``'s space."""
        self._op(OP_PUSH)
        self.content(mask.children, self._frame(parent, mask.transform))
        if mask.region is not None:
            self._op(OP_PUSH)
            layers = {}
            self._draw(layers, "fill", False)
            self.items.append(SceneItem(region_polygon(jnp.asarray(mask.region, float_dtype())), parent, layers, False, clip=True))
            self._op(OP_MASK_ALPHA)
        if mask.mask is not None:
            self.mask(mask.mask, parent)
        self._op(OP_MASK_ALPHA if mask.mask_type == "alpha" else OP_MASK_LUMINANCE)


def walk_scene_items(scene) -> SceneWalk:
    """The :class:`SceneWalk` of a scene (its structure only: no values are read)."""
    walk = SceneWalk()
    walk.content(scene.children, -1)
    return walk


@dataclasses.dataclass(frozen=True)
class OpPlan:
    """The op list as padded NumPy arrays (runs formed, classes applied):

      ops         int32 (K, 3)  [code, arg, blend]; DRAW's arg is a run index
      layer_run   int32 (L,)    the run of each layer (R for padding layers: dropped)
      run_end     bool (L,)     the layer is the last (topmost) of its run
      opacity     list of K leaves or None (the POPs' opacities)
      stack_depth int           stack images needed (the canvas's image included)
      num_runs    int           R, padded
      blend_modes tuple of str  'normal' and the other modes the POPs use, in
                                ``scene.BLEND_MODES`` order (only these are compiled)
    """
    ops: np.ndarray
    layer_run: np.ndarray
    run_end: np.ndarray
    opacity: list
    stack_depth: int
    num_runs: int
    blend_modes: tuple


def _power_class(n: int, minimum: int) -> int:
    return 1 << max(int(np.ceil(np.log2(max(n, minimum, 1)))), 0)


def plan_ops(walk: SceneWalk, num_layers: int) -> OpPlan:
    """Runs and padded arrays of ``walk``'s ops; ``num_layers`` is L, the padded layer
    count. Ops and runs are padded to powers of two (at least MIN_OPS, MIN_RUNS), the
    stack to a power of two of at least 4 images: coarse classes, as every combination
    of classes is a program."""
    ops, opacity, runs = [], [], []
    layer_run = np.full(num_layers, -1, np.int64)
    previous_draw = False
    for (code, arg, blend), opac in zip(walk.ops, walk.op_opacity):
        if code == OP_DRAW:
            if not previous_draw:            # a new run starts
                runs.append([])
                ops.append((OP_DRAW, len(runs) - 1, 0))
                opacity.append(None)
            runs[-1].append(arg)
            layer_run[arg] = len(runs) - 1
        else:
            ops.append((code, arg, blend))
            opacity.append(opac)
        previous_draw = code == OP_DRAW
    R = _power_class(len(runs), MIN_RUNS)
    K = _power_class(len(ops), MIN_OPS)
    layer_run[layer_run < 0] = R
    run_end = np.ones(num_layers, bool)
    run_end[:-1] = layer_run[1:] != layer_run[:-1]
    depth, deepest = 0, 0
    for code, _, _ in ops:
        depth += {OP_PUSH: 1, OP_POP: -1, OP_MASK_ALPHA: -1, OP_MASK_LUMINANCE: -1}.get(code, 0)
        deepest = max(deepest, depth)
    used = {blend for code, _, blend in ops if code == OP_POP}
    modes = tuple(m for k, m in enumerate(BLEND_MODES) if k == 0 or k in used)
    local = {BLEND_INDEX[m]: k for k, m in enumerate(modes)}
    out = np.zeros((K, 3), np.int32)
    out[:len(ops)] = [(code, arg, local[blend] if code == OP_POP else 0) for code, arg, blend in ops]
    return OpPlan(out, layer_run.astype(np.int32), run_end, opacity + [None] * (K - len(ops)),
                  _power_class(deepest + 1, MIN_STACK), R, modes)
