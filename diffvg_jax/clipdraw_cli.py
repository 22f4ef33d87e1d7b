"""Kept so that ``python -m diffvg_jax.clipdraw_cli`` still runs ``diffvg-clipdraw``; the
command lives in :mod:`diffvg_jax.apps.clipdraw.cli` (``python -m diffvg_jax.apps.clipdraw``)."""
from diffvg_jax.apps.clipdraw.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
