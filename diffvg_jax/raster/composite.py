"""Compositing: coverage layers -> premultiplied RGBA, back to front, in closed form.

Premultiplied "over" compositing of a list of layers, bottom first, has the closed form
sum_e S_e * prod_{m > e} (1 - alpha_m) (exclusive products of 1 - alpha). Two paths:

* :func:`composite` (dense): every layer's coverage float (L, H, W) over the whole canvas,
  from ``kernels.winding_integral``; handles sub-layers (group / shape opacity) with their
  clip coverage and mask values, and blend modes: the closed form holds for each run of
  'normal' entries; at a blended sub-layer the list so far is folded into one backdrop
  image and the sub-layer is blended onto it (:func:`.blend.blend_over`);
* :func:`composite_tiled`: a flat list of layers from ``kernels.tiled_winding``, where each
  16 x 16 tile composites only its own slots (depth x pixels of work).

Images are float (H, W, 4) premultiplied RGBA in canvas pixels.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.geometry import float_dtype
from diffvg_jax.kernels import fill_rule_coverage
from diffvg_jax.kernels.tiles import tile_image, untile

from .blend import blend_over
from .layers import ClipNode, Layers, MaskNode, Node, SubLayer

# Luminance weights of a luminance mask, applied to premultiplied sRGB (resvg / tiny-skia).
LUMINANCE = (0.2125, 0.7154, 0.0721)


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


def aliased_coverage(coverage, aliased):
    """float (L, H, W): ``coverage`` with the layers flagged in ``aliased`` (bool (L,), NumPy
    or traced, or None) replaced by 1 where their coverage is >= 1/2 and 0 elsewhere, no gradient.
    For a straight edge across a pixel this is exactly point sampling at the pixel centre
    (a half-plane covers at least half of the unit square iff it holds the centre); a
    centre on the edge counts as inside, as resvg's aliased fills."""
    if aliased is None or (isinstance(aliased, np.ndarray) and not aliased.any()):
        return coverage
    hard = (jax.lax.stop_gradient(coverage) >= 0.5 - 1e-4).astype(coverage.dtype)
    return jnp.where(jnp.asarray(aliased)[:, None, None], hard, coverage)


def composite(node: Node, layers: Layers, coverage, height, width):
    """float (H, W, 4) premultiplied RGBA of one compositing list, over transparent black.

    ``coverage``: float (L, H, W) in [0, 1], every layer's coverage of each pixel. A
    sub-layer with a blend mode is blended onto the composite of the entries below it.
    """
    blended = [k for k, e in enumerate(node.entries) if isinstance(e, SubLayer) and e.blend != "normal"]
    if not blended:
        return _composite_run(node.entries, layers, coverage, height, width)
    out, start = None, 0
    for k in blended + [len(node.entries)]:
        if k > start:   # a run of 'normal' entries, over what is below
            run = _composite_run(node.entries[start:k], layers, coverage, height, width)
            out = run if out is None else run + out * (1.0 - run[..., 3:4])
        if k < len(node.entries):
            source = _composite_sub(node.entries[k], layers, coverage, height, width)
            backdrop = jnp.zeros_like(source) if out is None else out
            out = blend_over(node.entries[k].blend, backdrop, source)
        start = k + 1
    return out


def _composite_run(entries, layers: Layers, coverage, height, width):
    """float (H, W, 4) premultiplied RGBA of a list of entries (blend modes ignored), over
    transparent black.

    "over" back to front has the closed form  sum_e S_e * prod_{m > e} (1 - alpha_e), so the
    transmittances come from one reverse cumulative product; solid-colour layers (the
    common case) then reduce to one contraction over layers.
    """
    dt = float_dtype()
    if not entries:
        return jnp.zeros((height, width, 4), dt)
    solid_pos = [k for k, e in enumerate(entries) if isinstance(e, int) and e not in layers.images]
    other_pos = [k for k in range(len(entries)) if k not in solid_pos]
    parts, terms = [], []
    if solid_pos:
        idx = np.array([entries[k] for k in solid_pos])
        a = _take(coverage, idx) * (layers.colour[idx, 3] * layers.alpha[idx])[:, None, None]
        parts.append(a)
    for k in other_pos:
        entry = entries[k]
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


def _composite_sub(sub: SubLayer, layers: Layers, coverage, height, width):
    """Premultiplied RGBA (H, W, 4) of a sub-layer: its node, times opacity, clip, mask."""
    img = composite(sub.node, layers, coverage, height, width)
    if sub.opacity is not None:
        img = img * sub.opacity
    factor = None
    if sub.clip is not None:
        factor = _clip_coverage(sub.clip, coverage)
    if sub.mask is not None:
        value = _mask_value(sub.mask, layers, coverage, height, width)
        factor = value if factor is None else factor * value
    return img if factor is None else img * factor[..., None]


def _clip_coverage(clip: ClipNode, coverage):
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


def _mask_value(mask: MaskNode, layers: Layers, coverage, height, width):
    """float (H, W): the mask content's luminance (or alpha), times region and inner mask."""
    img = composite(mask.node, layers, coverage, height, width)
    if mask.alpha:
        value = img[..., 3]
    else:
        value = img[..., :3] @ jnp.asarray(LUMINANCE, img.dtype)
    if mask.region is not None:
        value = value * coverage[mask.region]
    if mask.mask is not None:
        value = value * _mask_value(mask.mask, layers, coverage, height, width)
    return value


def composite_tiled(layers: Layers, winding, slot_layer, height, width):
    """Premultiplied RGBA (H, W, 4) of a flat list of layers from tiled winding integrals
    (the per-structure path: ``layers`` as :func:`.layers.collect_layers` builds them)."""
    num_layers = layers.evenodd.shape[0]
    if not layers.images:
        return composite_slots(jnp.asarray(layers.evenodd), layers.colour, layers.alpha, None, None, winding,
                               slot_layer, height, width)
    which = sorted(layers.images)
    index = np.full(num_layers, len(which), np.int32)
    index[which] = np.arange(len(which))
    images = jnp.stack([layers.images[k] for k in which])
    return composite_slots(jnp.asarray(layers.evenodd), layers.colour, layers.alpha, jnp.asarray(index), images,
                           winding, slot_layer, height, width)


def slot_paint(evenodd, colour, alpha, image_index, images):
    """The per-layer paint of a flat list of layers as :func:`shade_slots` reads it:
    (aux, params). Index L (one past the last layer) is an empty slot: alpha 0.

    evenodd bool (L,); colour float (L, 4) straight RGBA of solid paints (1s for others);
    alpha float (L,) opacity multipliers; image_index int32 (L,) and images float
    (I, H, W, 4) straight RGBA: each layer's paint raster (index I: a solid layer), or
    both None when every paint is solid.
    aux = (evenodd bool (L + 1,), raster index int32 (L + 1,) or None);
    params = (rgb float (L + 1, 3), scale float (L + 1,) = alpha x colour alpha,
    rasters float (I + 1, NT, T, T, 4) tiled, the last all ones, or None).
    """
    dt = colour.dtype
    eo = jnp.concatenate([evenodd, jnp.zeros((1,), bool)])
    colour = jnp.concatenate([colour, jnp.zeros((1, 4), dt)])
    scale = jnp.concatenate([alpha, jnp.zeros((1,), dt)]) * colour[:, 3]
    if images is None or images.shape[0] == 0:
        return (eo, None), (colour[:, :3], scale, None)
    tiled = jax.vmap(tile_image)(images)                                                  # (I, NT, T, T, 4)
    index = jnp.concatenate([image_index, jnp.full((1,), images.shape[0], jnp.int32)])
    return (eo, index), (colour[:, :3], scale, jnp.concatenate([tiled, jnp.ones_like(tiled[:1])]))


# Up to this many slots per call, "over" is written out slot by slot (one fused loop of
# elementwise work); beyond, a scan and a contraction (smaller programs). On fxemoji at
# 512 px the dot_general's operand transpose and the scan's steps were a third of the
# shading.
UNROLL_SLOTS = 16


def _over_unrolled(a, colour):
    """"Over" written out slot by slot, top slot first (``trans`` is the light above slot k)."""
    out = jnp.zeros(a.shape[1:] + (4,), a.dtype)
    trans = jnp.ones(a.shape[1:], a.dtype)
    for k in reversed(range(a.shape[0])):
        out = out + (a[k] * trans)[..., None] * colour[k]
        trans = trans * (1.0 - a[k])
    return out, trans


def _over_adjoint(a, q, g_trans):
    """(g_a float (K, B, T, T), the planes w_k = a_k trans_k float (B, T, T)) of "over",
    given the planes q_k = <g_out, colour_k> per pixel (K of them) and the transmittance's
    adjoint g_trans float (B, T, T).

    With trans_k the light above slot k and S_k the composite of the slots below it,
    d out / d a_k = trans_k (colour_k - S_k) and d prod(1 - a) / d a_k =
    -trans_k prod_{m<k} (1 - a_m); the running r_0 = g_trans, r_{k+1} = a_k q_k +
    (1 - a_k) r_k gives g_a[k] = trans_k (q_k - r_k). (Autodiff of the unrolled loop
    instead pads every slot's adjoint to all K slots, K^2 pads: most of fxemoji's gradient.)"""
    K = a.shape[0]
    trans, t = [None] * K, jnp.ones(a.shape[1:], a.dtype)
    for k in reversed(range(K)):
        trans[k], t = t, t * (1.0 - a[k])
    g_a, r = [], g_trans
    for k in range(K):
        g_a.append(trans[k] * (q[k] - r))
        r = a[k] * q[k] + (1.0 - a[k]) * r
    return jnp.stack(g_a), [a[k] * trans[k] for k in range(K)]


@jax.custom_vjp
def _over_solid(a, colour):
    """:func:`_over_unrolled` for one straight colour per slot, colour float (K, B, 4) (alpha 1)."""
    return _over_unrolled(a, colour[:, :, None, None, :])


def _over_solid_fwd(a, colour):
    return _over_solid(a, colour), (a, colour)


def _over_solid_bwd(res, g):
    """:func:`_over_adjoint`; q and the colour adjoints are contractions over the channel
    and pixel axes, with the tile axis leading (batch first: no operand transposes)."""
    a, colour = res
    g_out, g_trans = g
    K, B = a.shape[:2]
    g_out = g_out.reshape(B, -1, 4)
    q = jnp.einsum("bkc,bpc->bkp", jnp.swapaxes(colour, 0, 1), g_out).reshape((B, K) + a.shape[2:])
    g_a, w = _over_adjoint(a, [q[:, k] for k in range(K)], g_trans)
    w = jnp.stack(w, axis=1).reshape(B, K, -1)
    return g_a, jnp.swapaxes(jnp.einsum("bkp,bpc->bkc", w, g_out), 0, 1)


_over_solid.defvjp(_over_solid_fwd, _over_solid_bwd)


@jax.custom_vjp
def _over_pixels(a, colour):
    """:func:`_over_unrolled` for straight colours per pixel, colour float (K, B, T, T, 4)."""
    return _over_unrolled(a, colour)


def _over_pixels_fwd(a, colour):
    return _over_pixels(a, colour), (a, colour)


def _over_pixels_bwd(res, g):
    """:func:`_over_adjoint`, q summed over the four channels term by term (no reduction
    over the short channel axis)."""
    a, colour = res
    g_out, g_trans = g
    q = [sum(colour[k, ..., c] * g_out[..., c] for c in range(4)) for k in range(a.shape[0])]
    g_a, w = _over_adjoint(a, q, g_trans)
    return g_a, jnp.stack(w)[..., None] * g_out[None]


_over_pixels.defvjp(_over_pixels_fwd, _over_pixels_bwd)


def _over_slots(a, colour):
    """Slots composited with "over", bottom first: (colour float (B, T, T, 4) premultiplied,
    prod(1 - a) float (B, T, T)), for a float (K, B, T, T) and straight colours float
    (K, B, T, T, 4) or (K, B, 1, 1, 4) (alpha channel 1)."""
    if a.shape[0] <= UNROLL_SLOTS:
        if colour.shape[2:4] == (1, 1):
            return _over_solid(a, colour[:, :, 0, 0])
        return _over_pixels(a, colour)
    trans = _transmittance(a)
    w = a * trans
    if colour.shape[2:4] == (1, 1):
        # A dot_general: XLA:CPU's reductions over the leading (slot) axis were 2x slower.
        out = jnp.einsum("dtyx,dtc->tyxc", w, colour[:, :, 0, 0])
    else:
        out = jnp.sum(w[..., None] * colour, axis=0)
    return out, trans[0] * (1.0 - a[0])


def shade_slots(winding, slot_layer, tiles, aux, params):
    """A chunk of slots per tile composited over transparent black, bottom first, with the
    closed form of :func:`composite`: (colour float (B, T, T, 4) premultiplied RGBA,
    transmittance prod(1 - alpha) float (B, T, T)).

    winding float (K, B, T, T) and slot_layer int32 (K, B) for B tiles (their ids int32
    (B,) in ``tiles``: where raster paints are read), as ``tiled_winding`` or
    ``tiled_composite`` give them (layer L: an empty slot); aux, params from :func:`slot_paint`.
    """
    (eo, index), (rgb, scale, tiled) = aux, params
    # One path for both rules: even-odd folds the winding into [-1, 1], where nonzero's
    # min(|w|, 1) is the identity (fill_rule_coverage's two formulas, one VJP).
    folded = jnp.where(eo[slot_layer][..., None, None], winding - 2.0 * jnp.round(0.5 * winding), winding)
    a = fill_rule_coverage(folded, "nonzero") * scale[slot_layer][..., None, None]
    rgb = rgb[slot_layer][:, :, None, None, :]                                           # (K, B, 1, 1, 3)
    if tiled is None:  # solid paints only: one colour per slot
        return _over_slots(a, jnp.concatenate([rgb, jnp.ones_like(rgb[..., :1])], -1))
    # Layers with a paint raster multiply it in, tile by tile (solid layers and empty slots
    # read the all-ones raster).
    img = tiled[index[slot_layer], tiles[None, :]]                                        # (K, B, T, T, 4)
    return _over_slots(a * img[..., 3], jnp.concatenate([rgb * img[..., :3], jnp.ones_like(img[..., 3:])], -1))


def composite_slots(evenodd, colour, alpha, image_index, images, winding, slot_layer, height, width):
    """Premultiplied RGBA (H, W, 4) from tiled winding integrals of a flat list of layers.

    The paint arguments as :func:`slot_paint` takes them; winding float (D, NT, T, T) and
    slot_layer int32 (D, NT) as ``tiled_winding`` returns them: each tile composites only
    its own slots (:func:`shade_slots`).
    """
    aux, params = slot_paint(evenodd, colour, alpha, image_index, images)
    tiles = jnp.arange(slot_layer.shape[1], dtype=jnp.int32)
    return untile(shade_slots(winding, slot_layer, tiles, aux, params)[0], height, width)
