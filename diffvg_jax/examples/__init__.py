"""Kept so that ``python -m diffvg_jax.examples.mnist_vae`` still runs; the application
lives in :mod:`diffvg_jax.apps.mnist_vae`."""
