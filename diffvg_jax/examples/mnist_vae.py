"""Kept so that ``python -m diffvg_jax.examples.mnist_vae`` still runs ``diffvg-mnist-vae``;
the application lives in :mod:`diffvg_jax.apps.mnist_vae` (``python -m diffvg_jax.apps.mnist_vae``)."""
from diffvg_jax.apps.mnist_vae.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
