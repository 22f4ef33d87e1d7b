"""``python -m diffvg_jax.apps.interpolate``: the ``diffvg-interpolate`` command."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
