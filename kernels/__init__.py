"""Coverage kernels, installed as ``diffvg_jax.kernels``.

``coverage`` holds the pure-XLA implementation: it is the CPU path and the reference that
every other implementation is tested against.
"""
from .coverage import winding_integral, pieces_needed, fill_rule_coverage

__all__ = ["winding_integral", "pieces_needed", "fill_rule_coverage"]
