"""Shared pytest fixtures for the diffvg_jax test suite."""
import jax
import pytest


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
