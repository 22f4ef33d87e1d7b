"""``python -m diffvg_jax.apps.clipdraw``: the ``diffvg-clipdraw`` command."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
