"""The suite compiles at LLVM -O0 (tests/conftest.py); users run LLVM's default optimisation.
The same scenes' images and gradients from a process at the default level must match this
process's to float32 rounding, so that every other test speaks for the optimised build too."""
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

import diffvg_jax as dv
from diffvg_jax.runtime import FAST_COMPILE_FLAGS

PROGRAM = """
import sys
import numpy as np, jax, jax.numpy as jnp
sys.path.insert(0, sys.argv[2])
from test_optimised_build import image_and_gradient
image, grads = image_and_gradient()
np.savez(sys.argv[1], image=image, **grads)
"""
SIZE = 40


def _scene():
    """A flat scene (the tiled pipeline) with a fill, a gradient paint and a joined stroke, and
    a layered one (group opacity and a clip: the dense pipeline), as one list."""
    blob = dv.Path(points=np.array([[4, 5], [20, 1], [37, 12], [30, 36], [12, 30], [2, 22]], np.float32),
                   degrees=(3, 3), closed=True, fill=dv.rgba(0.9, 0.2, 0.1, 0.8))
    stroke = dv.Path(points=np.array([[3, 30], [15, 8], [25, 35], [37, 6]], np.float32), closed=False,
                     stroke=dv.rgba(0.1, 0.3, 0.9, 1.0), stroke_width=2.5, line_join="round", line_cap="square")
    disc = dv.Circle(center=(21.0, 19.0), radius=9.5,
                     fill=dv.LinearGradient(start=[0.0, 0.0], end=[40.0, 40.0], offsets=[0.0, 1.0],
                                            colors=[[1, 0, 0, 1], [0, 0, 1, 0.5]]))
    flat = dv.Scene(children=(blob, disc, stroke))
    clip = dv.ClipPath(children=(dv.Rect(p_min=[6.3, 5.1], p_max=[33.2, 29.7], corner_radius=[4.0, 4.0]),))
    layered = dv.Scene(children=(dv.Group(children=(blob, stroke), opacity=0.6, clip=clip), disc))
    return flat, layered


def image_and_gradient():
    """(images float (2, SIZE, SIZE, 4), {name: gradient}) of both scenes of ``_scene``."""
    weights = jnp.asarray(np.random.default_rng(3).uniform(0, 1, (SIZE, SIZE, 4)), jnp.float32)
    images, grads = [], {}
    for k, scene in enumerate(_scene()):
        loss = lambda s: jnp.sum(dv.render(s, width=SIZE, height=SIZE, premultiplied=True) * weights)
        images.append(np.asarray(dv.render(scene, width=SIZE, height=SIZE, premultiplied=True)))
        for path, g in jax.tree_util.tree_leaves_with_path(jax.grad(loss)(scene)):
            grads[f"{k}{jax.tree_util.keystr(path)}"] = np.asarray(g)
    return np.stack(images), grads


def test_default_build_gives_the_suites_images_and_gradients(tmp_path):
    # LLVM's default optimisation (the emitters as the suite and the command-line tools set them).
    env = dict(os.environ, XLA_FLAGS=" ".join(FAST_COMPILE_FLAGS))
    env.pop("JAX_COMPILATION_CACHE_DIR", None)    # compiled here, not loaded from the suite's -O0 cache
    out = tmp_path / "default.npz"
    subprocess.run([sys.executable, "-c", PROGRAM, str(out), os.path.dirname(__file__)], env=env, check=True)
    assert "--xla_backend_optimization_level=0" in os.environ.get("XLA_FLAGS", "")   # this process: -O0
    image, grads = image_and_gradient()
    default = np.load(out)
    assert np.abs(image[..., 3]).max() > 0.5
    np.testing.assert_allclose(default["image"], image, atol=2e-5)
    assert set(default.files) == set(grads) | {"image"}
    for name, g in grads.items():
        assert np.all(np.isfinite(g)), name
        np.testing.assert_allclose(default[name], g, atol=1e-3 * (1e-3 + np.abs(g).max()), err_msg=name)
