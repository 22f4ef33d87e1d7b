"""Float64 central finite differences of a scene loss, against its analytic gradient.

The check runs in a fresh interpreter with x64 on (switching x64 on in the test process
would leak into every other test): a test module defines a function that writes a report
with :func:`save_report`, and :func:`report_in_subprocess` runs it and reads it back.
"""
import os
import subprocess
import sys
import tempfile

import jax
import jax.numpy as jnp
import numpy as np


def finite_difference_report(scene, loss_fn, *, step=1e-5, keys=None):
    """{leaf key: (analytic gradient, central difference)} for the float leaves of ``scene``.

    Args:
      scene: a scene pytree with float64 leaves (call under ``jax.enable_x64``).
      loss_fn: scene -> scalar; jitted here.
      step: float, the central-difference step in the leaf's units.
      keys: optional set of ``jax.tree_util.keystr`` paths to check; None: every leaf.
    The bottom row of a (3, 3) affine matrix is not a parameter: its entries copy the
    analytic gradient (so they never count as errors).
    """
    loss = jax.jit(loss_fn)
    grads = jax.tree_util.tree_leaves(jax.jit(jax.grad(loss_fn))(scene))
    flat, treedef = jax.tree_util.tree_flatten_with_path(scene)
    leaves = [np.asarray(v) for _, v in flat]
    out = {}
    for k, (path, _) in enumerate(flat):
        key = jax.tree_util.keystr(path)
        if keys is not None and key not in keys:
            continue
        g = np.asarray(grads[k])
        out[key] = (g, central_difference(loss, leaves, treedef, k, step, g))
    return out


def central_difference(loss, leaves, treedef, k, step, grad):
    """float64 central difference of ``loss`` (jitted, scene -> scalar) w.r.t. leaf ``k``.

    Args:
      leaves: the scene's leaves as NumPy arrays; treedef: its structure.
      step: float, the step in the leaf's units.
      grad: the analytic gradient of leaf k; the bottom row of a (3, 3) affine matrix is
        not a parameter, so it is copied from there (never counted as an error).
    """
    fd = np.zeros_like(leaves[k])
    for idx in np.ndindex(leaves[k].shape):
        if leaves[k].shape == (3, 3) and idx[0] == 2:
            fd[idx] = grad[idx]
            continue
        vals = []
        for sign in (1.0, -1.0):
            pert = leaves[k].copy()
            pert[idx] += sign * step
            # jnp arrays: scene constructors turn NumPy leaves into float32.
            new = [jnp.asarray(v) for v in leaves]
            new[k] = jnp.asarray(pert)
            vals.append(float(loss(jax.tree_util.tree_unflatten(treedef, new))))
        fd[idx] = (vals[0] - vals[1]) / (2 * step)
    return fd


def median_relative_error(g, fd, floor):
    """Median over the parameter entries of |g - fd| / max(|fd|, floor) (float)."""
    mask = parameter_mask(fd)
    return float(np.median(np.abs(g[mask] - fd[mask]) / np.maximum(np.abs(fd[mask]), floor)))


def save_report(report, path):
    """Write a report (see :func:`finite_difference_report`) to an .npz file."""
    arrays = {"kinds": np.array(list(report))}
    for i, (g, fd) in enumerate(report.values()):
        arrays[f"g{i}"], arrays[f"fd{i}"] = g, fd
    np.savez(path, **arrays)


def report_in_subprocess(module, function):
    """Run ``module.function(path)`` (a test module anywhere under tests/) in a fresh interpreter
    and return the report it saved there."""
    tests_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    (path,) = [p for p, _, files in os.walk(tests_root) if f"{module}.py" in files]
    here = os.path.abspath(path)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "report.npz")
        code = (f"import sys; sys.path[:0] = [{here!r}, {tests_root!r}]; import {module} as t; "
                f"t.{function}({out!r})")
        subprocess.run([sys.executable, "-c", code], check=True, cwd=here)
        data = np.load(out, allow_pickle=False)
        return {str(k): (data[f"g{i}"], data[f"fd{i}"]) for i, k in enumerate(data["kinds"])}


def parameter_mask(fd):
    """bool mask of the entries that are parameters (not an affine matrix's bottom row)."""
    mask = np.ones(fd.shape, bool)
    if fd.shape == (3, 3):
        mask[2] = False
    return mask
