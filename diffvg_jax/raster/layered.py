"""The layered pipeline: an encoding with sub-layers -> premultiplied RGBA, one program per class.

Scenes with group opacity, clips, masks, blend modes or aliased shapes cannot composite
tile by tile in one flat list, so this pipeline works on whole images:

  1. every layer's coverage over the whole canvas (``kernels.winding_integral``), the fill
     rule and aliasing applied per layer as data;
  2. each *run* (consecutive layers of one compositing list) composited "over" in closed
     form, sum_l S_l prod_{m > l in the run} (1 - alpha_m), for all runs at once: a reverse
     scan over layers that restarts at each run's top gives the products;
  3. the op list (:mod:`.compositing`) evaluated by a stack machine over images: a
     ``lax.scan`` over ops, each a ``lax.switch`` on its code, with a fixed stack of
     ``stack_depth`` images and the stack pointer as data.

Nothing here depends on the scene's structure beyond the capacity class (edges, layers,
paint rasters, ops, runs, stack depth) and the set of blend modes used (only those are
compiled: the 16 modes' gradients would double a class's compile time). Images are float (H, W, 4) premultiplied
RGBA in canvas pixels.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from diffvg_jax.kernels import fill_rule_coverage, winding_integral
from .blend import blend_over
from .composite import LUMINANCE, aliased_coverage
from .compositing import OP_CODES, OP_DRAW, OP_MASK_ALPHA, OP_MASK_LUMINANCE, OP_NOP, OP_POP, OP_PUSH


def layer_coverage(enc):
    """float (L, H, W) in [0, 1]: every layer's box-filtered coverage, fill rule applied,
    aliased layers (``shape_rendering``) thresholded at 1/2 with no gradient."""
    c = enc.compositing
    winding = winding_integral(enc.edges, enc.edge_layer, num_layers=enc.evenodd.shape[0], height=enc.height,
                               width=enc.width, max_pieces=enc.max_pieces)
    cov = jnp.where(enc.evenodd[:, None, None], fill_rule_coverage(winding, "evenodd"),
                    fill_rule_coverage(winding, "nonzero"))
    return aliased_coverage(cov, c.aliased)


def _run_transmittance(alpha, run_end):
    """float (L, H, W): prod over the layers above l *in l's run* of (1 - alpha_m).
    A reverse scan that restarts at each run's topmost layer (``run_end`` bool (L,))."""
    def step(carry, x):
        a, end = x
        carry = jnp.where(end, 1.0, carry)
        return carry * (1.0 - a), carry

    _, trans = jax.lax.scan(step, jnp.ones(alpha.shape[1:], alpha.dtype), (alpha, run_end), reverse=True)
    return trans


def run_images(enc, coverage):
    """float (R, H, W, 4) premultiplied RGBA of every run over transparent black."""
    c = enc.compositing
    dt = coverage.dtype
    runs = jax.nn.one_hot(c.layer_run, c.num_runs, dtype=dt)                       # (L, R); padding: 0
    a = coverage * (enc.alpha * enc.colour[:, 3])[:, None, None]
    if enc.images.shape[0] == 0:          # solid paints only: one colour per layer
        w = a * _run_transmittance(a, c.run_end)
        rgba = jnp.concatenate([enc.colour[:, :3], jnp.ones_like(enc.colour[:, :1])], -1)
        return jnp.einsum("lhw,lrc->rhwc", w, runs[:, :, None] * rgba[:, None, :])
    stack = jnp.concatenate([enc.images, jnp.ones_like(enc.images[:1])])
    img = stack[enc.image_index]                                                   # (L, H, W, 4)
    a = a * img[..., 3]
    w = a * _run_transmittance(a, c.run_end)
    src = jnp.concatenate([w[..., None] * enc.colour[:, None, None, :3] * img[..., :3], w[..., None]], -1)
    return jnp.einsum("lhwc,lr->rhwc", src, runs)


def _luminance(img):
    return img[..., :3] @ jnp.asarray(LUMINANCE, img.dtype)


def composite_ops(runs, ops, op_opacity, stack_depth: int, blend_modes: tuple):
    """float (H, W, 4) premultiplied RGBA: the op list evaluated over the run images.

    runs float (R, H, W, 4); ops int32 (K, 3) [code, arg, blend]; op_opacity float (K,);
    ``blend_modes``: the modes a POP's ``blend`` indexes ('normal' first).
    The stack holds ``stack_depth`` images; image 0 is the canvas. Under autodiff each
    step is rematerialised (``jax.checkpoint``): the residuals are the stack per op, not
    the intermediates of every branch of every blend mode.
    """
    height, width = runs.shape[1:3]
    dt = runs.dtype

    def blend(mode, backdrop, source):
        if len(blend_modes) == 1:
            return blend_over(blend_modes[0], backdrop, source)
        return jax.lax.switch(mode, [functools.partial(blend_over, m) for m in blend_modes], backdrop, source)

    def nop(stack, sp, arg, mode, opacity):
        return stack, sp

    def draw(stack, sp, arg, mode, opacity):
        run = runs[arg]
        return stack.at[sp].set(run + stack[sp] * (1.0 - run[..., 3:4])), sp

    def push(stack, sp, arg, mode, opacity):
        return stack.at[sp + 1].set(jnp.zeros((height, width, 4), dt)), sp + 1

    def pop(stack, sp, arg, mode, opacity):
        return stack.at[sp - 1].set(blend(mode, stack[sp - 1], stack[sp] * opacity)), sp - 1

    def mask_alpha(stack, sp, arg, mode, opacity):
        return stack.at[sp - 1].set(stack[sp - 1] * stack[sp][..., 3:4]), sp - 1

    def mask_luminance(stack, sp, arg, mode, opacity):
        return stack.at[sp - 1].set(stack[sp - 1] * _luminance(stack[sp])[..., None]), sp - 1

    branches = [None] * OP_CODES
    for code, fn in ((OP_NOP, nop), (OP_DRAW, draw), (OP_PUSH, push), (OP_POP, pop), (OP_MASK_ALPHA, mask_alpha),
                     (OP_MASK_LUMINANCE, mask_luminance)):
        branches[code] = fn

    @jax.checkpoint
    def step(carry, x):
        (code, arg, mode), opacity = x
        return jax.lax.switch(code, branches, *carry, arg, mode, opacity), None

    stack = jnp.zeros((stack_depth, height, width, 4), dt)
    (stack, _), _ = jax.lax.scan(step, (stack, jnp.zeros((), jnp.int32)), ((ops[:, 0], ops[:, 1], ops[:, 2]),
                                                                            op_opacity))
    return stack[0]


def render_layered(enc):
    """float (H, W, 4) premultiplied RGBA of a layered encoding over transparent black."""
    c = enc.compositing
    return composite_ops(run_images(enc, layer_coverage(enc)), c.ops, c.op_opacity, c.stack_depth, c.blend_modes)
