"""Shared pytest fixtures for the diffvg_jax test suite."""
import os

from diffvg_jax.runtime import prefer_fast_compilation

# Before any JAX computation: the suite is mostly compilation, so it compiles as fast as XLA
# can: the faster-compiling emitters users get from the command-line tools, and LLVM at -O0
# (renderer programs compile in half the time and run ~4x slower; the suite took 8.6 instead
# of 12.5 minutes). Optimisation changes rounding, to which results must not be sensitive
# (-O0 exposed a piece footprint that was); tests/runtime/test_optimised_build.py checks
# that the default build gives the same images and gradients. Subprocesses and notebook
# kernels inherit the setting through XLA_FLAGS; a user's own XLA_FLAGS wins.
TEST_XLA_FLAGS = "--xla_backend_optimization_level=0"
if "--xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + TEST_XLA_FLAGS).strip()
prefer_fast_compilation()

import jax  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def x64():
    """Run the test body with 64-bit JAX types (jax.enable_x64 context manager); restores the
    previous setting afterwards so other tests keep float32."""
    with jax.enable_x64(True):
        yield


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test module. Every XLA:CPU program keeps a
    few hundred memory mappings of machine code and a process may hold 65530: the whole
    suite in one process compiles more than that allows (it crashed inside XLA at ~90%).
    Modules that share programs reload them from the persistent compilation cache."""
    yield
    jax.clear_caches()
