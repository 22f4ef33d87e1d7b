"""The compile-once route: scenes as data (dv.encode) and one pipeline program per class.

References: the per-structure renderer (``render_traced``, which compiles the scene's own
structure, tested against the oracle elsewhere) for images and gradients; JAX's compile log
for the number of compiled programs.
"""
import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax as dv
from diffvg_jax.raster import auto_budget, count_layers, render_traced
from diffvg_jax.raster.leaves import concrete_value

SIZE = 32


def random_flat_scene(seed, n_max=6, size=SIZE, strokes=True, gradients=True):
    """A flat scene of 1..n_max shapes of random kinds (fills, strokes, gradients, groups)."""
    rng = np.random.default_rng(seed)
    shapes = []
    for _ in range(int(rng.integers(1, n_max + 1))):
        kind = int(rng.integers(0, 6 if gradients else 5))
        fill = dv.Solid(color=rng.uniform(0.1, 1, 4))
        common = dict(fill=fill, fill_rule=["nonzero", "evenodd"][int(rng.integers(2))])
        if kind == 0:
            shapes.append(dv.Circle(center=rng.uniform(6, size - 6, 2), radius=float(rng.uniform(2, 9)), **common))
        elif kind == 1:
            shapes.append(dv.Ellipse(center=rng.uniform(6, size - 6, 2), radius=rng.uniform(2, 9, 2), **common))
        elif kind == 2:
            lo = rng.uniform(2, size / 2, 2)
            shapes.append(dv.Rect(p_min=lo, p_max=lo + rng.uniform(3, size / 2, 2),
                                  corner_radius=rng.uniform(0, 3, 2), **common))
        elif kind == 3:
            shapes.append(dv.Polygon(points=rng.uniform(1, size - 1, (int(rng.integers(3, 7)), 2)), **common))
        elif kind == 4:
            degrees = tuple(int(d) for d in rng.integers(1, 4, int(rng.integers(1, 5))))
            shapes.append(dv.Path(points=rng.uniform(1, size - 1, (sum(degrees), 2)), degrees=degrees, closed=True,
                                  **common))
        else:
            shapes.append(dv.Circle(center=rng.uniform(6, size - 6, 2), radius=float(rng.uniform(3, 9)),
                                    fill=dv.LinearGradient(start=[0.0, 0.0], end=[float(size), float(size)],
                                                           offsets=[0.0, 1.0],
                                                           colors=[[1, 0, 0, 1], [0, 0, 1, 0.5]])))
    if strokes:  # one open stroke of two cubics, the same stroke group in every scene
        shapes.append(dv.Path(points=rng.uniform(2, size - 2, (7, 2)), degrees=(3, 3), closed=False,
                              stroke=dv.Solid(color=rng.uniform(0.1, 1, 4)), stroke_width=float(rng.uniform(1, 3)),
                              line_cap="round", line_join="round"))
    split = int(rng.integers(0, len(shapes) + 1))
    tf = np.array([[1.0, 0.1, 1.0], [-0.05, 0.95, 0.5], [0, 0, 1]])
    children = tuple(shapes[:split]) + (dv.Group(children=tuple(shapes[split:]), transform=tf),)
    return dv.Scene(children=children, background=[1, 1, 1, 1])


def per_structure(scene, premultiplied=False):
    """A jitted function: a scene of ``scene``'s structure -> its image from the
    per-structure program, with the budgets counted on ``scene``."""
    pieces = auto_budget(dv.pieces_needed(scene, width=SIZE, height=SIZE))
    layers = max(count_layers(scene), 1)
    return jax.jit(lambda s: render_traced(s, SIZE, SIZE, premultiplied, pieces, 16, False, layers))


def assert_gradients_match(got, want, tol):
    """Every leaf of ``got`` finite and within ``tol`` x (1e-3 + its largest reference value)."""
    for (path, g), w in zip(jax.tree_util.tree_leaves_with_path(got), jax.tree_util.tree_leaves(want)):
        scale = 1e-3 + float(np.max(np.abs(w)))
        assert np.all(np.isfinite(np.asarray(g))), path
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), atol=tol * scale, err_msg=str(path))


class CompileLog(logging.Handler):
    """Collects JAX's 'Compiling <name> ...' log lines while installed."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.names = []

    def emit(self, record):
        message = record.getMessage()
        if message.startswith("Compiling "):
            self.names.append(message.split()[1])

    def __enter__(self):
        self.previous = jax.config.jax_log_compiles
        jax.config.update("jax_log_compiles", True)
        logging.getLogger("jax").addHandler(self)
        return self

    def __exit__(self, *exc):
        logging.getLogger("jax").removeHandler(self)
        jax.config.update("jax_log_compiles", self.previous)


@pytest.mark.parametrize("seed", range(3))
def test_encoded_route_matches_the_per_structure_program(seed):
    scene = random_flat_scene(seed)
    want = np.asarray(per_structure(scene)(scene))
    got = np.asarray(dv.render(dv.encode(scene, width=SIZE, height=SIZE)))
    np.testing.assert_allclose(got, want, atol=2e-5)
    np.testing.assert_allclose(np.asarray(dv.render(scene, width=SIZE, height=SIZE)), want, atol=2e-5)


@pytest.mark.parametrize("seed", [0])
def test_encoded_gradients_match_the_per_structure_program(seed):
    scene = random_flat_scene(seed + 10)
    weights = jnp.asarray(np.random.default_rng(seed).uniform(0, 1, (SIZE, SIZE, 4)), jnp.float32)
    reference = per_structure(scene, True)
    want = jax.grad(lambda s: jnp.sum(reference(s) * weights))(scene)
    got = jax.grad(lambda s: jnp.sum(dv.render(s, width=SIZE, height=SIZE, premultiplied=True) * weights))(scene)
    assert_gradients_match(got, want, 2e-4)


def test_twenty_structures_compile_the_pipeline_once():
    """Forward and gradient of 20 scenes of different structure in one capacity class: the
    pipeline compiles once for the forward pass and once for the gradient."""
    scenes, structures = [], set()
    for seed in range(100, 200):
        scene = random_flat_scene(seed, n_max=5, gradients=False)
        if jax.tree_util.tree_structure(scene) not in structures and len(scenes) < 20:
            structures.add(jax.tree_util.tree_structure(scene))
            scenes.append(scene)
    encodings = [dv.encode(s, width=SIZE, height=SIZE) for s in scenes]
    classes = {(e.capacity, e.max_pieces, e.max_depth) for e in encodings}
    assert len(classes) == 1, classes
    assert len(scenes) == 20
    dv.raster.clear_program_caches()
    with CompileLog() as log:
        for scene in scenes:
            dv.render(scene, width=SIZE, height=SIZE).block_until_ready()
            grads = jax.grad(lambda s: jnp.mean(dv.render(s, width=SIZE, height=SIZE)))(scene)
            jax.block_until_ready(grads)
    per_structure_programs = [n for n in log.names if "render_traced" in n]
    assert not per_structure_programs
    # forward, and the gradient's linearised forward and backward: for the pipeline, the
    # geometry (segments, transforms, fills, layer records) and the one stroke group
    for program in ("render_encoding_jit", "flat_geometry", "stroke_group_edges"):
        compiled = [n for n in log.names if program in n]
        assert 1 <= len(compiled) <= 3, (program, compiled)


def test_batch_of_different_structures_renders_with_one_vmap():
    scenes = [random_flat_scene(200 + i) for i in range(3)]
    batch = dv.encode_batch(scenes, width=SIZE, height=SIZE)
    images = jax.vmap(dv.render)(batch)
    assert images.shape == (3, SIZE, SIZE, 4)
    for scene, image in zip(scenes, images):
        np.testing.assert_allclose(np.asarray(image), np.asarray(per_structure(scene)(scene)), atol=2e-5)
    grads = jax.grad(lambda ss: jnp.sum(jax.vmap(dv.render)(dv.encode_batch(ss, width=SIZE, height=SIZE))))(scenes)
    assert len(grads) == 3 and all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree_util.tree_leaves(grads))


BLENDS = ("multiply", "screen", "darken", "difference", "hue", "luminosity")


def random_layered_scene(seed, size=SIZE, n_max=5, shapes_seed=None):
    """A scene with sub-layers: a random flat scene's shapes, some of them inside groups
    with opacity, a clip path (itself clipped, with a nested group), a mask (with a region
    and a mask of its own) or a blend mode; a shape with fill and stroke under one
    opacity; an aliased shape. ``shapes_seed`` (default ``seed``) draws the shapes."""
    rng = np.random.default_rng(seed)
    flat = random_flat_scene(seed if shapes_seed is None else shapes_seed, n_max=n_max, size=size)
    shapes = list(flat.children[:-1]) + list(flat.children[-1].children)

    def disc():
        return dv.Circle(center=rng.uniform(8, size - 8, 2), radius=float(rng.uniform(5, 12)),
                         fill_rule=["nonzero", "evenodd"][int(rng.integers(2))])

    clip = dv.ClipPath(children=(disc(), dv.Group(children=(disc(),), transform=[[1, 0, 2.0], [0, 1, -1.0], [0, 0, 1]])),
                       clip=dv.ClipPath(children=(dv.Rect(p_min=[2.0, 3.0], p_max=[size - 3.0, size - 2.0]),)))
    mask = dv.Mask(children=(dv.Rect(p_min=[0.0, 0.0], p_max=[float(size), size / 2],
                                     fill=dv.Solid(color=rng.uniform(0.3, 1, 4))), disc()),
                   region=[1.0, 2.0, size - 3.0, size - 2.0], mask_type=["luminance", "alpha"][int(rng.integers(2))],
                   mask=dv.Mask(children=(dv.Rect(p_min=[0.0, 0.0], p_max=[size / 2, float(size)], fill=dv.rgba(1, 1, 1, 0.8)),)))
    wrappers = [dict(opacity=float(rng.uniform(0.3, 0.9))), dict(clip=clip), dict(mask=mask),
                dict(blend_mode=BLENDS[int(rng.integers(len(BLENDS)))], opacity=float(rng.uniform(0.5, 1)))]
    children = []
    for k, shape in enumerate(shapes):
        wrap = wrappers[(k + seed) % len(wrappers)]
        children.append(dv.Group(children=(shape,), **wrap))
    # Rounded: at corner radius 0 the outline is not differentiable in the radius (the
    # corner's arcs degenerate), and gradients there differ between routes with rounding.
    both = dv.Rect(p_min=rng.uniform(2, 10, 2), p_max=rng.uniform(18, size - 2, 2), fill=dv.rgba(0.2, 0.4, 0.9, 0.9),
                   stroke=dv.rgba(0.9, 0.8, 0.1, 1), stroke_width=2.5, opacity=0.6, corner_radius=[1.5, 1.0])
    sharp = dv.Polygon(points=rng.uniform(2, size - 2, (4, 2)), fill=dv.rgba(0.1, 0.7, 0.3, 0.8),
                       shape_rendering="crispEdges")
    return dv.Scene(children=tuple(children) + (both, dv.Group(children=(sharp,), opacity=0.9)),
                    background=[1, 1, 1, 0.5])


@pytest.mark.parametrize("seed", range(4))
def test_layered_route_matches_the_per_structure_program(seed):
    scene = random_layered_scene(seed)
    enc = dv.encode(scene, width=SIZE, height=SIZE)
    assert enc.compositing is not None
    want = np.asarray(per_structure(scene)(scene))
    np.testing.assert_allclose(np.asarray(dv.render(enc)), want, atol=3e-5)
    np.testing.assert_allclose(np.asarray(dv.render(scene, width=SIZE, height=SIZE)), want, atol=3e-5)


def test_layered_gradients_match_the_per_structure_program():
    scene = random_layered_scene(7, n_max=3)
    weights = jnp.asarray(np.random.default_rng(1).uniform(0, 1, (SIZE, SIZE, 4)), jnp.float32)
    reference = per_structure(scene, True)
    want = jax.grad(lambda s: jnp.sum(reference(s) * weights))(scene)
    got = jax.grad(lambda s: jnp.sum(dv.render(s, width=SIZE, height=SIZE, premultiplied=True) * weights))(scene)
    assert_gradients_match(got, want, 3e-4)


def test_layered_structures_share_one_pipeline_program():
    """Scenes of different sub-layer structure (opacity groups, clips, masks, blend modes)
    in one class: the layered pipeline compiles once, forward and gradient."""
    classes, structures = {}, set()
    for seed in range(300, 340):   # one set of shapes, wrapped differently
        scene = random_layered_scene(seed, shapes_seed=300)
        if jax.tree_util.tree_structure(scene) in structures:
            continue
        structures.add(jax.tree_util.tree_structure(scene))
        enc = dv.encode(scene, width=SIZE, height=SIZE)
        classes.setdefault((enc.capacity, enc.max_pieces, enc.compositing.blend_modes), []).append(scene)
    scenes = max(classes.values(), key=len)[:6]
    assert len(scenes) >= 4
    dv.raster.clear_program_caches()
    with CompileLog() as log:
        for k, scene in enumerate(scenes):
            dv.render(scene, width=SIZE, height=SIZE).block_until_ready()
            if k % 2:   # gradients of three of them
                jax.block_until_ready(jax.grad(lambda s: jnp.mean(dv.render(s, width=SIZE, height=SIZE)))(scene))
    assert not [n for n in log.names if "render_traced" in n]
    compiled = [n for n in log.names if "render_encoding_jit" in n]
    assert 1 <= len(compiled) <= 3, compiled


def test_batch_of_flat_and_layered_scenes_renders_with_one_vmap():
    scenes = [random_flat_scene(210), random_layered_scene(211), random_layered_scene(212)]
    batch = dv.encode_batch(scenes, width=SIZE, height=SIZE)
    images = jax.vmap(dv.render)(batch)
    for scene, image in zip(scenes, images):
        np.testing.assert_allclose(np.asarray(image), np.asarray(per_structure(scene)(scene)), atol=3e-5)


def test_encoding_validates_its_canvas():
    enc = dv.encode(random_flat_scene(1), width=SIZE, height=SIZE)
    with pytest.raises(ValueError, match="width=16"):
        dv.render(enc, width=16)
    with pytest.raises(ValueError, match="one canvas size"):
        dv.encode_batch([dv.Scene(children=(), width=8, height=8), dv.Scene(children=(), width=9, height=9)])


def test_concrete_values_are_seen_under_eager_autodiff_only():
    x = jnp.arange(3.0)
    seen = {}

    def f(v, key):
        seen[key] = concrete_value(v)
        return jnp.sum(v ** 2)

    jax.grad(lambda v: f(v, "grad"))(x)
    jax.jit(lambda v: f(v, "jit"))(x)
    jax.vmap(lambda v: f(v, "vmap"))(x[None])
    np.testing.assert_array_equal(np.asarray(seen["grad"]), np.asarray(x))
    assert seen["jit"] is None and seen["vmap"] is None


def test_empty_and_degenerate_scenes_encode_with_finite_gradients():
    scenes = [
        dv.Scene(children=(), background=[0.2, 0.3, 0.4, 1.0]),
        dv.Scene(children=(dv.Path(points=np.full((4, 2), 5.0), degrees=(3,), closed=False,
                                   stroke=dv.rgba(0, 0, 0, 1), stroke_width=0.0),
                           dv.Circle(center=[3.0, 3.0], radius=0.0, fill=dv.rgba(1, 0, 0, 1))),
                 background=[1, 1, 1, 1]),
    ]
    for scene in scenes:
        image = dv.render(dv.encode(scene, width=8, height=8))
        np.testing.assert_allclose(np.asarray(image)[..., :3], np.broadcast_to(np.asarray(scene.background[:3]),
                                   (8, 8, 3)), atol=1e-5)
        grads = jax.grad(lambda s: jnp.sum(dv.render(s, width=8, height=8)))(scene)
        assert all(np.all(np.isfinite(np.asarray(g))) for g in jax.tree_util.tree_leaves(grads))


def test_miter_limit_and_segment_count_are_data_for_the_stroke_program():
    """Two polylines of 3 and 4 segments with a sharp turn: a miter limit of 10 draws the
    tip, 1 a bevel. Both are one stroke program (the limit is data, the counts share a
    class), and each image equals the per-structure renderer's, which compiles each."""
    def scene(limit, n):
        pts = np.array([[4.0, 26.0], [16.0, 6.0], [28.0, 26.0], [28.0, 28.0], [20.0, 28.0]])[:n + 1]
        return dv.Scene(children=(dv.Polyline(points=pts, stroke=dv.rgba(0, 0, 0.8, 1), stroke_width=3.0,
                                              line_join="miter", miter_limit=limit),), background=[1, 1, 1, 1])
    scenes = [scene(10.0, 3), scene(1.0, 3), scene(10.0, 4)]
    dv.raster.clear_program_caches()
    with CompileLog() as log:
        images = [np.asarray(dv.render(s, width=SIZE, height=SIZE)) for s in scenes]
    assert len([n for n in log.names if "stroke_group_edges" in n]) == 1, log.names
    for s, image in zip(scenes, images):
        np.testing.assert_allclose(image, np.asarray(per_structure(s)(s)), atol=2e-5)
    tip = (slice(1, 5), slice(14, 19))         # above the apex at (16, 6): only the miter reaches it
    assert np.min(images[0][tip][..., 0]) < 0.5 < np.min(images[1][tip][..., 0])


def test_rare_long_subpaths_share_a_stroke_program():
    """Closed strokes of 70, 40, 12 and (six times) 3 segments: four segment classes (128,
    64, 16, 4). The 40-segment outline fits the 128-segment group's padding and the short
    ones fit the 16-segment group's, so two outline programs compile instead of four, and
    the image equals the per-structure renderer's (which pads nothing)."""
    rng = np.random.default_rng(3)

    def ring(n, centre, radius):
        t = np.sort(rng.uniform(0, 2 * np.pi, n))
        r = radius * rng.uniform(0.7, 1.0, n)
        return np.stack([centre[0] + r * np.cos(t), centre[1] + r * np.sin(t)], axis=1)

    sizes = [70, 40, 12] + [3] * 6
    shapes = tuple(dv.Polygon(points=ring(n, rng.uniform(8, SIZE - 8, 2), float(rng.uniform(3, 8))),
                              stroke=dv.Solid(color=rng.uniform(0.1, 1, 4)), stroke_width=float(rng.uniform(0.5, 2)),
                              line_join="miter") for n in sizes)
    scene = dv.Scene(children=shapes, background=[1, 1, 1, 1])
    dv.raster.clear_program_caches()
    with CompileLog() as log:
        image = np.asarray(dv.render(scene, width=SIZE, height=SIZE))
    assert len([n for n in log.names if "stroke_group_edges" in n]) == 2, log.names
    np.testing.assert_allclose(image, np.asarray(per_structure(scene)(scene)), atol=2e-5)



def _quad(x, transform=None):
    """A quadrilateral around (x, 10): straight edges, so no flattening depends on the matrices."""
    pts = np.array([[x - 3.0, 7.0], [x + 2.5, 7.5], [x + 3.0, 13.0], [x - 2.0, 12.5]])
    kw = {} if transform is None else dict(transform=transform)
    return dv.Polygon(points=pts, fill=dv.Solid(color=np.array([0.2, 0.5, 0.9, 0.8])), **kw)


SIBLING = np.diag([1.1, 0.9, 1.0])


def _nested_groups(mats, leaf_offsets):
    """Groups nested len(mats) deep (matrix k at depth k); a quad at each depth listed in
    ``leaf_offsets`` plus a sibling group beside the chain at depth 1."""
    node = None
    for depth in range(len(mats) - 1, -1, -1):
        children = ([node] if node is not None else []) + ([_quad(leaf_offsets[depth])] if depth in leaf_offsets else [])
        if depth == 1:
            children.append(dv.Group(children=(_quad(4.0),), transform=SIBLING))
        node = dv.Group(children=tuple(children), transform=mats[depth])
    return dv.Scene(children=(node,))


def test_deeply_nested_group_transforms_compose_in_order():
    """Frames are composed by pointer jumping (log2 steps over the frame table): shapes at
    every depth of a 7-deep chain, and a sibling branch, must be drawn exactly as the same
    shapes with their composed matrices (NumPy products, root first) on themselves; the
    gradient in a middle group's matrix must match central differences."""
    rng = np.random.default_rng(3)
    mats = []
    for _ in range(7):
        a = np.eye(3) + np.pad(rng.uniform(-0.15, 0.15, (2, 2)), ((0, 1), (0, 1)))
        a[:2, 2] = rng.uniform(-1.5, 1.5, 2)
        mats.append(a)
    leaf_offsets = {0: 6.0, 2: 12.0, 4: 18.0, 6: 24.0}
    composed = {depth: _quad(x, np.linalg.multi_dot([np.eye(3)] + mats[:depth + 1] + [np.eye(3)]))
                for depth, x in leaf_offsets.items()}
    composed["sibling"] = _quad(4.0, mats[0] @ mats[1] @ SIBLING)
    # Document order: the deepest shape first, the sibling after depth 2's, depth 0's last.
    flat = dv.Scene(children=tuple(composed[k] for k in (6, 4, 2, "sibling", 0)))
    # Premultiplied: straight colour divides by alpha, which magnifies float noise where
    # an edge barely touches a pixel.
    want = dv.render(flat, width=SIZE, height=SIZE, premultiplied=True)
    got = dv.render(_nested_groups(mats, leaf_offsets), width=SIZE, height=SIZE, premultiplied=True)
    assert float(want[..., 3].sum()) > 50.0
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=2e-5)

    weights = jnp.asarray(rng.normal(size=(SIZE, SIZE, 4)), jnp.float32)

    def loss(m3):
        scene = _nested_groups(mats[:3] + [m3] + mats[4:], leaf_offsets)
        return jnp.sum(dv.render(scene, width=SIZE, height=SIZE, premultiplied=True) * weights)

    g = np.asarray(jax.grad(loss)(jnp.asarray(mats[3], jnp.float32)))
    eps = 2e-3   # moves a vertex by < 0.1 px: the coverage is close to linear over that
    for (i, j) in [(0, 0), (0, 2), (1, 1), (1, 2)]:
        d = np.zeros((3, 3))
        d[i, j] = eps
        fd = (float(loss(jnp.asarray(mats[3] + d, jnp.float32)))
              - float(loss(jnp.asarray(mats[3] - d, jnp.float32)))) / (2 * eps)
        assert abs(g[i, j] - fd) <= 0.03 * abs(fd) + 0.1, (i, j, g[i, j], fd)
    assert np.abs(g[:2]).max() > 0.5
