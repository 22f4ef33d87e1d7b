"""Shared pytest fixtures for the diffvg_jax test suite."""
from diffvg_jax.runtime import prefer_fast_compilation

# Before any JAX computation: XLA:CPU's faster-compiling emitters (the suite is mostly
# compilation; subprocesses and notebook kernels inherit the setting through XLA_FLAGS).
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
