"""``python -m diffvg_jax.apps.mnist_vae``: the ``diffvg-mnist-vae`` command."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
