"""Shared pytest fixtures for the diffvg_jax test suite."""
import jax
import pytest


@pytest.fixture
def x64():
    """Run the test body with 64-bit JAX types (jax.enable_x64 context manager); restores the
    previous setting afterwards so other tests keep float32."""
    with jax.enable_x64(True):
        yield
